// What every page of the panel shares: the session token, calls to /api, links between
// pages, and the few Polaris-like pieces (banners, toasts, field errors, tables).
//
// Data from the API is only ever written with textContent, text nodes and attributes,
// never as markup: a customer named "<script>" must stay a name. The one exception is
// the dashboard's charts, SVG drawn by our own server; see insertSvg below.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

// The id token this page was opened with; the server puts it here only after verifying it.
const openingToken = meta("loyalty-id-token");

/** A session token for the next request: fresh from App Bridge when it loaded, else the opening one. */
export async function sessionToken() {
  if (window.shopify && typeof window.shopify.idToken === "function") {
    try {
      return await window.shopify.idToken();
    } catch (error) {
      console.warn("App Bridge gave no token; using the page's", error);
    }
  }
  return openingToken;
}

/** Call the admin API; resolves to {ok, status, data} and never throws for HTTP errors. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${await sessionToken()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    return { ok: false, status: 0, data: { error: "the app could not be reached" } };
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
  }
  if (response.status === 401) {
    showBanner("critical", "Session expired", "Reload the page from the store admin to go on.");
  }
  return { ok: response.ok, status: response.status, data };
}

/** A URL of another panel page, carrying the admin's shop and host (the token is added on click). */
export function panelUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  url.searchParams.set("shop", meta("loyalty-shop"));
  if (meta("loyalty-host")) url.searchParams.set("host", meta("loyalty-host"));
  url.searchParams.set("embedded", "1");
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.pathname + url.search;
}

/** Go to another panel page with a fresh session token, as the admin itself opens pages. */
export async function navigate(href) {
  const url = new URL(href, window.location.href);
  url.searchParams.set("id_token", await sessionToken());
  window.location.assign(url.toString());
}

document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-panel-link]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});

/** Build an element: `props` become attributes (or listeners for on* functions), children text. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

export const byId = (id) => document.getElementById(id);

/** Replace the panel's banners with one: tone is critical, warning, success or info. */
export function showBanner(tone, title, message, { id } = {}) {
  const banner = h("div", { class: `banner banner-${tone}`, role: tone === "critical" ? "alert" : "status", id },
    h("div", { class: "banner-title" }, title),
    message ? h("div", { class: "banner-body" }, message) : null);
  byId("banners").replaceChildren(banner);
  return banner;
}

export function clearBanners() {
  byId("banners").replaceChildren();
}

/** A short message at the bottom: App Bridge's toast in the admin, our own otherwise. */
export function toast(message, { error = false } = {}) {
  if (window.shopify?.toast?.show) {
    window.shopify.toast.show(message, { isError: error });
    return;
  }
  const node = h("div", { class: `toast${error ? " toast-error" : ""}` }, message);
  byId("toasts").append(node);
  setTimeout(() => node.remove(), 5000);
}

/** Show the API's 422 messages next to their fields; labels name the fields in the message. */
export function showFieldErrors(form, fields = {}) {
  clearFieldErrors(form);
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) continue;
    const field = slot.closest(".field");
    const label = field?.querySelector("label")?.textContent.trim().split(/\s*\(/)[0] ?? name;
    slot.textContent = `${label} ${message}`;
    slot.hidden = false;
    field?.classList.add("field-invalid");
    const input = field?.querySelector("input, select");
    input?.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  first?.focus();
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.hidden = true;
    slot.textContent = "";
    slot.closest(".field")?.classList.remove("field-invalid");
    slot.closest(".field")?.querySelector("[aria-invalid]")?.removeAttribute("aria-invalid");
  }
}

/** Fields the form has no place for (a bad body, say): their messages as one line. */
export function otherErrors(form, fields = {}) {
  return Object.entries(fields)
    .filter(([name]) => !form.querySelector(`[data-error-for="${CSS.escape(name)}"]`))
    .map(([name, message]) => `${name.replace(/^_/, "")} ${message}`).join("; ");
}

/** A whole number typed in a field, or what was typed (for the API to explain), or null if empty. */
export function wholeNumber(text) {
  const value = text.trim();
  if (value === "") return null;
  return /^[-+]?\d{1,15}$/.test(value) ? Number(value) : value;
}

export function optionalText(text) {
  const value = text.trim();
  return value === "" ? null : value;
}

/** A decimal string without exponent: the API writes a round decimal such as 10 as "1E+1". */
export function plainDecimal(value) {
  const text = String(value);
  return /e/i.test(text) ? String(Number(text)) : text;
}

const numbers = new Intl.NumberFormat(undefined);
const shopCurrency = document.querySelector('meta[name="loyalty-currency"]')?.content ?? "";

/**
 * Money as the shop shows it, the one helper every panel page uses: exact (the API's decimal
 * string, never through a float), grouped, at least two decimals, with the shop's currency
 * symbol once `shop/update` has told us the currency ("$1,234.50"; "1,234.50" before).
 */
export function formatMoney(value, currency = shopCurrency) {
  if (value === null || value === undefined) return "—";
  const text = plainDecimal(String(value).trim());
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
  let prefix = "";
  let suffix = "";
  let places = 2; // the currency's own (0 for yen); never fewer than the amount has
  if (currency) {
    try {
      const format = new Intl.NumberFormat("en-US", { style: "currency", currency, currencyDisplay: "narrowSymbol" });
      places = format.resolvedOptions().maximumFractionDigits;
      const parts = format.formatToParts(1);
      const first = parts.findIndex((part) => part.type === "integer");
      const last = parts.findLastIndex((part) => ["integer", "decimal", "fraction"].includes(part.type));
      prefix = parts.slice(0, first).map((part) => part.value).join("");
      suffix = parts.slice(last + 1).map((part) => part.value).join("");
    } catch (error) {
      suffix = ` ${currency}`; // a code Intl does not know: shown as the code
    }
  }
  const digits = fraction.replace(/0+$/, "").padEnd(places, "0");
  const amount = `${BigInt(whole || "0").toLocaleString("en-US")}${digits ? `.${digits}` : ""}`;
  return `${negative ? "-" : ""}${prefix}${amount}${suffix}`;
}

export function formatPoints(points) {
  return points === null || points === undefined ? "—" : numbers.format(points);
}

export function signedPoints(points) {
  return points > 0 ? `+${numbers.format(points)}` : `−${numbers.format(Math.abs(points))}`;
}

export function formatDate(iso, { time = true } = {}) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, time ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" });
}

export function badge(text, tone = "") {
  return h("span", { class: `badge${tone ? ` badge-${tone}` : ""}` }, text);
}

/** Empty a table body and show (or hide) its empty-state line. */
export function fillTable(tbody, rows, emptyNode) {
  tbody.replaceChildren(...rows);
  labelCells(tbody);
  if (emptyNode) emptyNode.hidden = rows.length > 0;
}

/** Each cell names its column (`data-label`): on a narrow screen a row is a card, with no header row. */
export function labelCells(tbody) {
  const names = [...(tbody.closest("table")?.querySelectorAll("thead th") ?? [])].map((th) => th.textContent.trim());
  for (const row of tbody.rows) {
    [...row.cells].forEach((cell, index) => {
      if (names[index]) cell.dataset.label = names[index];
    });
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Put a chart our server drew into `container`. It is parsed as SVG (not HTML) and stripped
 * of anything that could run (scripts, foreign content, event handlers, javascript: links),
 * so even a chart that somehow carried a shopper's name as markup stays a picture.
 */
export function insertSvg(container, markup) {
  const parsed = new DOMParser().parseFromString(String(markup ?? ""), "image/svg+xml");
  const root = parsed.documentElement;
  if (!root || root.namespaceURI !== SVG_NS || root.localName !== "svg" || parsed.querySelector("parsererror")) {
    container.replaceChildren(h("p", { class: "empty" }, "The chart could not be drawn."));
    return;
  }
  for (const node of root.querySelectorAll("script, foreignObject, iframe, object, embed")) node.remove();
  for (const node of [root, ...root.querySelectorAll("*")]) {
    for (const attribute of [...node.attributes]) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.trim().toLowerCase();
      if (name.startsWith("on") || ((name === "href" || name.endsWith(":href")) && !value.startsWith("#"))) {
        node.removeAttribute(attribute.name);
      }
    }
  }
  container.replaceChildren(document.importNode(root, true));
}
