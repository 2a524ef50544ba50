// Earning rules: list, create, edit, deactivate (GET/POST /api/earning-rules, PATCH and
// DELETE /api/earning-rules/<id>), and a preview sentence whose points come from
// POST /api/earning-rules/preview: the server prices the sample order with the engine that
// awards paid orders, under the shop's active rules and the rule being edited as typed, so
// no earning arithmetic lives here to drift from it. A product type, vendor or tag is picked
// from what the store's products have (GET /api/earning-rules/values), typed or chosen; a rule
// identical to an active one is refused (409) and the editor offers to open that one.
import {
  api, badge, byId, clearBanners, clearFieldErrors, fillTable, formatDate, formatMoney, formatPoints, h, optionalText,
  otherErrors, plainDecimal, showBanner, showFieldErrors, signedPoints, toast, wholeNumber,
} from "./panel.js";

const editor = byId("editor");
const form = byId("rule-form");
const sample = byId("sample-form");
const PREVIEW_DELAY_MS = 250; // typing "1.5" asks once, not three times
const MATCHES = {
  any: { label: "Every line" },
  product_id: { label: "Product", placeholder: "Product id, such as 632910392" },
  sku: { label: "SKU", placeholder: "SKU, such as TEA-1" },
  vendor: { label: "Vendor", placeholder: "Vendor, as on the product" },
  product_type: { label: "Product type", placeholder: "Product type, such as Loose leaf" },
  product_tag: { label: "Tag", placeholder: "Tag, such as organic" },
  collection_id: { label: "Collection", placeholder: "Type a collection's title, then pick it" },
};
const NEW_RULE_NAME = "New rule"; // a name changes no points: the preview needs none typed yet
const PICKABLE = new Set(["product_type", "vendor", "product_tag", "collection_id"]);
const REFRESH_WAIT_MS = 1500; // the store's collections are being read: ask again after this
let editing = null; // the rule being edited, or null when creating one
let rules = []; // as last listed: a refusal names a rule by id
let picking = 0; // the latest suggestions question: an older answer is dropped
let previewTimer = null;
let asking = 0; // the latest preview question: an answer to an older one is dropped

/** A decimal as the API wrote it, without exponent or trailing zeros ("2.000000" is "2"). */
function decimal(value) {
  const text = plainDecimal(value);
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** Money as the editor's input takes it: at least two decimals ("7.5" is "7.50"), no symbol. */
function money(value) {
  const [whole, fraction = ""] = plainDecimal(String(value).trim()).split(".");
  return `${whole}.${fraction.replace(/0+$/, "").padEnd(2, "0")}`;
}

function matches(rule) {
  const { field, value, label } = rule.match;
  return field === "any" ? MATCHES.any.label : `${MATCHES[field]?.label ?? field} ${label ?? value}`;
}

function effect(rule) {
  if (rule.kind === "multiplier") return `${decimal(rule.multiplier)} × points`;
  return `+${formatPoints(rule.points)} points ${rule.per === "item" ? "per item" : "per order"}`;
}

function when(rule) {
  if (rule.starts_at && rule.ends_at) return `${formatDate(rule.starts_at)} – ${formatDate(rule.ends_at)}`;
  if (rule.starts_at) return `From ${formatDate(rule.starts_at)}`;
  if (rule.ends_at) return `Until ${formatDate(rule.ends_at)}`;
  return "Always";
}

function row(rule) {
  const toggle = rule.active
    ? h("button", { class: "button button-critical-plain", type: "button", onclick: () => deactivate(rule) }, "Deactivate")
    : h("button", { class: "button button-plain", type: "button", onclick: () => activate(rule) }, "Activate");
  return h("tr", { "data-rule-id": rule.id },
    h("td", {}, h("div", { class: "link-strong" }, rule.name)),
    h("td", {}, matches(rule)),
    h("td", {}, h("div", {}, effect(rule)),
      rule.min_subtotal === null ? null : h("div", { class: "text-subdued" }, `orders from ${formatMoney(rule.min_subtotal)}`)),
    h("td", {}, when(rule)),
    h("td", {}, rule.active ? badge("Active", "success") : badge("Inactive")),
    h("td", { class: "actions-col" },
      h("button", { class: "button button-plain", type: "button", onclick: () => openEditor(rule) }, "Edit"), toggle));
}

async function load() {
  const { ok, status, data } = await api("/api/earning-rules");
  if (!ok) {
    if (status !== 401) showBanner("critical", "Earning rules unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  rules = data.earning_rules;
  fillTable(byId("rules"), data.earning_rules.map(row), byId("rules-empty"));
  document.body.dataset.loaded = `rules:${data.earning_rules.length}`;
  preview(); // the saved rules changed, so the same question may have a new answer
}

// The editor

function showKind() {
  const kind = form.elements.kind.value;
  for (const field of form.querySelectorAll("[data-kind]")) field.hidden = field.dataset.kind !== kind;
  const match = MATCHES[form.elements.match_field.value] ?? {};
  form.elements.match_value.hidden = form.elements.match_field.value === "any";
  form.elements.match_value.placeholder = match.placeholder ?? "";
  suggest();
}

/** The store's own values for the chosen field, offered as the merchant types (a datalist). */
async function suggest() {
  const field = form.elements.match_field.value;
  const list = byId("match-values");
  if (!PICKABLE.has(field)) {
    list.replaceChildren();
    return;
  }
  const question = ++picking;
  const query = new URLSearchParams({ field, q: form.elements.match_value.value });
  const { ok, data } = await api(`/api/earning-rules/values?${query}`);
  if (!ok || question !== picking) return;
  // A collection is offered by its title; choosing it puts its id in the field (what rules match).
  const labels = data.labels ?? {};
  list.replaceChildren(...data.values.map((value) => h("option", labels[value] ? { value, label: labels[value] } : { value })));
  list.dataset.field = field; // what tests wait for
  if (data.refreshing) setTimeout(() => question === picking && suggest(), REFRESH_WAIT_MS);
}

/** An ISO time as a datetime-local input shows it, in the merchant's own time zone. */
function localInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value as the API wants it: with its zone (UTC). */
function moment(value) {
  return value ? new Date(value).toISOString() : null;
}

function openEditor(rule = null) {
  editing = rule;
  form.reset();
  clearFieldErrors(form);
  byId("editor-title").textContent = rule ? `Edit ${rule.name}` : "Create rule";
  if (rule) {
    const elements = form.elements;
    elements.name.value = rule.name;
    elements.kind.value = rule.kind;
    elements.match_field.value = rule.match.field;
    elements.match_value.value = rule.match.value ?? "";
    elements.multiplier.value = rule.multiplier === null ? "" : decimal(rule.multiplier);
    elements.points.value = rule.points ?? "";
    elements.per.value = rule.per ?? "item";
    elements.min_subtotal.value = rule.min_subtotal === null ? "" : money(rule.min_subtotal);
    elements.starts_at.value = localInput(rule.starts_at);
    elements.ends_at.value = localInput(rule.ends_at);
    elements.active.checked = rule.active;
  }
  showKind();
  editor.hidden = false;
  form.elements.name.focus();
  preview();
}

function closeEditor() {
  editor.hidden = true;
  editing = null;
  preview();
}

/** The form as the API's fields; what cannot be read is sent as typed, for the API to explain. */
function fields() {
  const elements = form.elements;
  const kind = elements.kind.value;
  const field = elements.match_field.value;
  const bonus = kind === "bonus_points";
  return {
    name: elements.name.value,
    kind,
    match: field === "any" ? { field } : { field, value: elements.match_value.value },
    multiplier: bonus ? null : optionalText(elements.multiplier.value),
    points: bonus ? wholeNumber(elements.points.value) : null,
    per: bonus ? elements.per.value : null,
    min_subtotal: optionalText(elements.min_subtotal.value),
    starts_at: moment(elements.starts_at.value),
    ends_at: moment(elements.ends_at.value),
    active: elements.active.checked,
  };
}

async function save() {
  clearFieldErrors(form);
  const request = editing
    ? api(`/api/earning-rules/${encodeURIComponent(editing.id)}`, { method: "PATCH", body: fields() })
    : api("/api/earning-rules", { method: "POST", body: fields() });
  const { ok, status, data } = await request;
  if (ok) {
    toast(editing ? "Rule saved" : "Rule created");
    editor.hidden = true;
    editing = null;
    clearBanners();
    await load();
  } else if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "The rule was not saved", other);
  } else if (status === 409 && data?.rule_id) {
    duplicate(data.rule_id);
  } else if (status !== 401) {
    showBanner("critical", "The rule was not saved", data?.error ?? `HTTP ${status}`);
  }
}

/** The same rule is already active: say which, and offer to edit it instead. */
function duplicate(ruleId) {
  const existing = rules.find((rule) => rule.id === ruleId);
  const name = existing ? `"${existing.name}"` : "Another active rule";
  const banner = showBanner("warning", "This rule already exists",
    `${name} already does exactly this; a second one would add its points again.`, { id: "duplicate-rule" });
  if (existing && banner) {
    const edit = h("button", { class: "button", type: "button", id: "edit-duplicate",
      onclick: () => { clearBanners(); openEditor(existing); } }, `Edit ${existing.name}`);
    banner.querySelector(".banner-body").append(" ", edit);
  }
}

async function deactivate(rule) {
  const { ok, status, data } = await api(`/api/earning-rules/${encodeURIComponent(rule.id)}`, { method: "DELETE" });
  changed(ok, status, data, "Rule deactivated");
}

async function activate(rule) {
  const { ok, status, data } = await api(`/api/earning-rules/${encodeURIComponent(rule.id)}`,
    { method: "PATCH", body: { active: true } });
  changed(ok, status, data, "Rule activated");
}

async function changed(ok, status, data, done) {
  if (!ok) {
    if (status !== 401) showBanner("critical", "The rule was not changed", data?.error ?? `HTTP ${status}`);
    return;
  }
  toast(done);
  if (editing?.id === data.id) closeEditor(); // its form holds what was there before
  await load();
}

// The preview

function listOf(text) {
  return text.split(",").map((item) => item.trim()).filter(Boolean);
}

/** The sample's lines as the API reads them; a line without a product name is left out. */
function sampleLines() {
  const lines = [];
  for (const tr of sample.querySelectorAll("[data-line]")) {
    const value = (key) => tr.querySelector(`[data-key="${key}"]`).value.trim();
    if (!value("title")) continue;
    const line = { title: value("title"), quantity: wholeNumber(value("quantity")), price: value("price") };
    for (const key of ["sku", "vendor", "product_id", "product_type"]) if (value(key)) line[key] = value(key);
    for (const key of ["product_tags", "collection_ids"]) if (value(key)) line[key] = listOf(value(key));
    lines.push(line);
  }
  return lines;
}

/** What the preview asks: the sample, and the rule being edited as typed. A rule that
 * starts later is previewed for an order placed when it starts. */
function question() {
  const body = { lines: sampleLines() };
  if (!editor.hidden) {
    body.rule = { ...fields(), name: form.elements.name.value.trim() || NEW_RULE_NAME };
    if (editing) body.rule_id = editing.id;
    if (body.rule.starts_at && Date.parse(body.rule.starts_at) > Date.now()) body.at = body.rule.starts_at;
  }
  return body;
}

function orderWords(lines) {
  const parts = lines.map((line) => `${line.quantity} × ${line.title} at ${formatMoney(line.price)}`);
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
}

function fieldLabel(name) {
  const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
  return slot?.closest(".field")?.querySelector("label")?.textContent.trim().split(/\s*\(/)[0] ?? name.replaceAll("_", " ");
}

/** Why the server could not price the sample: the rule's first problem, or the sample's. */
function refusal(fields = {}) {
  const [name, message] = Object.entries(fields)[0] ?? ["", "cannot be priced"];
  if (name === "lines") return `The sample order cannot be priced: ${message}.`;
  if (name.startsWith("rule.")) return `Complete the rule to see what it earns: ${fieldLabel(name.slice(5))} ${message}.`;
  return `The preview cannot be shown: ${name.replace(/^_/, "")} ${message}.`;
}

function breakdownItem(item) {
  const points = item.label === "Base rate" || item.points === 0 ? formatPoints(item.points) : signedPoints(item.points);
  return h("li", {}, h("span", { class: "breakdown-label" }, item.label), h("span", { class: "breakdown-points" }, points));
}

function showAnswer(asked, { ok, status, data }) {
  const sentence = byId("preview");
  let items = [];
  if (ok) {
    const at = asked.at ? ` placed on ${formatDate(asked.at)}` : "";
    const points = data.points;
    sentence.textContent = `An order of ${orderWords(asked.lines)}${at} earns ${formatPoints(points)} point${points === 1 ? "" : "s"}.`;
    items = data.breakdown.map(breakdownItem);
  } else if (status === 422) {
    sentence.textContent = refusal(data?.fields);
  } else {
    sentence.textContent = "What the sample order earns cannot be shown right now.";
  }
  byId("preview-breakdown").replaceChildren(...items);
  sentence.setAttribute("aria-busy", "false");
}

async function askServer(ticket, body) {
  const answer = await api("/api/earning-rules/preview", { method: "POST", body });
  if (ticket === asking) showAnswer(body, answer);
}

function preview() {
  const ticket = ++asking;
  const body = question();
  byId("preview-label").textContent = editor.hidden ? "With the active rules"
    : `With the active rules and this rule as typed${editing ? "" : " (not saved yet)"}`;
  clearTimeout(previewTimer);
  if (!body.lines.length) {
    byId("preview").textContent = "Give the sample order a product to see what it earns.";
    byId("preview-breakdown").replaceChildren();
    return;
  }
  byId("preview").setAttribute("aria-busy", "true");
  previewTimer = setTimeout(() => askServer(ticket, body), PREVIEW_DELAY_MS);
}

byId("new-rule").addEventListener("click", () => openEditor());
byId("cancel").addEventListener("click", closeEditor);
form.addEventListener("input", preview);
form.elements.match_value.addEventListener("input", suggest);
form.addEventListener("change", () => {
  showKind();
  preview();
});
sample.addEventListener("input", preview);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  save();
});

load();
