// Imports: upload a CSV (POST /api/imports, multipart), show the preview (counts, first
// errors, a sample with balances before → after), apply it after a confirmation, list the
// shop's imports and revert an applied one after a confirmation naming what happens. A large
// file is applied by a job (202): its row shows a progress bar (rows_done / rows), polled
// every POLL_MS until it is applied.
import { api, badge, byId, fillTable, formatDate, formatPoints, h, sessionToken, showBanner, clearBanners, toast }
  from "./panel.js";

const TONES = { fetching: "attention", failed: "critical", previewed: "info", applying: "attention",
  applied: "success", reverted: "" };
const WORKING = ["fetching", "applying"];
const POLL_MS = 1000;
let current = null;
let polling = null;

async function upload(event) {
  event.preventDefault();
  clearBanners();
  const file = byId("file").files[0];
  if (!file) {
    showBanner("warning", "Choose a file", "Pick the CSV file your previous app exported.");
    return;
  }
  const form = new FormData();
  form.append("file", file);
  form.append("kind", byId("kind").value);
  form.append("format", byId("format").value);
  byId("preview-button").disabled = true;
  const response = await fetch("/api/imports", { method: "POST", body: form,
    headers: { Accept: "application/json", Authorization: `Bearer ${await sessionToken()}` } });
  byId("preview-button").disabled = false;
  const data = await response.json().catch(() => null);
  if (response.status === 201) {
    showPreview(data);
    loadImports();
    return;
  }
  const problem = data?.errors?.[0];
  showBanner("critical", "This file cannot be imported",
    problem ? `Row ${problem.row}: ${problem.message}` : data?.error ?? `HTTP ${response.status}`);
}

async function pastOrders(event) {
  event.preventDefault();
  clearBanners();
  const days = Number(byId("days").value);
  byId("orders-button").disabled = true;
  const { ok, data } = await api("/api/imports/orders", { method: "POST", body: { days } });
  byId("orders-button").disabled = false;
  if (!ok) {
    showBanner("critical", "Past orders cannot be read", data?.fields?.days ?? data?.error ?? "try again");
    return;
  }
  toast("Reading the store's orders");
  loadImports();
  waitForPreview(data.id);
}

async function waitForPreview(id) {
  const { ok, data } = await api(`/api/imports/${id}`);
  if (!ok) return;
  if (data.status === "fetching") {
    setTimeout(() => waitForPreview(id), POLL_MS);
  } else if (data.status === "failed") {
    showBanner("critical", "The store's orders could not be read", data.errors[0]?.message ?? "");
  } else {
    showPreview(data);
  }
}

function showPreview(found) {
  current = found;
  byId("preview").hidden = false;
  byId("preview-status").replaceChildren(badge(found.status, TONES[found.status]));
  for (const key of ["rows", "members_matched", "members_new", "points_total"]) {
    document.querySelector(`[data-total="${key}"] [data-value]`).textContent = formatPoints(found[key]);
  }
  byId("errors-table").hidden = found.errors.length === 0;
  fillTable(byId("errors"), found.errors.map((e) => h("tr", {},
    h("td", { class: "num" }, e.row), h("td", {}, e.field ?? "—"), h("td", {}, e.message))));
  byId("sample-table").hidden = (found.sample ?? []).length === 0;
  fillTable(byId("sample"), (found.sample ?? []).map((s) => h("tr", {},
    h("td", { class: "num" }, s.row), h("td", { class: "id" }, s.customer_id), h("td", {}, s.email ?? ""),
    h("td", { class: "num" }, formatPoints(s.points)),
    h("td", { class: "num" }, `${formatPoints(s.before)} → ${formatPoints(s.after)}`))));
  const blocked = found.errors_total > 0 || found.already_imported || found.status !== "previewed";
  byId("apply-button").disabled = blocked;
  if (found.already_imported) showBanner("warning", "Already imported", "This file was already imported in this shop.");
  else if (found.errors_total) {
    showBanner("warning", `${found.errors_total} row(s) cannot be imported`, "Fix them in the file and upload it again.");
  }
  document.body.dataset.loaded = `preview:${found.id}`;
}

async function apply() {
  const members = formatPoints(current.members_matched + current.members_new);
  const words = current.kind === "orders"
    ? `Award ${formatPoints(current.points_total)} points for ${formatPoints(current.rows)} past orders to ` +
      `${members} members, each order at its own date?`
    : `Apply ${formatPoints(current.points_total)} points to ${members} members? Shoppers are not notified.`;
  if (!window.confirm(words)) return;
  const { ok, status, data } = await api(`/api/imports/${current.id}/apply`, { method: "POST" });
  if (!ok) {
    showBanner("critical", "Not applied", data?.error ?? "the import could not be applied");
    return;
  }
  toast(status === 202 ? "Applying in the background" : "Import applied");
  byId("preview").hidden = true;
  loadImports();
}

async function revert(found) {
  const words = `Revert import #${found.id}? The points it gave that members still hold are taken back; ` +
    "points already spent stay spent.";
  if (!window.confirm(words)) return;
  const { ok, data } = await api(`/api/imports/${found.id}/revert`, { method: "POST" });
  if (!ok) {
    showBanner("critical", "Not reverted", data?.error ?? "the import could not be reverted");
    return;
  }
  toast(data.not_reverted ? `Reverted; ${formatPoints(data.not_reverted)} points were already spent` : "Reverted");
  loadImports();
}

function row(found) {
  const action = found.status === "applied"
    ? h("button", { class: "button", type: "button", "data-revert": found.id, onclick: () => revert(found) }, "Revert")
    : null;
  return h("tr", { "data-import-id": found.id },
    h("td", { class: "date" }, formatDate(found.created_at)), h("td", {}, found.kind), h("td", {}, found.format),
    h("td", { class: "num" }, formatPoints(found.rows)), h("td", { class: "num" }, formatPoints(found.points_total)),
    h("td", {}, badge(found.status, TONES[found.status]),
      found.status === "applying" ? progress(found) : null,
      found.not_reverted ? h("div", { class: "text-subdued" }, `${formatPoints(found.not_reverted)} already spent`) : null),
    h("td", {}, action));
}

function progress(found) {
  const words = `${formatPoints(found.rows_done)} / ${formatPoints(found.rows)} rows`;
  return h("div", { class: "import-progress" },
    h("progress", { max: String(Math.max(found.rows, 1)), value: String(found.rows_done), "aria-label": words }),
    h("span", { class: "text-subdued" }, words));
}

async function loadImports() {
  const { ok, status, data } = await api("/api/imports");
  if (!ok) {
    if (status !== 401) showBanner("critical", "Imports unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  fillTable(byId("imports"), data.imports.map(row), byId("imports-empty"));
  document.body.dataset.imports = data.imports.map((i) => `${i.id}:${i.status}`).join(",");
  clearTimeout(polling);
  if (data.imports.some((i) => WORKING.includes(i.status))) polling = setTimeout(loadImports, POLL_MS);
  if (!current) document.body.dataset.loaded = `imports:${data.imports.length}`;
}

byId("upload-form").addEventListener("submit", upload);
byId("orders-form").addEventListener("submit", pastOrders);
byId("apply-button").addEventListener("click", apply);
loadImports();
