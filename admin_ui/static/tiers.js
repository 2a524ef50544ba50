// The Tiers section of the settings page: GET/POST/PATCH/DELETE /api/tiers, the program's
// tier_basis and tier_window (PATCH /api/program with just those two, saved and discarded by
// the page's save bar: settings.js imports what is exported here), and how many of
// today's members would land in each tier (POST /api/tiers/preview, computed by the server
// from the ledger's figures), also while a threshold is being typed.
import {
  api, badge, byId, clearFieldErrors, fillTable, formatPoints, h, otherErrors, plainDecimal, showBanner,
  showFieldErrors, toast,
} from "./panel.js";

const section = byId("tiers-section");
const qualification = byId("tier-qualification");
const form = byId("tier-form");
const PREVIEW_DELAY_MS = 250;
let state = { tiers: [], tier_basis: "points_earned", tier_window: "calendar_year" };
let perkRewards = []; // the rewards a tier's perk can be: active free shipping and percentage off
const PERK_STATES = { synced: "applied at checkout", pending: "being set up in the store", failed: "not applied" };
let editing = null; // the tier being edited, or null when adding
let previewTimer = null;

function thresholdText(threshold) {
  return state.tier_basis === "amount_spent" ? `${plainDecimal(threshold)} spent` : `${formatPoints(threshold)} points`;
}

function row(tier, counts) {
  return h("tr", { "data-tier": tier.id },
    h("td", {}, tier.name, tier.product_id ? [" ", badge("Paid")] : null),
    h("td", {}, thresholdText(tier.threshold)),
    h("td", {}, `× ${plainDecimal(tier.multiplier)}`),
    h("td", {}, tier.perks || "—", perkLine(tier)),
    h("td", { class: "members-today" }, counts.has(String(tier.threshold)) ? formatPoints(counts.get(String(tier.threshold))) : "…"),
    h("td", { class: "actions-col" },
      h("button", { class: "button button-plain", type: "button", onclick: () => edit(tier) }, "Edit"),
      h("button", { class: "button button-plain", type: "button", onclick: () => remove(tier) }, "Remove")));
}

function perkLine(tier) {
  if (tier.perk_reward_id === null || tier.perk_reward_id === undefined) return null;
  const reward = perkRewards.find((r) => r.id === tier.perk_reward_id);
  const words = `${reward ? reward.name : "Perk"}: ${PERK_STATES[tier.perk_state] ?? tier.perk_state ?? ""}`;
  return h("div", { class: "text-subdued", "data-perk-state": tier.perk_state ?? "" },
    tier.perk_error && tier.perk_state === "failed" ? `${words} (${tier.perk_error})` : words);
}

async function loadPerkRewards() {
  const { ok, data } = await api("/api/rewards");
  perkRewards = ok ? data.rewards.filter((r) => r.active && ["free_shipping", "percentage_off"].includes(r.kind)) : [];
  const select = form.elements.perk_reward_id;
  select.replaceChildren(h("option", { value: "" }, "None"),
    ...perkRewards.map((r) => h("option", { value: String(r.id) }, r.name)));
}

function show(counts = new Map(), below = null) {
  fillTable(byId("tiers"), state.tiers.map((tier) => row(tier, counts)), byId("tiers-empty"));
  byId("tiers-below").textContent = below === null || !state.tiers.length ? ""
    : `Qualifying for no tier today: ${formatPoints(below)}. Members move between tiers at the next scheduled check.`;
}

/** Members per threshold today, from the server; the thresholds sent, or the saved ones. */
async function spread(thresholds) {
  const { ok, data } = await api("/api/tiers/preview", { method: "POST", body: thresholds ? { thresholds } : {} });
  if (!ok) return null;
  return { below: data.no_tier, counts: new Map(data.tiers.map((t) => [String(t.threshold), t.members])) };
}

async function load() {
  const { ok, status, data } = await api("/api/tiers");
  if (!ok) {
    if (status !== 401) showBanner("critical", "Tiers unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  // A tier saved meanwhile keeps the qualification's unsaved change: the save bar still holds it.
  const typed = state.tiers && qualificationChanged()
    ? { basis: qualification.elements.tier_basis.value, window: qualification.elements.tier_window.value } : null;
  state = data;
  await loadPerkRewards();
  qualification.elements.tier_basis.value = typed ? typed.basis : state.tier_basis;
  qualification.elements.tier_window.value = typed ? typed.window : state.tier_window;
  announce();
  show();
  const members = await spread(null);
  if (members) show(members.counts, members.below);
  section.setAttribute("aria-busy", "false");
  section.dataset.loaded = `tiers:${state.tiers.length}`;
}

function openForm(tier) {
  editing = tier;
  clearFieldErrors(form);
  byId("tier-form-title").textContent = tier ? `Edit ${tier.name}` : "Add tier";
  form.elements.name.value = tier?.name ?? "";
  form.elements.threshold.value = tier ? String(tier.threshold) : "";
  form.elements.multiplier.value = tier ? plainDecimal(tier.multiplier) : "1";
  form.elements.perks.value = tier?.perks ?? "";
  form.elements.product_id.value = tier?.product_id ?? "";
  form.elements.perk_reward_id.value = tier?.perk_reward_id ? String(tier.perk_reward_id) : "";
  byId("tier-preview").textContent = "";
  form.hidden = false;
  form.elements.name.focus();
}

const edit = (tier) => openForm(tier);

async function remove(tier) {
  const { ok, data, status } = await api(`/api/tiers/${tier.id}`, { method: "DELETE" });
  if (!ok) {
    if (status !== 401) showBanner("critical", "The tier was not removed", data?.error ?? `HTTP ${status}`);
    return;
  }
  toast(`${tier.name} removed; its members move at the next check, within 5 minutes`);
  await load();
}

function typed() {
  const tier = { name: form.elements.name.value, threshold: form.elements.threshold.value.trim(),
    multiplier: form.elements.multiplier.value.trim() || "1", perks: form.elements.perks.value };
  const product = form.elements.product_id.value.trim();
  tier.product_id = product === "" ? null : product;
  const perk = form.elements.perk_reward_id.value;
  tier.perk_reward_id = perk === "" ? null : Number(perk);
  if (/^\d{1,15}$/.test(tier.threshold) && state.tier_basis === "points_earned") tier.threshold = Number(tier.threshold);
  return tier;
}

/** While a threshold is typed: how many members it would hold today, beside the other tiers. */
function previewTyped() {
  clearTimeout(previewTimer);
  const threshold = typed().threshold;
  const others = state.tiers.filter((t) => t.id !== editing?.id).map((t) => t.threshold);
  if (threshold === "" || others.map(String).includes(String(threshold))) {
    byId("tier-preview").textContent = "";
    return;
  }
  previewTimer = setTimeout(async () => {
    const members = await spread([...others, threshold]);
    if (!members || String(typed().threshold) !== String(threshold)) return;
    const count = members.counts.get(String(threshold));
    byId("tier-preview").textContent = count === undefined ? ""
      : `${formatPoints(count)} member${count === 1 ? "" : "s"} would be in this tier today.`;
  }, PREVIEW_DELAY_MS);
}

async function saveTier() {
  clearFieldErrors(form);
  const path = editing ? `/api/tiers/${editing.id}` : "/api/tiers";
  const { ok, status, data } = await api(path, { method: editing ? "PATCH" : "POST", body: typed() });
  if (ok) {
    toast(`${editing ? "Tier saved" : "Tier added"}; members move at the next check, within 5 minutes`);
    form.hidden = true;
    await load();
    return;
  }
  if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "The tier was not saved", other);
  } else if (status !== 401) {
    showBanner("critical", "The tier was not saved", data?.error ?? `HTTP ${status}`);
  }
  toast("Tier not saved", { error: true });
}

function announce() {
  document.dispatchEvent(new CustomEvent("loyalty:settings-changed"));
}

/** The page's save bar asks: has the qualification changed since it was loaded or saved? */
export function qualificationChanged() {
  return qualification.elements.tier_basis.value !== state.tier_basis
    || qualification.elements.tier_window.value !== state.tier_window;
}

/** The save bar's Discard: the saved qualification again. */
export function discardQualification() {
  qualification.elements.tier_basis.value = state.tier_basis;
  qualification.elements.tier_window.value = state.tier_window;
  clearFieldErrors(qualification);
}

/** Save the qualification (the save bar's Save); resolves to whether it was saved. */
export async function saveQualification() {
  clearFieldErrors(qualification);
  const body = { tier_basis: qualification.elements.tier_basis.value, tier_window: qualification.elements.tier_window.value };
  const { ok, status, data } = await api("/api/program", { method: "PATCH", body });
  if (!ok) {
    if (status === 422) showFieldErrors(qualification, data.fields);
    toast("Qualification not saved", { error: true });
    return false;
  }
  toast("Qualification saved; members move at the next check, within 5 minutes");
  await load();
  return true;
}

qualification.addEventListener("change", announce);
qualification.addEventListener("submit", (event) => {
  event.preventDefault();
  document.dispatchEvent(new CustomEvent("loyalty:settings-save"));
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  saveTier();
});
form.elements.threshold.addEventListener("input", previewTyped);
byId("add-tier").addEventListener("click", () => openForm(null));
byId("cancel-tier").addEventListener("click", () => {
  form.hidden = true;
  clearFieldErrors(form);
});

load();
