// Integrations: the store sync switch (PATCH /api/program) and the merchant's event endpoints
// (GET/POST /api/event-subscriptions, DELETE .../<id>, POST .../<id>/test, GET .../<id>/deliveries).
import {
  api, badge, byId, clearBanners, clearFieldErrors, fillTable, formatDate, h, otherErrors, showBanner,
  showFieldErrors, toast,
} from "./panel.js";

// The member event kinds, as the merchant reads them (the API speaks the keys).
const KINDS = {
  tier_changed: "Tier changed",
  points_expiring: "Points about to expire",
  points_expired: "Points expired",
  referral_completed: "Referral completed",
  birthday_bonus: "Birthday bonus",
  reward_issued: "Reward issued",
  member_at_risk: "Member at risk (no order for longer than usual)",
};
const form = byId("subscription-form");
const syncBox = byId("store_sync_enabled");

function kindBoxes() {
  byId("kinds").replaceChildren(...Object.entries(KINDS).map(([kind, words]) =>
    h("label", { class: "checkbox" }, h("input", { type: "checkbox", name: "kinds", value: kind, checked: "" }), words)));
}

function statusBadge(delivery) {
  const tones = { succeeded: "success", failed: "critical", pending: "attention" };
  return badge(delivery.status, tones[delivery.status] ?? "");
}

function deliveryRow(delivery) {
  const answer = delivery.error ?? (delivery.response_status ? `HTTP ${delivery.response_status}` : "—");
  return h("tr", { "data-delivery-id": delivery.id },
    h("td", { class: "date" }, formatDate(delivery.created_at)),
    h("td", {}, delivery.sample ? "sample" : `event ${delivery.event_id}`),
    h("td", {}, statusBadge(delivery)),
    h("td", { class: "num" }, String(delivery.attempts)),
    h("td", { class: delivery.error ? "error-text" : "" }, answer));
}

async function showDeliveries(subscription) {
  const { ok, status, data } = await api(`/api/event-subscriptions/${subscription.id}/deliveries`);
  if (!ok) {
    if (status !== 401) toast(data?.error ?? `Deliveries unavailable (HTTP ${status})`, { error: true });
    return;
  }
  byId("deliveries-card").hidden = false;
  byId("deliveries-title").textContent = `Last deliveries to ${subscription.url}`;
  fillTable(byId("deliveries"), data.deliveries.map(deliveryRow), byId("deliveries-empty"));
  document.body.dataset.deliveries = `${subscription.id}:${data.deliveries.length}`;
}

async function sendSample(subscription) {
  const { ok, status, data } = await api(`/api/event-subscriptions/${subscription.id}/test`, { method: "POST" });
  if (!ok) {
    if (status !== 401) toast(data?.error ?? `Sample not sent (HTTP ${status})`, { error: true });
    return;
  }
  toast("Sample event on its way");
  setTimeout(() => showDeliveries(subscription), 1500);
}

async function remove(subscription) {
  if (!window.confirm(`Stop sending events to ${subscription.url}?`)) return;
  const { ok, status, data } = await api(`/api/event-subscriptions/${subscription.id}`, { method: "DELETE" });
  if (!ok && status !== 401) toast(data?.error ?? `Not removed (HTTP ${status})`, { error: true });
  byId("deliveries-card").hidden = true;
  await load();
}

function subscriptionRow(subscription) {
  const button = (label, action) => h("button", { class: "button button-plain", type: "button", onclick: action }, label);
  return h("tr", { "data-subscription-id": subscription.id },
    h("td", {}, h("code", {}, subscription.url)),
    h("td", { class: "text-subdued" }, subscription.kinds.map((kind) => KINDS[kind] ?? kind).join(", ")),
    h("td", { class: "date" }, formatDate(subscription.created_at)),
    h("td", { class: "actions-col" },
      button("Send a sample event", () => sendSample(subscription)),
      button("Deliveries", () => showDeliveries(subscription)),
      h("button", { class: "button button-critical-plain", type: "button", onclick: () => remove(subscription) }, "Remove")));
}

async function load() {
  const [subscriptions, program] = await Promise.all([api("/api/event-subscriptions"), api("/api/program")]);
  if (!subscriptions.ok || !program.ok) {
    const failed = subscriptions.ok ? program : subscriptions;
    if (failed.status !== 401) showBanner("critical", "Integrations unavailable", failed.data?.error ?? `HTTP ${failed.status}`);
    return;
  }
  syncBox.checked = program.data.store_sync_enabled;
  fillTable(byId("subscriptions"), subscriptions.data.subscriptions.map(subscriptionRow), byId("subscriptions-empty"));
  document.body.dataset.loaded = `subscriptions:${subscriptions.data.subscriptions.length}`;
}

async function add() {
  clearFieldErrors(form);
  clearBanners();
  const kinds = [...form.querySelectorAll('input[name="kinds"]:checked')].map((box) => box.value);
  const { ok, status, data } = await api("/api/event-subscriptions", {
    method: "POST", body: { url: form.elements.url.value.trim(), kinds },
  });
  if (ok) {
    byId("secret").textContent = data.secret;
    byId("secret-box").hidden = false;
    form.reset();
    kindBoxes();
    toast("Endpoint added");
    await load();
    return;
  }
  if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "The endpoint was not added", other);
  } else if (status !== 401) {
    showBanner("critical", "The endpoint was not added", data?.error ?? `HTTP ${status}`);
  }
}

async function saveSync() {
  const { ok, status, data } = await api("/api/program", { method: "PATCH", body: { store_sync_enabled: syncBox.checked } });
  if (ok) {
    toast(data.store_sync_enabled ? "Store sync on" : "Store sync off");
  } else if (status !== 401) {
    toast(data?.error ?? `Not saved (HTTP ${status})`, { error: true });
    syncBox.checked = !syncBox.checked;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  add();
});
syncBox.addEventListener("change", saveSync);
byId("refresh").addEventListener("click", load);
kindBoxes();
load();
