// One member: balance, tier, lifetime points, the ledger, their codes, and a manual
// adjustment (POST /api/members/<id>/adjustments). An adjustment the API asks to confirm
// (below zero, or a large one) is shown with its risks and sent again only when the merchant
// says so; any adjustment can be undone (.../adjustments/<entry id>/reversal). The customer
// id comes from the URL, so it can be anything: only what the shop-scoped API answers for it
// is ever shown.
import {
  api, badge, byId, clearBanners, clearFieldErrors, fillTable, formatDate, formatMoney, formatPoints, h, otherErrors,
  plainDecimal, showBanner, showFieldErrors, signedPoints, toast, wholeNumber,
} from "./panel.js";

const customerId = document.body.dataset.customerId;
const storeHandle = document.body.dataset.storeHandle;
const form = byId("adjust");

const ENTRY_KINDS = {
  order_award: "Order paid",
  refund_reversal: "Refund",
  cancel_reversal: "Order cancelled",
  signup_bonus: "Signup bonus",
  adjustment: "Manual adjustment",
  adjustment_reversal: "Adjustment undone",
  import: "Imported",
  import_reversal: "Import reverted",
  redemption: "Reward redeemed",
  redemption_return: "Points returned",
  expiry: "Points expired",
  referral: "Referral",
  referral_reversal: "Referral reversed",
  birthday_bonus: "Birthday bonus",
};
const CODE_TONES = { issued: "success", used: "", pending: "attention", expired: "", failed: "critical" };

function displayName(member) {
  const name = [member.first_name, member.last_name].filter(Boolean).join(" ");
  return name || member.email || `Customer ${member.customer_id}`;
}

function adminOrderUrl(orderId) {
  return `https://admin.shopify.com/store/${encodeURIComponent(storeHandle)}/orders/${encodeURIComponent(orderId)}`;
}

function source(entry) {
  const kind = ENTRY_KINDS[entry.kind] ?? entry.source?.type ?? entry.kind;
  // A referral's source is the friend's order, which is not the member's own order_id.
  const orderId = entry.order_id ?? (entry.source?.type === "order" ? entry.source.id : null);
  if (!orderId) return [kind];
  // The admin is the top window; this page is only its iframe.
  const link = h("a", { href: adminOrderUrl(orderId), target: "_top", rel: "noopener" }, `Order ${orderId}`);
  return entry.kind === "order_award" ? [link] : [kind, " · ", link];
}

/** An award's breakdown under its reason: what the base rate, each rule and the tier gave. */
function breakdown(entry) {
  if (!Array.isArray(entry.breakdown) || entry.breakdown.length === 0) return null;
  return h("ul", { class: "breakdown", "aria-label": "How these points were earned" },
    entry.breakdown.map((item) => h("li", {},
      h("span", { class: "breakdown-label" }, item.label),
      h("span", { class: "breakdown-points" }, item.points === 0 ? "0" : signedPoints(item.points)))));
}

function ledgerRow(entry, undone) {
  return h("tr", { "data-entry-id": entry.id },
    h("td", { class: "date" }, formatDate(entry.created_at)),
    h("td", { class: `num ${entry.delta > 0 ? "positive" : "negative"}` }, signedPoints(entry.delta)),
    h("td", {}, h("div", {}, entry.reason), breakdown(entry)),
    h("td", {}, ...source(entry)),
    h("td", { class: "actions-col" }, undoControl(entry, undone)));
}

/** An adjustment's "Undo", or a badge once a reversal names it (the API refuses a second one). */
function undoControl(entry, undone) {
  if (entry.kind !== "adjustment") return null;
  if (undone.has(String(entry.id))) return badge("Undone");
  return h("button", { class: "button button-plain", type: "button", "data-undo": entry.id,
    "aria-label": `Undo the adjustment of ${signedPoints(entry.delta)} points`, onclick: () => undo(entry) }, "Undo");
}

function codeRow(redemption) {
  return h("tr", {},
    h("td", {}, redemption.store_credit ? `${formatMoney(redemption.store_credit.amount)} store credit`
      : redemption.code ? h("code", {}, redemption.code) : "—"),
    h("td", {}, badge(redemption.status, CODE_TONES[redemption.status])),
    h("td", { class: "num" }, formatPoints(redemption.points)),
    h("td", {}, formatDate(redemption.created_at)),
    h("td", {}, formatDate(redemption.expires_at, { time: false })));
}

function renderFigures(member) {
  byId("balance").textContent = formatPoints(member.balance);
  byId("balance").classList.toggle("negative", member.balance < 0);
  byId("member-pending").textContent = formatPoints(member.pending);
  // An adjustment's answer has no next_expiry: the one shown stays until the page reloads.
  if ("next_expiry" in member) {
    const expiry = member.next_expiry;
    byId("member-expiry").textContent = expiry
      ? `${formatPoints(expiry.points)} points expire on ${expiry.expires_at}` : "";
  }
  // An adjustment's answer says `tier: null` whatever the tier (no tier_progress): keep the one shown.
  if ("tier_progress" in member) renderTier(member);
  byId("lifetime").textContent = formatPoints(member.lifetime_earned);
  const undone = new Set(member.ledger.filter((e) => e.kind === "adjustment_reversal").map((e) => e.source.id));
  fillTable(byId("ledger"), member.ledger.map((entry) => ledgerRow(entry, undone)), byId("ledger-empty"));
}

/** The tier card: `tier` is null or {id, name, multiplier, since, paid_until}; the note says what
 * it gives and, from `tier_progress`, how far the next tier is. */
function renderTier(member) {
  const { tier, tier_progress: progress } = member;
  byId("tier").textContent = tier ? tier.name : "No tier";
  const notes = [];
  if (tier) notes.push(`× ${plainDecimal(tier.multiplier)} points since ${formatDate(tier.since, { time: false })}`);
  if (tier?.paid_until) {
    notes.push(tier.paid_until.startsWith("9999") ? "given for good"
      : `held until ${formatDate(tier.paid_until, { time: false })}`);
  }
  if (progress?.next_tier) {
    const remaining = progress.basis === "amount_spent" ? `${plainDecimal(progress.remaining)} to spend`
      : `${formatPoints(progress.remaining)} points`;
    notes.push(`${remaining} to ${progress.next_tier.name}`);
  }
  byId("tier-note").textContent = notes.join("; ");
}

function render(member) {
  const name = displayName(member);
  byId("page-title").textContent = name;
  document.title = `${name} · Loyalty`;
  byId("member-subtitle").textContent = member.email ?? "";
  byId("email").textContent = member.email ?? "—";
  byId("customer-id").textContent = member.customer_id;
  byId("since").textContent = formatDate(member.created_at, { time: false });
  byId("referral-code").textContent = member.referral_code ?? "—";
  byId("birthday").textContent = birthdayText(member.birthday); // MM-DD, set by the shopper or here
  showBirthday(member.birthday);
  showTierChoices(member);
  renderFigures(member);
  fillTable(byId("codes"), (member.redemptions ?? []).map(codeRow), byId("codes-empty"));
  byId("member").hidden = false;
}

function notFound() {
  byId("member").hidden = true;
  byId("page-title").textContent = "Member not found";
  document.title = "Member not found · Loyalty";
  showBanner("critical", "Member not found", "This store has no member with that customer id.", { id: "not-found" });
  document.body.dataset.loaded = "not-found";
}

async function load() {
  if (!/^\d{1,20}$/.test(customerId)) {
    notFound();
    return;
  }
  const { ok, status, data } = await api(`/api/members/${encodeURIComponent(customerId)}`);
  if (status === 404) {
    notFound();
    return;
  }
  if (!ok) {
    if (status !== 401) showBanner("critical", "Member unavailable", data?.error ?? `HTTP ${status}`);
    return;
  }
  render(data);
  document.body.dataset.loaded = "member";
}

const confirmBox = byId("adjust-confirm");

function askToConfirm(risks) {
  const sentence = (risk) => `${risk[0].toUpperCase()}${risk.slice(1)}.`;
  byId("adjust-confirm-risks").replaceChildren(...risks.map((risk) => h("li", {}, sentence(risk))));
  confirmBox.hidden = false;
  byId("adjust-anyway").focus();
}

function closeConfirm() {
  confirmBox.hidden = true;
}

async function adjust(confirm = false) {
  clearFieldErrors(form);
  closeConfirm();
  const points = wholeNumber(form.elements.points.value);
  const body = { points, reason: form.elements.reason.value, ...(confirm ? { confirm: true } : {}) };
  const { ok, status, data } = await api(`/api/members/${encodeURIComponent(customerId)}/adjustments`,
    { method: "POST", body });
  if (ok) {
    renderFigures(data);
    form.reset();
    clearBanners();
    toast(`Points adjusted: ${signedPoints(points)}`);
  } else if (status === 422 && Array.isArray(data?.risks)) {
    askToConfirm(data.risks);
  } else if (status === 422) {
    showFieldErrors(form, data.fields);
    const other = otherErrors(form, data.fields);
    if (other) showBanner("critical", "The points were not adjusted", other);
  } else if (status === 404) {
    notFound();
  } else if (status !== 401) {
    showBanner("critical", "The points were not adjusted", data?.error ?? `HTTP ${status}`);
  }
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December"];
const birthdayForm = byId("birthday-form");

function birthdayText(birthday) {
  if (!birthday) return "—";
  const [month, day] = birthday.split("-").map(Number);
  return `${day} ${MONTHS[month - 1]}`;
}

function showBirthday(birthday) {
  const [month, day] = birthday ? birthday.split("-") : ["", ""];
  birthdayForm.elements.month.value = month;
  birthdayForm.elements.day.value = day;
}

/** The merchant sets or clears the birthday: two selects, no free text to mistype (the API checks the date). */
async function saveBirthday() {
  clearFieldErrors(birthdayForm);
  const { month, day } = birthdayForm.elements;
  const birthday = month.value && day.value ? `${month.value}-${day.value}` : null;
  if ((month.value === "") !== (day.value === "")) {
    showFieldErrors(birthdayForm, { birthday: "must have both a month and a day, or neither to clear it" });
    return;
  }
  const { ok, status, data } = await api(`/api/members/${encodeURIComponent(customerId)}`,
    { method: "PATCH", body: { birthday } });
  if (ok) {
    byId("birthday").textContent = birthdayText(data.birthday);
    toast(birthday ? "Birthday saved" : "Birthday cleared");
  } else if (status === 422) {
    showFieldErrors(birthdayForm, data.fields);
  } else if (status !== 401) {
    showBanner("critical", "The birthday was not saved", data?.error ?? `HTTP ${status}`);
  }
}

birthdayForm.elements.month.append(...MONTHS.map((name, index) =>
  h("option", { value: String(index + 1).padStart(2, "0") }, name)));
birthdayForm.elements.day.append(...Array.from({ length: 31 }, (_, index) =>
  h("option", { value: String(index + 1).padStart(2, "0") }, String(index + 1))));
birthdayForm.addEventListener("submit", (event) => {
  event.preventDefault();
  saveBirthday();
});

const tierForm = byId("tier-form");

/** The tiers the merchant may give, and the one given now (`tier.paid_until` while it runs). */
async function showTierChoices(member) {
  const { ok, data } = await api("/api/tiers");
  if (!ok) return;
  const select = tierForm.elements.tier_id;
  select.replaceChildren(h("option", { value: "" }, "None given"),
    ...data.tiers.map((tier) => h("option", { value: String(tier.id) }, tier.name)));
  const given = member.tier_given;
  select.value = given ? String(given.tier_id) : "";
  tierForm.elements.tier_until.value = given && given.until < "9999" ? given.until.slice(0, 10) : "";
}

/** Give the chosen tier until the end of the chosen day (the merchant's own day), or take it back. */
async function saveTier() {
  clearFieldErrors(tierForm);
  const tierId = tierForm.elements.tier_id.value;
  const day = tierForm.elements.tier_until.value;
  const body = { tier_id: tierId ? Number(tierId) : null };
  if (tierId && day) body.tier_until = new Date(`${day}T23:59:59`).toISOString();
  const { ok, status, data } = await api(`/api/members/${encodeURIComponent(customerId)}`, { method: "PATCH", body });
  if (ok) {
    renderTier(data);
    toast(tierId ? "Tier given" : "Given tier taken back; the next tier check places them");
  } else if (status === 422) {
    showFieldErrors(tierForm, data.fields);
  } else if (status !== 401) {
    showBanner("critical", "The tier was not saved", data?.error ?? `HTTP ${status}`);
  }
}

tierForm.addEventListener("submit", (event) => {
  event.preventDefault();
  saveTier();
});

async function undo(entry) {
  const { ok, status, data } = await api(
    `/api/members/${encodeURIComponent(customerId)}/adjustments/${encodeURIComponent(entry.id)}/reversal`,
    { method: "POST" });
  if (ok) {
    renderFigures(data);
    clearBanners();
    toast(`Adjustment undone: ${signedPoints(-entry.delta)}`);
  } else if (status !== 401) {
    showBanner("critical", "The adjustment was not undone", data?.error ?? `HTTP ${status}`);
    if (status === 409) load();
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  adjust();
});
byId("adjust-anyway").addEventListener("click", () => adjust(true));
byId("adjust-cancel").addEventListener("click", () => {
  closeConfirm();
  form.elements.points.focus();
});
confirmBox.addEventListener("keydown", (event) => {
  if (event.key === "Escape") byId("adjust-cancel").click();
});

load();
