// Operations: member event deliveries that failed after their last try, and a retry button
// (GET /api/event-deliveries?status=failed, POST /api/event-deliveries/<id>/retry).
import { api, byId, fillTable, formatDate, h, toast } from "./panel.js";

function row(delivery) {
  const retry = h("button", { class: "button", type: "button", "data-retry-delivery": delivery.id }, "Retry");
  retry.addEventListener("click", () => retryDelivery(delivery, retry));
  return h("tr", { "data-delivery-id": delivery.id },
    h("td", { class: "date" }, formatDate(delivery.created_at)),
    h("td", {}, delivery.sample ? "sample" : `event ${delivery.event_id}`),
    h("td", { class: "num" }, String(delivery.attempts)),
    h("td", { class: "error-text" }, delivery.error ?? "—"),
    h("td", { class: "actions-col" }, retry));
}

async function load() {
  const { ok, data } = await api("/api/event-deliveries?status=failed");
  if (!ok) return; // the page's own banner already speaks for an API that fails
  fillTable(byId("deliveries"), data.deliveries.map(row), byId("deliveries-empty"));
  document.body.dataset.deliveriesLoaded = String(data.deliveries.length);
}

async function retryDelivery(delivery, button) {
  button.disabled = true;
  const { ok, status, data } = await api(`/api/event-deliveries/${encodeURIComponent(delivery.id)}/retry`,
    { method: "POST" });
  if (ok) {
    toast(`Delivery ${delivery.id} queued for another try`);
  } else if (status !== 401) {
    toast(data?.error ?? `Retry refused (HTTP ${status})`, { error: true });
  }
  await load();
}

byId("refresh").addEventListener("click", load);
load();
