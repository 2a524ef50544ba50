// Program settings: GET and PATCH /api/program, a save bar while there are unsaved
// changes, the API's 422 messages next to their fields, and a plain-words preview whose
// points come from POST /api/program/preview: the server runs the rules that award orders,
// so no earning arithmetic lives here to drift from them. The save bar is the page's one Save:
// it shows while this form, the "Referrals and birthdays" card or the tiers' qualification
// has unsaved changes, and its Save and Discard act on all three (each tier in the list keeps
// its own Save, as an item of a list).
import {
  api, byId, clearBanners, clearFieldErrors, otherErrors, plainDecimal, showBanner, showFieldErrors, toast,
  wholeNumber,
} from "./panel.js";
import { discardReferrals, referralsChanged, saveReferrals } from "./settings_referrals.js";
import { discardQualification, qualificationChanged, saveQualification } from "./tiers.js";

const form = byId("settings-form");
const saveBar = byId("save-bar");
const FLAGS = ["exclude_gift_cards", "award_test_orders", "return_points_on_expiry"];
const DAYS = ["pending_days", "expiry_reminder_days"];
const SAMPLE_ORDER = "40.00";
const PREVIEW_DELAY_MS = 250; // typing "1.25" asks once, not four times
let saved = null;
// The server's last sentence about the sample order, and the settings it was asked about.
let earned = { asked: null, line: null };
let previewTimer = null;

function fill(program) {
  form.elements.points_per_currency_unit.value = plainDecimal(program.points_per_currency_unit);
  form.elements.signup_bonus.value = String(program.signup_bonus);
  form.elements.excluded_order_tags.value = program.excluded_order_tags.join(", ");
  for (const flag of FLAGS) form.elements[flag].checked = Boolean(program[flag]);
  for (const name of DAYS) form.elements[name].value = String(program[name]);
  form.elements.expiry_policy.value = program.expiry_policy;
  form.elements.expiry_months.value = program.expiry_months === null ? "" : String(program.expiry_months);
}

/** The form as the API's fields; what cannot be read is sent as typed, for the API to explain. */
function values() {
  const bonus = wholeNumber(form.elements.signup_bonus.value);
  const program = {
    points_per_currency_unit: form.elements.points_per_currency_unit.value.trim(),
    signup_bonus: bonus === null ? "" : bonus,
    excluded_order_tags: form.elements.excluded_order_tags.value.split(",").map((tag) => tag.trim()).filter(Boolean),
  };
  for (const flag of FLAGS) program[flag] = form.elements[flag].checked;
  for (const name of DAYS) {
    const days = wholeNumber(form.elements[name].value);
    program[name] = days === null ? "" : days;
  }
  program.expiry_policy = form.elements.expiry_policy.value;
  program.expiry_months = wholeNumber(form.elements.expiry_months.value);
  return program;
}

function asSaved(program) {
  const { signup_bonus, excluded_order_tags } = program;
  const points_per_currency_unit = plainDecimal(program.points_per_currency_unit);
  const flags = Object.fromEntries(FLAGS.map((flag) => [flag, program[flag]]));
  const days = Object.fromEntries(DAYS.map((name) => [name, program[name]]));
  const { expiry_policy, expiry_months } = program;
  return { points_per_currency_unit, signup_bonus, excluded_order_tags, ...flags, ...days, expiry_policy, expiry_months };
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** The lifecycle settings in plain words; the months field shows only when points expire. */
function showLifecycle(program) {
  const expiring = program.expiry_policy !== "never";
  byId("expiry_months").closest(".field").hidden = !expiring;
  byId("expiry_reminder_days").closest(".field").hidden = !expiring;
  const lines = [];
  if (Number.isInteger(program.pending_days)) {
    lines.push(program.pending_days > 0
      ? `An order's points can be spent ${plural(program.pending_days, "day")} after the order.`
      : "An order's points can be spent at once.");
  }
  const months = program.expiry_months;
  if (!expiring) {
    lines.push("Points never expire.");
  } else if (!Number.isInteger(months)) {
    lines.push("Enter the months after which points expire.");
  } else if (program.expiry_policy === "inactivity") {
    lines.push(`A shopper's points all expire after ${plural(months, "month")} without earning or redeeming.`);
  } else {
    lines.push(`Each order's points expire ${plural(months, "month")} after the order; spending uses the oldest first.`);
  }
  if (expiring && Number.isInteger(program.expiry_reminder_days) && program.expiry_reminder_days > 0) {
    lines.push(`Shoppers are reminded ${plural(program.expiry_reminder_days, "day")} before.`);
  }
  byId("lifecycle-preview").textContent = lines.join(" ");
}

/** What the preview asks the server: the sample order under the rate and flag as typed,
 * as JSON text so that two questions compare with ===. */
function previewQuestion(program) {
  const { points_per_currency_unit, exclude_gift_cards } = program;
  return JSON.stringify({ points_per_currency_unit, exclude_gift_cards, subtotal: SAMPLE_ORDER, gift_card_total: "0" });
}

function earnedLine({ ok, status, data }) {
  if (ok) return `A ${SAMPLE_ORDER} order earns ${data.points} point${data.points === 1 ? "" : "s"}.`;
  if (status === 422) return "Enter a rate such as 1 or 0.5 to see what an order earns.";
  return "What an order earns cannot be shown right now.";
}

/** The preview sentence: the server's line about points, then the rest in plain words. */
function showPreview(program) {
  const lines = earned.line === null ? [] : [earned.line];
  if (program.exclude_gift_cards) lines.push("Gift cards in an order earn nothing.");
  if (program.excluded_order_tags.length) {
    lines.push(`Orders tagged ${program.excluded_order_tags.join(" or ")} earn nothing.`);
  }
  if (Number.isInteger(program.signup_bonus) && program.signup_bonus > 0) {
    lines.push(`New customers get ${program.signup_bonus} points when they open an account.`);
  }
  byId("preview").textContent = lines.join(" ") || "—";
}

async function askServer(question) {
  const answer = await api("/api/program/preview", { method: "POST", body: JSON.parse(question) });
  // An answer about settings since changed is dropped: the call for the new ones is due.
  if (question !== previewQuestion(values())) return;
  // A failure may pass (a network blip, a deploy), so only a real answer is remembered.
  const settled = answer.ok || answer.status === 422;
  earned = { asked: settled ? question : null, line: earnedLine(answer) };
  byId("preview").setAttribute("aria-busy", "false");
  showPreview(values());
}

function preview() {
  const program = values();
  const question = previewQuestion(program);
  showLifecycle(program);
  showPreview(program); // the words need no server; the points line stays until its answer
  clearTimeout(previewTimer);
  const waiting = question !== earned.asked;
  byId("preview").setAttribute("aria-busy", String(waiting));
  if (waiting) previewTimer = setTimeout(() => askServer(question), PREVIEW_DELAY_MS);
}

function mainChanged() {
  return saved !== null && JSON.stringify(values()) !== JSON.stringify(asSaved(saved));
}

function showSaveBar() {
  saveBar.hidden = !(mainChanged() || referralsChanged() || qualificationChanged());
}

function changed() {
  preview();
  showSaveBar();
}

/** Save this form (unless only another part changed), then the referrals card and the tiers'
 * qualification when they have changes (each its own PATCH and errors, after this form's,
 * whose success clears the banners). */
async function save() {
  if (mainChanged() || !(referralsChanged() || qualificationChanged())) await saveMain();
  if (referralsChanged()) await saveReferrals();
  if (qualificationChanged()) await saveQualification();
  showSaveBar();
}

async function saveMain() {
  clearFieldErrors(form);
  const { ok, status, data } = await api("/api/program", { method: "PATCH", body: values() });
  if (ok) {
    saved = data;
    fill(saved);
    changed();
    clearBanners();
    toast("Settings saved");
    return;
  }
  if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    showBanner("critical", "The settings were not saved", other || "Fix the fields marked below, then save again.");
  } else if (status !== 401) {
    showBanner("critical", "The settings were not saved", data?.error ?? `HTTP ${status}`);
  }
  toast("Settings not saved", { error: true });
}

async function load() {
  const { ok, status, data } = await api("/api/program");
  if (!ok) {
    if (status !== 401) showBanner("critical", "Settings unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  saved = data;
  fill(saved);
  changed();
  form.setAttribute("aria-busy", "false");
  document.body.dataset.loaded = "program";
}

form.addEventListener("input", changed);
form.addEventListener("change", changed);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  save();
});
document.addEventListener("loyalty:settings-changed", showSaveBar);
document.addEventListener("loyalty:settings-save", save); // Enter in another part's field
byId("discard").addEventListener("click", () => {
  fill(saved);
  discardReferrals();
  discardQualification();
  clearFieldErrors(form);
  clearBanners();
  changed();
});

load();
