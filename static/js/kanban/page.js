// What every module of the shared board (/kanban/) shares: the page's config and text (the
// json_script blocks `kanban-config`, `kanban-i18n`), the ONE board state (state.js), calling
// the API, names and dates in the reader's language, toasts and the screen-reader announcer.

import { apiFetch, el, readJson, translator } from "../common.js";
import { createState, DONE_SHOWN } from "./state.js";

export const config = readJson("kanban-config", {});
export const text = readJson("kanban-i18n", {});
export const t = translator(text);
export const root = document.getElementById("kb-page");
export const CAN_EDIT = Boolean(config.canEdit);
export const ME = config.username || "";
const LOCALE = config.locale || "en-GB";
const MAX_TOASTS = 4;

/** The board as this page shows it (see state.js); every module changes this one object. */
export const S = createState({ doneShown: config.doneShown || DONE_SHOWN });

// ---- names, numbers and dates -------------------------------------------------------------------

export const departmentName = (key) => (config.departments && config.departments[key]) || key;
export const typeName = (key) => (config.types && config.types[key]) || key;
export const columnName = (column) =>
  column ? (config.columns && config.columns[column.name]) || column.name : "";
export const laneName = (lane) => (lane ? departmentName(lane.department) : "");
export const metricName = (key) => (config.metrics && config.metrics[key]) || key;
export const number1 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(LOCALE, { month: "short", day: "numeric" });
const timeFormat = new Intl.DateTimeFormat(LOCALE, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

export function formatDay(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return dayFormat.format(new Date(y, m - 1, d));
}

export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/** Who made a change: the username, else "system". */
export function who(by) {
  return by || t("system");
}

/** A field's name for messages: "fieldTitle", "fieldDue_date", … in the text block. */
export function fieldLabel(name) {
  return t(`field${name[0].toUpperCase()}${name.slice(1)}`);
}

// ---- the API ------------------------------------------------------------------------------------

/** Call the API: {status, data}; status 0 when the server could not be reached. */
export function api(method, path, body) {
  return apiFetch(path, { method, body: method === "GET" ? undefined : body, csrfScope: root });
}

/** The first message of an error answer: field errors, detail, or the status. */
export function failure(status, data) {
  if (status === 0) return t("network");
  if (status === 401) return t("signedOut");
  if (status === 403) return (data && data.detail) || t("forbidden");
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return data.detail;
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
      if (typeof value === "string") return value;
    }
  }
  return t("unexpected", { status });
}

/** Who changed a card last (after a 409): its history's last entry, else the last event's. */
export async function whoChanged(id) {
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/history/`);
  if (status === 200 && data && data.items && data.items.length) {
    const last = data.items[data.items.length - 1];
    return last.by || t("system");
  }
  return S.lastBy.get(id) || t("someone");
}

// ---- toasts and announcements -------------------------------------------------------------------

const toasts = document.getElementById("kb-toasts");
let overflowToast = null;
let overflowCount = 0;

export function toast(message, kind = "info", { ms = 6000 } = {}) {
  if (!toasts) return;
  if (toasts.children.length >= MAX_TOASTS && kind === "live") {
    overflowCount += 1;
    if (!overflowToast || !overflowToast.isConnected) {
      overflowToast = el("div", { cls: "kb-toast kb-toast--live" });
      toasts.append(overflowToast);
      setTimeout(() => {
        overflowToast.remove();
        overflowCount = 0;
      }, ms);
    }
    overflowToast.textContent = `+${overflowCount}`;
    return;
  }
  const node = el("div", { cls: `kb-toast kb-toast--${kind}`, txt: message });
  const close = el("button", { cls: "kb-toast__close", txt: "×", attrs: { type: "button", "aria-label": t("close") } });
  close.addEventListener("click", () => node.remove());
  node.append(close);
  toasts.append(node);
  setTimeout(() => node.remove(), kind === "error" ? ms * 2 : ms);
}

const announcer = document.getElementById("kb-announce");
export function announce(message) {
  if (!announcer) return;
  announcer.textContent = "";
  // A fresh text node each time, so screen readers repeat identical messages.
  requestAnimationFrame(() => {
    announcer.textContent = message;
  });
}
