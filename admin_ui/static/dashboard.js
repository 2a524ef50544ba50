// The dashboard: the program's figures for a chosen period, from GET /api/stats.
// If the figures cannot be had (the route answers anything but 200), the page says so in
// a banner and keeps its empty cards: the rest of the panel does not depend on it.
import { api, byId, clearBanners, formatMoney, formatPoints, h, insertSvg, labelCells, showBanner } from "./panel.js";

const form = byId("period");
const cards = document.getElementById("stats");

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}

function lastDays(days) {
  const to = new Date();
  const from = new Date(to);
  from.setUTCDate(to.getUTCDate() - (days - 1));
  return { from: isoDate(from), to: isoDate(to) };
}

function money(amount, currency) {
  return formatMoney(amount, currency || "");
}

// Rates travel as decimal strings holding a fraction ("0.25" is 25 %).
function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  const value = Number(rate);
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : String(rate);
}

function setCard(key, value, note = "") {
  const card = cards.querySelector(`[data-stat="${key}"]`);
  card.querySelector("[data-value]").textContent = value;
  card.querySelector("[data-note]").textContent = note;
}

function emptyCharts(message) {
  for (const id of ["chart-points", "chart-members", "chart-orders"]) byId(id).replaceChildren(h("p", { class: "empty" }, message));
}

function unavailable(status, data) {
  const fields = Object.entries(data?.fields ?? {}).map(([name, message]) => `${name} ${message}`).join("; ");
  const reason = status === 404
    ? "The program figures are not available yet. Settings, members, rewards and operations work as usual."
    : `The figures could not be loaded (${fields || data?.error || `HTTP ${status}`}).`;
  showBanner("critical", "Figures unavailable", reason, { id: "figures-unavailable" });
  for (const card of cards.querySelectorAll("[data-stat]")) setCard(card.dataset.stat, "—");
  byId("headline").hidden = true;
  byId("series").replaceChildren();
  emptyCharts("No figures for this period.");
}

function render(stats) {
  const { currency } = stats;
  setCard("members", formatPoints(stats.members), `${formatPoints(stats.new_members)} new in this period`);
  setCard("points_issued", formatPoints(stats.points_issued), "Earned by shoppers");
  setCard("points_redeemed", formatPoints(stats.points_redeemed), "Traded for discount codes");
  setCard("points_expired", formatPoints(stats.points_expired), "Past their expiry date, unspent");
  const worth = stats.outstanding_value === null ? "Value not known"
    : `Worth ${money(stats.outstanding_value, currency)} in rewards`;
  setCard("points_outstanding", formatPoints(stats.points_outstanding),
    stats.points_pending ? `${worth}; ${formatPoints(stats.points_pending)} more pending` : worth);
  setCard("redemption_rate", percent(stats.redemption_rate), "Of points issued, share redeemed");
  const repeat = stats.repeat_purchase_rate || {};
  setCard("repeat_purchase_rate", percent(repeat.members), `Members; other customers ${percent(repeat.non_members)}`);
  setCard("loyalty_revenue", money(stats.loyalty_revenue, currency), "From orders that used a reward code");
  const guests = stats.ordering_customers?.guest_orders ?? 0;
  setCard("orders", formatPoints(stats.orders), `Paid, on the day each was placed; ${formatPoints(guests)} by guests`);
  const headline = byId("headline");
  headline.hidden = repeat.members == null || repeat.non_members == null;
  headline.textContent = `Members bought again at ${percent(repeat.members)}, other customers at ${percent(repeat.non_members)}.`;
  byId("period-label").textContent = `${stats.from} to ${stats.to} (${stats.zone || "UTC"})`;
  insertSvg(byId("chart-points"), stats.charts?.points);
  insertSvg(byId("chart-members"), stats.charts?.members);
  insertSvg(byId("chart-orders"), stats.charts?.orders);
  byId("series").replaceChildren(...(stats.series || []).map((day) => h("tr", {},
    h("td", {}, day.date), h("td", { class: "num" }, formatPoints(day.points_issued)),
    h("td", { class: "num" }, formatPoints(day.points_redeemed)),
    h("td", { class: "num" }, formatPoints(day.new_members)), h("td", { class: "num" }, formatPoints(day.orders)))));
  labelCells(byId("series"));
  renderTiers(stats.members_per_tier || []);
}

/** Members per tier (VIP tiers), shown once the shop has a tier; "No tier" last. */
function renderTiers(rows) {
  const named = rows.filter((row) => row.id !== null);
  byId("tiers-card").hidden = named.length === 0;
  const none = rows.find((row) => row.id === null);
  byId("members-per-tier").replaceChildren(...[...named.slice().reverse(), ...(none ? [{ ...none, name: "No tier" }] : [])]
    .map((row) => h("tr", {}, h("td", {}, row.name), h("td", { class: "num" }, formatPoints(row.members)))));
  labelCells(byId("members-per-tier"));
}

async function load() {
  cards.setAttribute("aria-busy", "true");
  const query = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value });
  const { ok, status, data } = await api(`/api/stats?${query}`);
  if (ok && data) {
    clearBanners();
    render(data);
  } else {
    unavailable(status, data);
  }
  cards.setAttribute("aria-busy", "false");
  document.body.dataset.loaded = ok ? "figures" : "unavailable";
}

function usePreset() {
  if (form.elements.preset.value === "custom") return;
  const range = lastDays(Number(form.elements.preset.value));
  form.elements.from.value = range.from;
  form.elements.to.value = range.to;
}

form.elements.preset.addEventListener("change", () => {
  usePreset();
  if (form.elements.preset.value !== "custom") load();
});
for (const name of ["from", "to"]) {
  form.elements[name].addEventListener("input", () => { form.elements.preset.value = "custom"; });
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

usePreset();
load();
