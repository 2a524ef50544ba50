// Members: search by email, name or customer id (GET /api/members), a page at a time, sorted
// and filtered (tier, pending points, at risk of churning: docs/at-risk.md) by the API.
import { api, byId, fillTable, formatDate, formatPoints, h, panelUrl, showBanner } from "./panel.js";

const form = byId("search");
const state = { query: new URLSearchParams(window.location.search).get("query") || "", page: 1, tier: "", sort: "newest",
  pending: false, atRisk: new URLSearchParams(window.location.search).get("at_risk") === "1" };

function displayName(member) {
  const name = [member.first_name, member.last_name].filter(Boolean).join(" ");
  return name || member.email || `Customer ${member.customer_id}`;
}

function row(member) {
  const href = panelUrl(`/members/${encodeURIComponent(member.customer_id)}`);
  return h("tr", { "data-customer-id": member.customer_id },
    h("td", {}, h("a", { href, "data-panel-link": true, class: "link-strong" }, displayName(member))),
    h("td", {}, member.email ?? "—"),
    h("td", { class: "num" }, formatPoints(member.balance)),
    h("td", { class: "num" }, formatPoints(member.lifetime_earned)),
    h("td", {}, member.tier?.name ?? "—"),
    h("td", {}, formatDate(member.created_at, { time: false })));
}

async function load() {
  const query = new URLSearchParams({ query: state.query, page: String(state.page) });
  if (state.tier) query.set("tier", state.tier);
  if (state.sort !== "newest") query.set("sort", state.sort);
  if (state.pending) query.set("pending", "1");
  if (state.atRisk) query.set("at_risk", "1");
  const { ok, status, data } = await api(`/api/members?${query}`);
  if (!ok) {
    if (status !== 401) showBanner("critical", "Members unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  fillTable(byId("members"), data.members.map(row), byId("members-empty"));
  const first = data.total === 0 ? 0 : (data.page - 1) * data.per_page + 1;
  const last = (data.page - 1) * data.per_page + data.members.length;
  byId("members-count").textContent = `${first}–${last} of ${formatPoints(data.total)} member${data.total === 1 ? "" : "s"}`;
  byId("previous").disabled = data.page <= 1;
  byId("next").disabled = last >= data.total;
  document.body.dataset.loaded = `members:${state.query}:${state.page}`;
  // what tests wait for
  document.body.dataset.listed = `${state.sort}${state.pending ? ":pending" : ""}${state.atRisk ? ":at_risk" : ""}`;
}

form.elements.query.value = state.query;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  state.query = form.elements.query.value.trim();
  state.page = 1;
  const url = new URL(window.location.href);
  if (state.query) url.searchParams.set("query", state.query);
  else url.searchParams.delete("query");
  window.history.replaceState(null, "", url);
  load();
});
/** The tier filter, offered once the shop has tiers (GET /api/tiers). */
async function loadTiers() {
  const { ok, data } = await api("/api/tiers");
  if (!ok || !data.tiers.length) return;
  form.elements.tier.append(...data.tiers.map((tier) => h("option", { value: tier.id }, tier.name)));
  form.elements.tier.hidden = false;
}

form.elements.tier.addEventListener("change", () => {
  state.tier = form.elements.tier.value;
  state.page = 1;
  load();
});
form.elements.sort.addEventListener("change", () => {
  state.sort = form.elements.sort.value;
  state.page = 1;
  load();
});
form.elements.pending.addEventListener("change", () => {
  state.pending = form.elements.pending.checked;
  state.page = 1;
  load();
});
form.elements.at_risk.checked = state.atRisk;
form.elements.at_risk.addEventListener("change", () => {
  state.atRisk = form.elements.at_risk.checked;
  state.page = 1;
  load();
});
byId("previous").addEventListener("click", () => { state.page -= 1; load(); });
byId("next").addEventListener("click", () => { state.page += 1; load(); });

loadTiers();
load();
