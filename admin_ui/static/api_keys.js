// API keys: make one (POST /api/keys, its text shown once with a copy button), list them
// (GET /api/keys), revoke one (DELETE /api/keys/<id>), and the trail of what keys wrote
// (GET /api/keys/writes).
import {
  api, badge, byId, clearBanners, clearFieldErrors, fillTable, formatDate, h, otherErrors, showBanner,
  showFieldErrors, toast,
} from "./panel.js";

const form = byId("key-form");

async function revoke(key) {
  if (!window.confirm(`Revoke the key "${key.name}"? Scripts using it will get 401 from now on.`)) return;
  const { ok, status, data } = await api(`/api/keys/${key.id}`, { method: "DELETE" });
  if (ok) toast("Key revoked");
  else if (status !== 401) toast(data?.error ?? `Not revoked (HTTP ${status})`, { error: true });
  await load();
}

function keyRow(key) {
  return h("tr", { "data-key-id": key.id },
    h("td", {}, key.name),
    h("td", {}, badge(key.scope, key.scope === "write" ? "attention" : "")),
    h("td", { class: "date" }, formatDate(key.created_at)),
    h("td", { class: "date" }, key.last_used_at ? formatDate(key.last_used_at) : "never"),
    h("td", { class: "actions-col" },
      h("button", { class: "button button-critical-plain", type: "button", onclick: () => revoke(key) }, "Revoke")));
}

function writeRow(write) {
  return h("tr", {},
    h("td", { class: "date" }, formatDate(write.created_at)),
    h("td", {}, write.key_name),
    h("td", {}, h("code", {}, `${write.method} ${write.path}`)),
    h("td", { class: "num" }, String(write.status)));
}

async function load() {
  const [keys, writes] = await Promise.all([api("/api/keys"), api("/api/keys/writes")]);
  if (!keys.ok || !writes.ok) {
    const failed = keys.ok ? writes : keys;
    if (failed.status !== 401) showBanner("critical", "API keys unavailable", failed.data?.error ?? `HTTP ${failed.status}`);
    return;
  }
  fillTable(byId("keys"), keys.data.keys.map(keyRow), byId("keys-empty"));
  fillTable(byId("writes"), writes.data.writes.map(writeRow), byId("writes-empty"));
  document.body.dataset.loaded = `keys:${keys.data.keys.length}`;
}

async function add() {
  clearFieldErrors(form);
  clearBanners();
  const { ok, status, data } = await api("/api/keys", {
    method: "POST", body: { name: form.elements.name.value, scope: form.elements.scope.value },
  });
  if (ok) {
    byId("key").textContent = data.key;
    byId("key-box").hidden = false;
    form.reset();
    toast("Key made: copy it now");
    await load();
    return;
  }
  if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "The key was not made", other);
  } else if (status !== 401) {
    showBanner("critical", "The key was not made", data?.error ?? `HTTP ${status}`);
  }
}

async function copyKey() {
  const text = byId("key").textContent;
  try {
    await navigator.clipboard.writeText(text);
    toast("Key copied");
  } catch {
    // No clipboard permission (an iframe without it): select the text for the merchant to copy.
    window.getSelection().selectAllChildren(byId("key"));
    toast("Press Ctrl+C (⌘C) to copy the selected key");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  add();
});
byId("copy-key").addEventListener("click", copyKey);
byId("refresh").addEventListener("click", load);
load();
