// Program performance, from GET /api/reports/performance (members against other customers,
// rates, before/after joining) and GET /api/reports/cohorts (the retention heat table).
import { api, byId, clearBanners, fillTable, formatMoney, formatPoints, h, showBanner } from "./panel.js";

const form = byId("period");
const GROUP_LABELS = { members: "Members", non_members: "Other customers" };

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}

// Rates travel as decimal strings holding a fraction ("0.25" is 25 %).
function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  return `${(Number(rate) * 100).toFixed(1)} %`;
}

function money(amount, currency) {
  return amount === null || amount === undefined ? "—" : formatMoney(amount, currency || "");
}

function number(value) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(2);
}

function setCard(key, value, note) {
  const card = document.querySelector(`[data-stat="${key}"]`);
  card.querySelector("[data-value]").textContent = value;
  card.querySelector("[data-note]").textContent = note;
}

function renderPerformance(report) {
  const { currency } = report;
  byId("period-label").textContent = `${report.from} to ${report.to} (${report.zone})`;
  fillTable(byId("groups"), [
    ...Object.entries(GROUP_LABELS).map(([key, label]) => {
      const group = report.groups[key];
      return h("tr", { "data-group": key }, h("td", {}, label), h("td", { class: "num" }, formatPoints(group.customers)),
        h("td", { class: "num" }, formatPoints(group.orders)), h("td", { class: "num" }, money(group.revenue, currency)),
        h("td", { class: "num" }, percent(group.repeat_purchase_rate)),
        h("td", { class: "num" }, money(group.average_order_value, currency)),
        h("td", { class: "num" }, number(group.orders_per_customer)),
        h("td", { class: "num" }, money(group.revenue_per_customer, currency)));
    }),
    h("tr", { "data-group": "guests" }, h("td", {}, "Guests"), h("td", { class: "num" }, "—"),
      h("td", { class: "num" }, formatPoints(report.guests.orders)), h("td", { class: "num" }, money(report.guests.revenue, currency)),
      ...Array.from({ length: 4 }, () => h("td", { class: "num" }, "—"))),
  ]);
  setCard("reward_revenue", money(report.reward_revenue, currency), `Of ${money(report.revenue, currency)} from all paid orders`);
  setCard("redemption_rate", percent(report.redemption_rate),
    `${formatPoints(report.points_redeemed)} of ${formatPoints(report.points_issued)} points issued were redeemed`);
  setCard("order_earning_rate", percent(report.order_earning_rate), `Of ${formatPoints(report.orders)} paid orders, share that earned points`);
  setCard("reward_usage_rate", percent(report.reward_usage_rate),
    `${formatPoints(report.codes_used)} of ${formatPoints(report.codes_issued)} codes issued were used`);
  setCard("membership_rate", percent(report.membership_rate), "Of customers who ordered, share who are members");
  const { members, non_members: others } = report.groups;
  const headline = byId("headline");
  headline.hidden = members.repeat_purchase_rate === null || others.repeat_purchase_rate === null;
  headline.textContent = `Members bought again at ${percent(members.repeat_purchase_rate)}, other customers at ` +
    `${percent(others.repeat_purchase_rate)}; members spent ${money(members.revenue_per_customer, currency)} each, ` +
    `others ${money(others.revenue_per_customer, currency)}.`;
  const enrolment = report.enrolment;
  fillTable(byId("enrolment"), ["before", "after"].map((side) => {
    const window = enrolment[side];
    const label = `${enrolment.window_days} days ${side} joining (${formatPoints(enrolment.members)} joined)`;
    return h("tr", { "data-window": side }, h("td", {}, label), h("td", { class: "num" }, formatPoints(window.orders)),
      h("td", { class: "num" }, money(window.revenue, currency)), h("td", { class: "num" }, number(window.orders_per_member_month)),
      h("td", { class: "num" }, money(window.average_order_value, currency)));
  }));
}

function heatCell(rate) {
  if (rate === null) return h("td", { class: "heat" }, "—");
  const shade = Math.min(5, Math.floor(Number(rate) * 5));
  return h("td", { class: `heat heat-${shade}` }, percent(rate));
}

function renderCohorts(report) {
  const longest = report.cohorts.reduce((most, cohort) => Math.max(most, cohort.retention.length), 0);
  byId("cohort-head").replaceChildren(h("th", {}, "Joined"), h("th", { class: "num" }, "Members"),
    ...Array.from({ length: longest }, (_, month) => h("th", { class: "num" }, `Month ${month}`)));
  fillTable(byId("cohorts"), report.cohorts.map((cohort) => h("tr", { "data-month": cohort.month },
    h("td", { class: "date" }, cohort.month), h("td", { class: "num" }, formatPoints(cohort.members)),
    ...cohort.retention.map(heatCell))));
}

function unavailable(what, status, data) {
  const fields = Object.entries(data?.fields ?? {}).map(([name, message]) => `${name} ${message}`).join("; ");
  showBanner("critical", `${what} unavailable`, `It could not be loaded (${fields || data?.error || `HTTP ${status}`}).`,
    { id: "performance-unavailable" });
}

async function load() {
  const query = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value });
  const [performance, cohorts] = await Promise.all([api(`/api/reports/performance?${query}`), api("/api/reports/cohorts")]);
  clearBanners();
  if (performance.ok && performance.data) renderPerformance(performance.data);
  else unavailable("Performance", performance.status, performance.data);
  if (cohorts.ok && cohorts.data) renderCohorts(cohorts.data);
  else unavailable("Cohorts", cohorts.status, cohorts.data);
  document.body.dataset.loaded = performance.ok && cohorts.ok ? "performance" : "unavailable";
}

const to = new Date();
const from = new Date(to);
from.setUTCDate(to.getUTCDate() - 29);
form.elements.from.value = isoDate(from);
form.elements.to.value = isoDate(to);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
load();
