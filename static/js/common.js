// What every page module shares: the json_script data blocks, translated text, building
// elements, the CSRF token, calling the JSON API, and dates as the server renders them.
// live.js stays the one socket module; this one has no side effects and no dependencies.

/** The parsed content of a json_script block; `fallback` when it is missing or not JSON. */
export function readJson(id, fallback) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return fallback;
  }
}

/** Translated text for `key` from the page's `text` block, with {placeholders} filled in. */
export function translate(text, key, values = {}) {
  const template = text[key] || key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in values ? String(values[name]) : whole,
  );
}

/** A translator over the page's text block: t("key", {n: 3}) fills {n}. */
export function translator(text) {
  return (key, values) => translate(text, key, values);
}

/**
 * document.createElement with a class, text, attributes and children, in one call. Attributes
 * that are undefined, null or false are left out, and so are null and undefined children.
 */
export function el(tag, { cls, txt, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (txt !== undefined && txt !== null) node.textContent = String(txt);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A `type="button"` button with the app's classes and an optional click handler. */
export function button(label, { cls = "button--secondary button--small", attrs, onClick } = {}) {
  const node = el("button", { cls: `button ${cls}`, txt: label, attrs: { type: "button", ...attrs } });
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

/** The CSRF token: from a csrf_token input under `scope` (if any), else from the cookie. */
export function csrfToken(scope = document) {
  const input = scope && scope.querySelector("input[name=csrfmiddlewaretoken]");
  if (input && input.value) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/**
 * Call the API and read the JSON answer: resolves to {status, ok, data}.
 * - Anything but GET sends the CSRF token (read under `csrfScope`, see csrfToken).
 * - `body`: a FormData goes as it is (multipart); anything else but undefined as JSON.
 * - `data` is null when the answer is not JSON; `status` is 0 (and `ok` false) when the server
 *   could not be reached. Only an abort through a given `signal` rejects (with its AbortError).
 */
export async function apiFetch(url, { method = "GET", body, signal, csrfScope = document } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (signal) options.signal = signal;
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken(csrfScope);
  if (body instanceof FormData) {
    options.body = body;
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    if (signal && error && error.name === "AbortError") throw error;
    return { status: 0, ok: false, data: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null; // not JSON: the caller reports it by its status
  }
  return { status: response.status, ok: response.ok, data };
}

/**
 * "YYYY-MM-DD HH:MM" (with `seconds`, "…:SS") of a Date in `timeZone` (the business zone), as the
 * server renders times; null when the zone or the date cannot be formatted.
 */
export function formatDateTime(date, timeZone, { seconds = false } = {}) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      ...(seconds ? { second: "2-digit" } : {}),
      hourCycle: "h23",
    }).formatToParts(date);
  } catch {
    return null;
  }
  const get = (type) => (parts.find((p) => p.type === type) || {}).value || "";
  const minutes = `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
  return seconds ? `${minutes}:${get("second")}` : minutes;
}
