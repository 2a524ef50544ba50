// At risk: the win-back list (GET /api/at-risk), sorted by a column header, filtered by status,
// a page at a time, and the whole list as CSV (fetched with the session token, then saved).
import {
  api, badge, byId, clearBanners, fillTable, formatPoints, h, panelUrl, sessionToken, showBanner,
} from "./panel.js";

const STATUS = { at_risk: ["At risk", "attention"], lapsed: ["Lapsed", "critical"], active: ["Active", "success"] };
const state = { status: "all", sort: "balance", direction: "desc", page: 1 };

function displayName(member) {
  const name = [member.first_name, member.last_name].filter(Boolean).join(" ");
  return name || member.email || `Customer ${member.customer_id}`;
}

function row(member) {
  const href = panelUrl(`/members/${encodeURIComponent(member.customer_id)}`);
  const [words, tone] = STATUS[member.status] ?? [member.status, ""];
  return h("tr", { "data-customer-id": member.customer_id },
    h("td", {}, h("a", { href, "data-panel-link": true, class: "link-strong" }, displayName(member))),
    h("td", {}, member.email ?? "—"),
    h("td", { class: "num" }, formatPoints(member.balance)),
    h("td", { class: "num", title: `Last order on ${member.last_order_on}` },
      formatPoints(member.days_since_last_order)),
    h("td", { class: "num" }, formatPoints(member.usual_gap_days)),
    h("td", {}, badge(words, tone)));
}

function query(extra = {}) {
  return new URLSearchParams({ status: state.status, sort: state.sort, direction: state.direction, ...extra });
}

function showSort() {
  for (const button of document.querySelectorAll("button.sort")) {
    const th = button.closest("th");
    th.setAttribute("aria-sort", button.dataset.sort !== state.sort ? "none"
      : state.direction === "desc" ? "descending" : "ascending");
  }
}

async function load() {
  const { ok, status, data } = await api(`/api/at-risk?${query({ page: String(state.page) })}`);
  if (!ok) {
    if (status !== 401) showBanner("critical", "At-risk list unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  clearBanners();
  fillTable(byId("at-risk"), data.members.map(row), byId("at-risk-empty"));
  const first = data.total === 0 ? 0 : (data.page - 1) * data.per_page + 1;
  const last = (data.page - 1) * data.per_page + data.members.length;
  const plural = data.total === 1 ? "" : "s";
  byId("at-risk-count").textContent = `${first}–${last} of ${formatPoints(data.total)} member${plural}`;
  byId("previous").disabled = data.page <= 1;
  byId("next").disabled = last >= data.total;
  showSort();
  // what tests wait for
  document.body.dataset.loaded = `at-risk:${state.status}:${state.sort}:${state.direction}:${state.page}`;
}

async function downloadCsv() {
  const response = await fetch(`/api/at-risk?${query({ format: "csv" })}`,
    { headers: { Authorization: `Bearer ${await sessionToken()}` } });
  if (!response.ok) {
    showBanner("critical", "No CSV", `The list could not be downloaded (HTTP ${response.status}).`);
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "at-risk.csv";
  const link = h("a", { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

for (const button of document.querySelectorAll("button.sort")) {
  button.addEventListener("click", () => {
    const same = state.sort === button.dataset.sort;
    // A new column starts with its most useful end first: names A to Z, figures biggest first.
    const first = button.dataset.sort === "name" ? "asc" : "desc";
    state.direction = same ? (state.direction === "desc" ? "asc" : "desc") : first;
    state.sort = button.dataset.sort;
    state.page = 1;
    load();
  });
}
byId("status").addEventListener("change", () => {
  state.status = byId("status").value;
  state.page = 1;
  load();
});
byId("filter").addEventListener("submit", (event) => event.preventDefault());
byId("previous").addEventListener("click", () => { state.page -= 1; load(); });
byId("next").addEventListener("click", () => { state.page += 1; load(); });
byId("download-csv").addEventListener("click", downloadCsv);
load();
