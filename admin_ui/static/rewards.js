// The rewards catalog: list, create, edit, deactivate (GET/POST /api/rewards, PATCH /api/rewards/<id>).
import {
  api, badge, byId, clearBanners, clearFieldErrors, fillTable, formatMoney, formatPoints, h, optionalText, otherErrors,
  plainDecimal, showBanner, showFieldErrors, toast, wholeNumber,
} from "./panel.js";

const editor = byId("editor");
const form = byId("reward-form");
let editing = null; // the reward being edited, or null when creating one

// Amounts as the editor's inputs take them: at least two decimals ("7.5" is "7.50"), no symbol.
function amount(value) {
  const [whole, fraction = ""] = plainDecimal(value).split(".");
  return `${whole}.${fraction.padEnd(2, "0")}`;
}

function discount(reward) {
  if (reward.kind === "free_shipping") return "Free shipping";
  if (reward.kind === "free_product") return `Free product ${reward.product_id}`;
  if (reward.kind === "store_credit") return `${formatMoney(reward.value)} in store credit`;
  if (reward.kind === "percentage_off") return `${plainDecimal(reward.value)} % off`;
  return `${formatMoney(reward.value)} off`;
}

function conditions(reward) {
  const parts = [];
  if (reward.min_subtotal !== null) parts.push(`orders from ${formatMoney(reward.min_subtotal)}`);
  if (reward.code_lifetime_days !== null) parts.push(`code valid ${reward.code_lifetime_days} days`);
  return parts.join(" · ");
}

// Why the program needs a reward (GET /api/rewards `used_by`): it cannot be deactivated until then.
const USES = {
  referral_welcome: "Friends' welcome reward: choose another one in Settings to deactivate it",
  tier_perk: "A tier's perk: choose another perk in Tiers to deactivate it",
};
// Kinds with no value of their own.
const VALUELESS = ["free_shipping", "free_product"];

function row(reward) {
  const uses = (reward.used_by ?? []).map((use) => USES[use] ?? use);
  const toggle = !reward.active
    ? h("button", { class: "button button-plain", type: "button", onclick: () => setActive(reward, true) }, "Activate")
    : uses.length
      ? h("button", { class: "button button-critical-plain", type: "button", disabled: true, title: uses.join("; "),
        "aria-describedby": `uses-${reward.id}` }, "Deactivate")
      : h("button", { class: "button button-critical-plain", type: "button", onclick: () => setActive(reward, false) },
        "Deactivate");
  return h("tr", { "data-reward-id": reward.id },
    h("td", {}, h("div", { class: "link-strong" }, reward.name), h("div", { class: "text-subdued" }, conditions(reward))),
    h("td", {}, discount(reward)),
    h("td", { class: "num" }, formatPoints(reward.points_cost)),
    h("td", {}, reward.active ? badge("Active", "success") : badge("Inactive"),
      uses.length ? h("div", { class: "text-subdued", id: `uses-${reward.id}` }, uses.join("; ")) : null),
    h("td", { class: "actions-col" },
      h("button", { class: "button button-plain", type: "button", onclick: () => openEditor(reward) }, "Edit"), toggle));
}

async function load() {
  const { ok, status, data } = await api("/api/rewards");
  if (!ok) {
    if (status !== 401) showBanner("critical", "Rewards unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  fillTable(byId("rewards"), data.rewards.map(row), byId("rewards-empty"));
  document.body.dataset.loaded = `rewards:${data.rewards.length}`;
}

function showKind() {
  const kind = form.elements.kind.value;
  const field = form.querySelector('[data-field="value"]');
  field.hidden = VALUELESS.includes(kind);
  form.querySelector('[data-field="product_id"]').hidden = kind !== "free_product";
  byId("value-label").textContent = kind === "percentage_off" ? "Percent off"
    : kind === "store_credit" ? "Store credit amount" : "Amount off";
}

function openEditor(reward = null) {
  editing = reward;
  form.reset();
  clearFieldErrors(form);
  byId("editor-title").textContent = reward ? `Edit ${reward.name}` : "Create reward";
  if (reward) {
    form.elements.name.value = reward.name;
    form.elements.kind.value = reward.kind;
    const values = { amount_off: amount(reward.value), store_credit: amount(reward.value),
      percentage_off: plainDecimal(reward.value), free_shipping: "", free_product: "" };
    form.elements.value.value = values[reward.kind] ?? reward.value;
    form.elements.product_id.value = reward.product_id ?? "";
    form.elements.points_cost.value = String(reward.points_cost);
    form.elements.min_subtotal.value = reward.min_subtotal === null ? "" : amount(reward.min_subtotal);
    form.elements.code_lifetime_days.value = reward.code_lifetime_days ?? "";
    form.elements.active.checked = reward.active;
  }
  showKind();
  editor.hidden = false;
  form.elements.name.focus();
}

function closeEditor() {
  editor.hidden = true;
  editing = null;
}

function fields() {
  const reward = {
    name: form.elements.name.value,
    kind: form.elements.kind.value,
    points_cost: wholeNumber(form.elements.points_cost.value),
    min_subtotal: optionalText(form.elements.min_subtotal.value),
    code_lifetime_days: wholeNumber(form.elements.code_lifetime_days.value),
    active: form.elements.active.checked,
  };
  if (!VALUELESS.includes(reward.kind)) reward.value = optionalText(form.elements.value.value);
  if (reward.kind === "free_product") reward.product_id = optionalText(form.elements.product_id.value);
  return reward;
}

async function save() {
  clearFieldErrors(form);
  const request = editing
    ? api(`/api/rewards/${encodeURIComponent(editing.id)}`, { method: "PATCH", body: fields() })
    : api("/api/rewards", { method: "POST", body: fields() });
  const { ok, status, data } = await request;
  if (ok) {
    toast(editing ? "Reward saved" : "Reward created");
    closeEditor();
    clearBanners();
    await load();
  } else if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "The reward was not saved", other);
  } else if (status !== 401) {
    showBanner("critical", "The reward was not saved", data?.error ?? `HTTP ${status}`);
  }
}

async function setActive(reward, active) {
  const { ok, status, data } = await api(`/api/rewards/${encodeURIComponent(reward.id)}`,
    { method: "PATCH", body: { active } });
  if (!ok) {
    if (status !== 401) showBanner("critical", "The reward was not changed", data?.error ?? `HTTP ${status}`);
    return;
  }
  toast(active ? "Reward activated" : "Reward deactivated");
  await load();
}

byId("new-reward").addEventListener("click", () => openEditor());
byId("cancel").addEventListener("click", closeEditor);
form.elements.kind.addEventListener("change", showKind);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  save();
});

load();
