// Operations: the shop's failed webhook events with their error, and a retry button
// (GET /api/events?status=failed, POST /api/events/<id>/retry); what reconciliation healed
// (GET /api/reconciliations); orders whose subtotal disagrees with their lines
// (GET /api/orders/subtotal-mismatches).
import { api, byId, fillTable, formatDate, formatMoney, h, showBanner, toast } from "./panel.js";

function row(event) {
  const retry = h("button", { class: "button", type: "button", "data-retry": event.id }, "Retry");
  retry.addEventListener("click", () => retryEvent(event, retry));
  return h("tr", { "data-event-id": event.id },
    h("td", { class: "date" }, formatDate(event.received_at)),
    h("td", {}, h("code", {}, event.topic)),
    h("td", { class: "text-subdued" }, event.webhook_id),
    h("td", { class: "num" }, String(event.attempts)),
    h("td", { class: "error-text" }, event.last_error ?? "—"),
    h("td", { class: "actions-col" }, retry));
}

async function load() {
  const { ok, status, data } = await api("/api/events?status=failed");
  if (!ok) {
    if (status !== 401) showBanner("critical", "Events unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  fillTable(byId("events"), data.events.map(row), byId("events-empty"));
  document.body.dataset.loaded = `events:${data.events.length}`;
}

async function retryEvent(event, button) {
  button.disabled = true;
  const { ok, status, data } = await api(`/api/events/${encodeURIComponent(event.id)}/retry`, { method: "POST" });
  if (!ok) {
    if (status !== 401) toast(data?.error ?? `Retry refused (HTTP ${status})`, { error: true });
  } else if (data.status === "processed") {
    toast(`Event ${event.id} processed`);
  } else if (data.status === "failed") {
    toast(`Event ${event.id} failed again: ${data.last_error ?? "no error given"}`, { error: true });
  } else {
    toast(`Event ${event.id} queued for another try`);
  }
  await load();
}

function runRow(run) {
  const count = (value) => h("td", { class: "num" }, String(value));
  return h("tr", { "data-run-id": run.id },
    h("td", { class: "date" }, formatDate(run.started_at)),
    h("td", { class: "date" }, formatDate(run.since)),
    count(run.orders_read), count(run.missed_orders), count(run.refunds), count(run.cancellations), count(run.left),
    h("td", { class: "error-text" }, run.error ?? "—"));
}

async function loadRuns() {
  const { ok, data } = await api("/api/reconciliations");
  if (ok) fillTable(byId("runs"), data.runs.map(runRow), byId("runs-empty"));
}

function mismatchRow(order) {
  const money = (value) => h("td", { class: "num" }, formatMoney(value));
  return h("tr", { "data-order-id": order.order_id },
    h("td", {}, order.name ?? order.order_id),
    h("td", { class: "date" }, order.paid_at ? formatDate(order.paid_at) : "—"),
    money(order.subtotal_price), money(order.lines_subtotal), money(order.difference),
    h("td", { class: "num" }, String(order.earned_points ?? "—")));
}

async function loadMismatches() {
  const { ok, data } = await api("/api/orders/subtotal-mismatches");
  if (ok) fillTable(byId("mismatches"), data.orders.map(mismatchRow), byId("mismatches-empty"));
}

function loadAll() {
  load();
  loadRuns();
  loadMismatches();
}

byId("refresh").addEventListener("click", loadAll);
loadAll();
