// Referrals: the shop's referrals with their status (and the reason of a rejection), and
// the totals: friends invited, completed, points paid, revenue of referred orders
// (GET /api/referrals?status=); and the patterns worth a look (GET /api/referrals/patterns).
import { api, badge, byId, fillTable, formatDate, formatMoney, formatPoints, h, panelUrl, showBanner } from "./panel.js";

const TONES = { completed: "success", rejected: "critical", code_issued: "info" };
const WORDS = { completed: "Completed", rejected: "Rejected", code_issued: "Code issued" };

function statusCell(referral) {
  const words = referral.reversed_at ? "Completed, order cancelled" : WORDS[referral.status] ?? referral.status;
  return h("td", {}, badge(words, TONES[referral.status]),
    referral.reason ? h("div", { class: "text-subdued" }, referral.reason) : null);
}

const storeHandle = document.body.dataset.storeHandle;

/** The friend's order in the store admin (the admin is the top window; this page is its iframe). */
function orderLink(orderId) {
  if (!orderId) return "—";
  const href = `https://admin.shopify.com/store/${encodeURIComponent(storeHandle)}/orders/${encodeURIComponent(orderId)}`;
  return h("a", { href, target: "_top", rel: "noopener" }, `Order ${orderId}`);
}

function row(referral) {
  // By name (else email, else customer id), linked to the referrer's member page.
  const referrer = h("a", { href: panelUrl(`/members/${encodeURIComponent(referral.referrer_customer_id)}`),
    "data-panel-link": true, class: "link-strong" }, referral.referrer_name || `Customer ${referral.referrer_customer_id}`);
  return h("tr", { "data-referral-id": referral.id },
    h("td", { class: "date" }, formatDate(referral.created_at)),
    h("td", {}, referrer),
    h("td", {}, referral.friend_email),
    h("td", {}, h("code", {}, referral.code)),
    statusCell(referral),
    h("td", { class: "id" }, orderLink(referral.order_id)),
    h("td", { class: "num" }, formatPoints(referral.points)));
}


function showTotals(totals) {
  for (const [key, value] of Object.entries(totals)) {
    const slot = document.querySelector(`[data-total="${key}"] [data-value]`);
    if (slot) slot.textContent = key === "revenue" ? formatMoney(value) : formatPoints(value);
  }
  byId("totals").setAttribute("aria-busy", "false");
}

async function load() {
  const status = byId("status").value;
  const { ok, status: http, data } = await api(`/api/referrals${status ? `?status=${encodeURIComponent(status)}` : ""}`);
  if (!ok) {
    if (http !== 401) showBanner("critical", "Referrals unavailable", data?.error ?? `HTTP ${http}`);
    return;
  }
  fillTable(byId("referrals"), data.referrals.map(row), byId("referrals-empty"));
  showTotals(data.totals);
  document.body.dataset.loaded = `referrals:${data.referrals.length}`;
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/** One sentence per pattern, saying who and how many, for a merchant to look into. */
function patternItems(patterns) {
  const items = [];
  for (const p of patterns.addresses) {
    items.push(`${plural(p.friends, "friend", "friends")} invited from one shopper's address (${p.address}) ` +
      `through ${p.referrers.join(", ")}; ${p.used} used their code.`);
  }
  for (const p of patterns.unused_codes) {
    items.push(`${p.referrer_name}'s link made ${plural(p.unused, "code", "codes")} that nobody used in two weeks.`);
  }
  for (const p of patterns.shared_marks) {
    items.push(`${plural(p.friends, "friend", "friends")} of ${p.referrers.join(", ")} ordered with the same ${p.kind}.`);
  }
  return items.map((text) => h("li", { "data-pattern": true }, text));
}

async function loadPatterns() {
  const { ok, data } = await api("/api/referrals/patterns");
  if (!ok) return;
  const items = patternItems(data);
  byId("pattern-list").replaceChildren(...items);
  byId("patterns-empty").hidden = items.length > 0;
  byId("patterns").setAttribute("aria-busy", "false");
  document.body.dataset.patterns = String(items.length);
}

byId("refresh").addEventListener("click", () => { load(); loadPatterns(); });
loadPatterns();
byId("status").addEventListener("change", load);
load();
