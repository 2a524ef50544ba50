// The settings page's "Referrals and birthdays" card: referral_points, referral_reward_id
// (an active amount or percentage reward) and birthday_bonus, saved with PATCH /api/program.
// Saved with the page's save bar: settings.js imports what is exported here (one module per
// page, however many scripts name it), shows the bar while this card has unsaved changes too,
// and saves or discards it with the main form. Enter in a field asks the bar to save.
import { api, byId, clearFieldErrors, h, otherErrors, showBanner, showFieldErrors, toast, wholeNumber } from "./panel.js";

const form = byId("referral-settings-form");
const FRIEND_KINDS = ["amount_off", "percentage_off"];
// What the card showed when loaded or last saved: the program and rewards, and its values as JSON.
let last = null;

function values() {
  const points = (name) => {
    const value = wholeNumber(form.elements[name].value);
    return value === null ? "" : value;
  };
  const reward = form.elements.referral_reward_id.value;
  return { referral_points: points("referral_points"), birthday_bonus: points("birthday_bonus"),
           referral_reward_id: reward === "" ? null : Number(reward) };
}

function fill(program, rewards) {
  const select = form.elements.referral_reward_id;
  const offered = rewards.filter((reward) => reward.active && FRIEND_KINDS.includes(reward.kind));
  select.replaceChildren(h("option", { value: "" }, "None"),
    ...offered.map((reward) => h("option", { value: reward.id }, reward.name)));
  select.value = program.referral_reward_id === null ? "" : String(program.referral_reward_id);
  form.elements.referral_points.value = String(program.referral_points);
  form.elements.birthday_bonus.value = String(program.birthday_bonus);
  last = { program, rewards, values: JSON.stringify(values()) };
}

/** The page's save bar asks: has this card changes not saved yet? */
export function referralsChanged() {
  return last !== null && JSON.stringify(values()) !== last.values;
}

/** The save bar's Discard: back to what was loaded or last saved. */
export function discardReferrals() {
  if (last !== null) fill(last.program, last.rewards);
  clearFieldErrors(form);
}

function announce() {
  document.dispatchEvent(new CustomEvent("loyalty:settings-changed"));
}

/** Save the card; resolves to whether it was saved. */
export async function saveReferrals() {
  clearFieldErrors(form);
  const { ok, status, data } = await api("/api/program", { method: "PATCH", body: values() });
  if (ok) {
    fill(data, last?.rewards ?? []);
    announce();
    toast("Referrals and birthdays saved");
    return true;
  }
  if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "Referrals and birthdays were not saved", other);
  } else if (status !== 401) {
    showBanner("critical", "Referrals and birthdays were not saved", data?.error ?? `HTTP ${status}`);
  }
  toast("Not saved", { error: true });
  return false;
}

async function load() {
  const [program, rewards] = await Promise.all([api("/api/program"), api("/api/rewards")]);
  if (!program.ok || !rewards.ok) return; // the main settings script reports the failure
  fill(program.data, rewards.data.rewards);
  form.setAttribute("aria-busy", "false");
  announce();
}

form.addEventListener("input", announce);
form.addEventListener("change", announce);
// Enter in a field saves the page, as in the main form (this form has no button of its own,
// so the browser would not submit it).
form.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
  event.preventDefault();
  document.dispatchEvent(new CustomEvent("loyalty:settings-save"));
});
form.addEventListener("submit", (event) => event.preventDefault());
load();
