// The points liability statement, from GET /api/reports/liability: a chart of the points owed,
// the rows, and the same rows as a CSV file (fetched with the session token, then saved).
import { api, byId, clearBanners, fillTable, formatPoints, h, insertSvg, sessionToken, showBanner } from "./panel.js";

const form = byId("period");
const COLUMNS = ["opening", "earned", "reversed", "redeemed", "returned", "expired", "adjusted", "imported",
  "closing", "pending"];

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}

function query() {
  return new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value, by: form.elements.by.value });
}

function unavailable(status, data) {
  const fields = Object.entries(data?.fields ?? {}).map(([name, message]) => `${name} ${message}`).join("; ");
  showBanner("critical", "Statement unavailable",
    `The statement could not be loaded (${fields || data?.error || `HTTP ${status}`}).`, { id: "liability-unavailable" });
  fillTable(byId("rows"), []);
  byId("headline").hidden = true;
  byId("chart-liability").replaceChildren(h("p", { class: "empty" }, "No statement for this period."));
}

function render(statement) {
  const currency = statement.currency ? ` ${statement.currency}` : "";
  byId("period-label").textContent = `${statement.from} to ${statement.to} (${statement.zone})`;
  const last = statement.rows[statement.rows.length - 1];
  const headline = byId("headline");
  headline.hidden = !last;
  if (last) {
    const value = last.closing_value === null ? "" : `, worth ${last.closing_value}${currency}`;
    headline.textContent = `${formatPoints(last.closing)} points owed at the end of ${statement.to}${value}; ` +
      `${formatPoints(last.pending)} of them pending.`;
  }
  insertSvg(byId("chart-liability"), statement.chart);
  // fillTable: the panel's one way to fill a table (cells labelled for narrow screens where it does so).
  fillTable(byId("rows"), statement.rows.map((row) => h("tr", {}, h("td", { class: "date" }, row.date),
    ...COLUMNS.map((name) => h("td", { class: "num" }, formatPoints(row[name]))),
    h("td", { class: "num" }, row.closing_value === null ? "—" : `${row.closing_value}${currency}`))));
}

async function load() {
  const { ok, status, data } = await api(`/api/reports/liability?${query()}`);
  if (ok && data) {
    clearBanners();
    render(data);
  } else {
    unavailable(status, data);
  }
  document.body.dataset.loaded = ok ? "statement" : "unavailable";
}

async function downloadCsv() {
  const response = await fetch(`/api/reports/liability?${query()}&format=csv`,
    { headers: { Authorization: `Bearer ${await sessionToken()}` } });
  if (!response.ok) {
    showBanner("critical", "No CSV", `The statement could not be downloaded (HTTP ${response.status}).`);
    return;
  }
  const link = h("a", { href: URL.createObjectURL(await response.blob()),
    download: `liability-${form.elements.from.value}-${form.elements.to.value}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
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
form.elements.by.addEventListener("change", load);
byId("download-csv").addEventListener("click", downloadCsv);
load();
