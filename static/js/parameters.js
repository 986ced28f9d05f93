// The /parameters/ page: live values for everyone, in-place editing for managers.
//
// The server renders the tables; this module keeps them live over /ws/parameters/ (snapshot on
// connect and reconnect, then `parameter.changed`, `change_request.created`,
// `change_request.decided`) and talks to /api/parameters/ for every change:
//   PATCH {key}/ {value, version, reason} → 200 state | 202 change request (risk.*) | 400 {value:
//   [...]} | 403 | 409 {detail, value, version, current: [state]}
//   PATCH / {changes: [{key, value, version}], reason} (the budget split) → 200 {parameters} | 202
//   GET {key}/history/, POST {key}/revert/ {version, reason}
//   GET presets/, POST presets/{name}/apply/
//   POST requests/{id}/approve/ | reject/ {note}
//   GET {key}/what-if/?value=, POST calibrate/
// A field someone is editing is never overwritten by a live change: the editor shows a notice,
// and saving with the old version brings up the conflict prompt.

import { apiFetch, button, el, readJson, translator } from "./common.js";
import { connectLive } from "./live.js";

const t = translator(readJson("parameters-i18n", {}));
const config = readJson("parameters-config", {});
const initial = readJson("parameters-state", { parameters: [], requests: [], presets: [] });
const API = "/api/parameters/";
const IS_MANAGER = Boolean(config.isManager);
const ME = config.username || "";
const LOCALE = config.locale || "en-US";
const BUDGET_KEYS = config.budgetKeys || [];
const WHAT_IF_KEYS = config.whatIfKeys || [];
const WHAT_IF_DELAY_MS = 350;
const RECENT_MS = 60 * 60 * 1000;

const state = {
  params: new Map(), // key → parameter state (as GET /api/parameters/ answers)
  requests: new Map(), // id → pending change request
  presets: initial.presets || [],
};
const editors = new Map(); // key → open inline editor
let budgetEditor = null;
let historyKey = null;

// ---- Small helpers ----------------------------------------------------------------------------

const sel = (key) => CSS.escape(key);
const label = (key) => (config.labels && config.labels[key]) || key;

/** Call the API: {status, data}; status 0 when the server could not be reached. Anything but
 * GET sends a JSON body ({} when none is given) and the token of the page's csrf_token. */
function api(method, path, body, { signal } = {}) {
  return apiFetch(path, {
    method,
    body: method === "GET" ? undefined : body || {},
    signal,
    csrfScope: document.getElementById("params-page"),
  });
}

/** A failed answer in words: field errors, detail, or the status. */
function failure(status, data) {
  if (status === 0) return [t("network")];
  if (status === 401) return [t("signedOut")];
  if (status === 403) return [(data && data.detail) || t("forbidden")];
  if (data && typeof data === "object") {
    const messages = [];
    for (const [field, value] of Object.entries(data)) {
      if (field === "current" || field === "request" || field === "version") continue;
      for (const message of [].concat(value)) {
        if (typeof message === "string") messages.push(message);
        else if (message && typeof message === "object") messages.push(...failure(400, message));
      }
    }
    if (messages.length) return messages;
  }
  return [t("unexpected", { status })];
}

// ---- Numbers and times, as the server renders them -----------------------------------------

function unitSuffix(unit) {
  if (!unit) return "";
  return (config.units && config.units[unit]) || ` ${unit}`;
}

function formatNumber(value, maxPlaces, minPlaces = 0) {
  return new Intl.NumberFormat(LOCALE, {
    minimumFractionDigits: minPlaces,
    maximumFractionDigits: Math.max(minPlaces, maxPlaces),
  }).format(value);
}

function formatValue(param, value = param.value) {
  if (param.type === "boolean") return value ? config.choices.true : config.choices.false;
  if (param.type === "choice") return (config.choices && config.choices[value]) || String(value);
  if (typeof value !== "number") return String(value);
  const places = param.decimal_places ?? 0;
  const number =
    param.type === "decimal" && places
      ? formatNumber(value, places, places)
      : formatNumber(value, param.type === "integer" ? 0 : places || 6);
  return number + unitSuffix(param.unit);
}

function formatPct(value, places = 2) {
  if (value === null || value === undefined) return "—";
  return formatNumber(value, places) + unitSuffix("%");
}

function formatSigned(value, formatter) {
  if (value === null || value === undefined) return "—";
  if (value === 0) return formatter(0);
  return (value > 0 ? "+" : "−") + formatter(Math.abs(value));
}

function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: config.timeZone || undefined,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(date);
  } catch {
    return iso;
  }
  const get = (type) => (parts.find((p) => p.type === type) || {}).value || "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** "just now", "5 minutes ago", or the date and time when older than an hour. */
function relativeTime(iso) {
  const date = new Date(iso);
  const age = Date.now() - date.getTime();
  if (Number.isNaN(age)) return "";
  if (age < 60 * 1000) return t("justNow");
  if (age < RECENT_MS) {
    try {
      return new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto" }).format(
        -Math.round(age / 60000),
        "minute",
      );
    } catch {
      return formatTime(iso);
    }
  }
  return formatTime(iso);
}

function isRecent(iso) {
  const age = Date.now() - new Date(iso).getTime();
  return age >= -60000 && age < RECENT_MS;
}

function toast(message, variant = "info") {
  const box = document.getElementById("params-toasts");
  if (!box) return;
  const item = el("div", { cls: `params-toast params-toast--${variant}`, txt: message });
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

function flash(node) {
  if (!node) return;
  node.classList.remove("is-flash");
  void node.offsetWidth; // restart the animation
  node.classList.add("is-flash");
  setTimeout(() => node.classList.remove("is-flash"), 2600);
}

// ---- Painting a parameter wherever it shows -------------------------------------------------

function pendingFor(key) {
  return [...state.requests.values()].filter((r) => key in (r.changes || {}));
}

function metaNodes(param, { live = false } = {}) {
  const nodes = [];
  if (param.updated_by || param.updated_at) {
    const who = param.updated_by || t("system");
    if (param.updated_at && (live || isRecent(param.updated_at))) {
      nodes.push(
        el("span", {
          cls: `param-meta__who${live ? " is-live" : ""}`,
          txt: t("changedBy", { who, when: relativeTime(param.updated_at) }),
          attrs: { "data-when": param.updated_at, title: formatTime(param.updated_at) },
        }),
      );
    } else {
      nodes.push(el("span", { cls: "param-meta__who", txt: t("changedByShort", { who }) }), " ");
      nodes.push(
        el("time", {
          cls: "param-meta__when",
          txt: formatTime(param.updated_at),
          attrs: { datetime: param.updated_at || "" },
        }),
      );
    }
  } else {
    nodes.push(el("span", { cls: "param-meta__who muted", txt: t("neverChanged") }));
  }
  nodes.push(" ", el("span", { cls: "param-version", txt: `v${param.version}`, attrs: { title: t("version") } }));
  return nodes;
}

function paintParam(key, { live = false } = {}) {
  const param = state.params.get(key);
  if (!param) return;
  for (const node of document.querySelectorAll(`[data-param="${sel(key)}"]`)) {
    const role = node.dataset.role;
    if (role === "value") node.textContent = formatValue(param);
    else if (role === "meta") node.replaceChildren(...metaNodes(param, { live }));
    else if (role === "pending") {
      node.replaceChildren(
        ...pendingFor(key).map((request) =>
          el("a", {
            cls: "badge badge--pending",
            txt: t("pendingBadge", { id: request.id, value: formatValue(param, request.changes[key]) }),
            attrs: { href: `#request-${request.id}`, title: t("pendingTitle") },
          }),
        ),
      );
    }
  }
  if (live) {
    const cell = document.querySelector(`[data-param-cell="${sel(key)}"]`);
    flash(cell || rowFor(key));
  }
  if (BUDGET_KEYS.includes(key)) paintBudget();
}

function paintAll() {
  for (const key of state.params.keys()) paintParam(key);
  paintBudget();
  renderPending();
  renderPresets();
}

/** The metas that say "x minutes ago" age with the clock. */
function tickTimes() {
  for (const node of document.querySelectorAll(".param-meta__who[data-when]")) {
    const key = node.closest("[data-param]")?.dataset.param;
    const param = key && state.params.get(key);
    if (!param) continue;
    if (!isRecent(param.updated_at)) paintParam(key);
    else node.textContent = t("changedBy", { who: param.updated_by || t("system"), when: relativeTime(param.updated_at) });
  }
}

function rowFor(key) {
  return [...document.querySelectorAll("tr[data-param-row]")].find((row) =>
    row.dataset.paramRow.split(" ").includes(key),
  );
}

// ---- Validation before sending (the server checks again) -----------------------------------

function boundsHint(param) {
  if (param.type === "boolean" || param.type === "choice") return "";
  const parts = [];
  if (param.min !== null && param.max !== null) {
    parts.push(
      t("hintRange", {
        min: formatNumber(param.min, 6),
        max: formatNumber(param.max, 6) + unitSuffix(param.unit),
      }),
    );
  }
  if (param.type === "integer") parts.push(t("hintWhole"));
  else if (param.decimal_places) parts.push(t("hintDecimals", { n: param.decimal_places }));
  return parts.join(t("listJoin"));
}

/** {value} or {error}: the typed value of what was typed, checked like the registry does. */
function parseValue(param, raw) {
  if (param.type === "boolean") return { value: raw === "true" };
  if (param.type === "choice") return { value: raw };
  const cleaned = String(raw).trim().replace(/,/g, "").replace(/%$/, "").trim();
  if (cleaned === "" || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cleaned)) {
    return { error: t("errNumber") };
  }
  const value = Number(cleaned);
  if (!Number.isFinite(value)) return { error: t("errNumber") };
  if (param.type === "integer" && !Number.isInteger(value)) return { error: t("errWhole") };
  if (param.type !== "integer" && param.decimal_places !== null) {
    const decimals = (cleaned.split(".")[1] || "").replace(/0+$/, "").replace(/e.*$/i, "");
    if (decimals.length > param.decimal_places) {
      return { error: t("errDecimals", { n: param.decimal_places }) };
    }
  }
  if ((param.min !== null && value < param.min) || (param.max !== null && value > param.max)) {
    return {
      error: t("errRange", {
        min: formatNumber(param.min, 6),
        max: formatNumber(param.max, 6) + unitSuffix(param.unit),
      }),
    };
  }
  return { value };
}

/** Cross-field rule of the alert thresholds: warn below critical. */
function ruleError(param, value) {
  const match = /^alert\.(.+)\.(warn|critical)_pct$/.exec(param.key);
  if (!match) return null;
  const otherKey = `alert.${match[1]}.${match[2] === "warn" ? "critical" : "warn"}_pct`;
  const other = state.params.get(otherKey);
  if (!other) return null;
  if (match[2] === "warn" && value >= other.value) {
    return t("errWarnBelow", { value: formatValue(other) });
  }
  if (match[2] === "critical" && value <= other.value) {
    return t("errCriticalAbove", { value: formatValue(other) });
  }
  return null;
}

// ---- Inline editor of one parameter ------------------------------------------------------------

function valueInput(param, id) {
  if (param.type === "boolean" || param.type === "choice") {
    const options = param.type === "boolean" ? ["true", "false"] : param.choices || [];
    const select = el("select", { attrs: { id, name: "value" } });
    for (const option of options) {
      select.append(el("option", { txt: config.choices[option] || option, attrs: { value: option } }));
    }
    select.value = param.type === "boolean" ? String(Boolean(param.value)) : String(param.value);
    return select;
  }
  const input = el("input", {
    attrs: { id, name: "value", type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false" },
  });
  input.value = String(param.value);
  return input;
}

function openEditor(key) {
  if (!IS_MANAGER) return;
  const existing = editors.get(key);
  if (existing) {
    existing.input.focus();
    return;
  }
  const param = state.params.get(key);
  const anchor = rowFor(key);
  if (!param || !anchor) return;
  const id = `edit-${key.replace(/[^a-z0-9]/gi, "-")}`;
  const input = valueInput(param, id);
  const reason = el("input", {
    attrs: { type: "text", name: "reason", id: `${id}-reason`, placeholder: t("reasonPlaceholder"), maxlength: "2000", autocomplete: "off" },
  });
  const hint = el("p", { cls: "field__help", txt: boundsHint(param) });
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const notice = el("div", { cls: "param-editor__notice", attrs: { "aria-live": "polite" } });
  const conflict = el("div", { cls: "param-editor__conflict" });
  const save = button(param.four_eyes ? t("sendForApproval") : t("save"), {
    cls: "button--primary",
    attrs: { "data-action": "save" },
  });
  const cancel = button(t("cancel"), { attrs: { "data-action": "cancel" } });
  const form = el("form", { cls: "param-editor", attrs: { "data-editor": key, novalidate: "" } }, [
    el("div", { cls: "param-editor__title" }, [
      el("strong", { txt: label(key) }),
      " ",
      el("span", { cls: "muted small", txt: t("currentValue", { value: formatValue(param) }) }),
    ]),
    el("div", { cls: "param-editor__fields" }, [
      el("div", { cls: "field param-editor__value" }, [
        el("label", { txt: t("newValue"), attrs: { for: id } }),
        el("div", { cls: "param-editor__input" }, [input, param.unit && param.type !== "choice" ? el("span", { cls: "param-editor__unit", txt: unitSuffix(param.unit).trim() }) : null]),
        hint,
      ]),
      el("div", { cls: "field param-editor__reason" }, [
        el("label", { txt: t("reason"), attrs: { for: `${id}-reason` } }),
        reason,
      ]),
      el("div", { cls: "param-editor__buttons" }, [save, cancel]),
    ]),
    param.four_eyes ? el("p", { cls: "param-editor__foureyes", txt: t("fourEyesNote") }) : null,
    error,
    notice,
    conflict,
  ]);
  const tr = el("tr", { cls: "param-editor-row", attrs: { "data-editor-for": key } }, [
    el("td", { attrs: { colspan: String(anchor.cells.length) } }, [form]),
  ]);
  let after = anchor;
  while (after.nextElementSibling && after.nextElementSibling.classList.contains("param-editor-row")) {
    after = after.nextElementSibling;
  }
  after.after(tr);
  anchor.classList.add("is-editing");
  const editor = {
    key,
    tr,
    form,
    input,
    reason,
    error,
    notice,
    conflict,
    save,
    baseVersion: param.version,
    busy: false,
    whatIf: null,
  };
  editors.set(key, editor);
  if (WHAT_IF_KEYS.includes(key)) {
    const box = el("div", { cls: "param-editor__whatif" });
    form.append(box);
    editor.whatIf = createWhatIf(box, () => key, { quiet: true });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEditor(editor);
  });
  save.addEventListener("click", () => saveEditor(editor));
  cancel.addEventListener("click", () => closeEditor(key));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeEditor(key);
    if (event.key === "Enter" && event.target.tagName === "INPUT") {
      event.preventDefault();
      saveEditor(editor);
    }
  });
  input.addEventListener("input", () => {
    error.replaceChildren();
    if (editor.whatIf) editor.whatIf.propose(input.value);
  });
  input.focus();
  if (input.select) input.select();
}

function closeEditor(key, { focus = true } = {}) {
  const editor = editors.get(key);
  if (!editor) return;
  editors.delete(key);
  if (editor.whatIf) editor.whatIf.stop();
  editor.tr.remove();
  const anchor = rowFor(key);
  if (anchor && ![...editors.keys()].some((k) => rowFor(k) === anchor)) anchor.classList.remove("is-editing");
  if (focus) {
    const edit = document.querySelector(`button[data-action=edit][data-key="${sel(key)}"]`);
    if (edit) edit.focus({ preventScroll: true });
  }
}

function showErrors(node, messages) {
  node.replaceChildren(
    ...messages.map((message) => el("p", { cls: "field__error", txt: message })),
  );
}

function setBusy(editor, busy) {
  editor.busy = busy;
  editor.save.disabled = busy;
  editor.form.setAttribute("aria-busy", busy ? "true" : "false");
}

async function saveEditor(editor) {
  if (editor.busy) return;
  const param = state.params.get(editor.key);
  const parsed = parseValue(param, editor.input.value);
  if (parsed.error) {
    showErrors(editor.error, [parsed.error]);
    editor.form.closest("td").querySelector(".param-editor__value")?.classList.add("field--error");
    return;
  }
  const broken = ruleError(param, parsed.value);
  if (broken) {
    showErrors(editor.error, [broken]);
    return;
  }
  editor.form.querySelector(".param-editor__value")?.classList.remove("field--error");
  if (parsed.value === param.value && editor.baseVersion === param.version) {
    showErrors(editor.error, [t("errUnchanged")]);
    return;
  }
  editor.error.replaceChildren();
  editor.conflict.replaceChildren();
  setBusy(editor, true);
  const { status, data } = await api("PATCH", `${API}${encodeURIComponent(editor.key)}/`, {
    value: parsed.value,
    version: editor.baseVersion,
    reason: editor.reason.value,
  });
  setBusy(editor, false);
  if (status === 200 && data && data.key === editor.key) {
    updateParam(data);
    closeEditor(editor.key);
    paintParam(editor.key, { live: true });
    toast(t("saved", { value: formatValue(data), version: data.version }), "ok");
  } else if (status === 202 && data && data.id) {
    upsertRequest(data);
    closeEditor(editor.key);
    toast(t("filed", { id: data.id }), "ok");
  } else if (status === 409 && data) {
    showConflict(editor, data, parsed.value);
  } else {
    showErrors(editor.error, failure(status, data));
  }
}

function showConflict(editor, data, mine) {
  const current = (data.current || []).find((p) => p.key === editor.key);
  if (current) {
    updateParam(current);
    paintParam(editor.key, { live: true });
  }
  const param = state.params.get(editor.key);
  editor.notice.replaceChildren();
  editor.conflict.replaceChildren(
    el("div", { cls: "params-conflict", attrs: { role: "alert" } }, [
      el("strong", { cls: "params-conflict__title", txt: t("conflictTitle") }),
      el("p", {
        txt: t("conflictBody", {
          who: param.updated_by || t("system"),
          value: formatValue(param),
          version: param.version,
          when: param.updated_at ? relativeTime(param.updated_at) : "",
          mine: formatValue(param, mine),
        }),
      }),
      el("div", { cls: "params-conflict__actions" }, [
        button(t("keepTheirs"), {
          attrs: { "data-action": "keep-theirs" },
          onClick: () => closeEditor(editor.key),
        }),
        button(t("applyMine"), {
          cls: "button--primary button--small",
          attrs: { "data-action": "apply-mine" },
          onClick: () => {
            editor.baseVersion = param.version;
            editor.conflict.replaceChildren();
            saveEditor(editor);
          },
        }),
      ]),
    ]),
  );
}

/** Someone else changed a field being edited: say so, keep the input as it is. */
function noticeTheirChange(editor, param) {
  if (editor.busy || param.version <= editor.baseVersion) return;
  editor.notice.replaceChildren(
    el("p", {
      cls: "params-notice-warn",
      txt: t("theirChange", {
        who: param.updated_by || t("system"),
        value: formatValue(param),
        when: relativeTime(param.updated_at),
      }),
    }),
  );
}

// ---- State updates (API answers and socket events) ------------------------------------------

function updateParam(data) {
  const previous = state.params.get(data.key);
  if (previous && previous.version > data.version) return false;
  state.params.set(data.key, { ...(previous || {}), ...data });
  return !previous || previous.version !== data.version;
}

function upsertRequest(request) {
  if (request.status === "pending") state.requests.set(request.id, request);
  else state.requests.delete(request.id);
  renderPending();
  for (const key of Object.keys(request.changes || {})) paintParam(key);
}

function onParameterChanged(msg) {
  const previous = state.params.get(msg.key);
  if (!previous || previous.version >= msg.version) return;
  updateParam({
    key: msg.key,
    value: msg.value,
    version: msg.version,
    updated_by: msg.changed_by,
    updated_at: msg.changed_at,
  });
  paintParam(msg.key, { live: true });
  const param = state.params.get(msg.key);
  const editor = editors.get(msg.key);
  if (editor) noticeTheirChange(editor, param);
  if (budgetEditor && BUDGET_KEYS.includes(msg.key)) budgetEditor.theirChange(param);
  renderPresets();
  renderPending();
  if (historyKey === msg.key || (BUDGET_KEYS.includes(historyKey) && BUDGET_KEYS.includes(msg.key))) {
    loadHistory(historyKey);
  }
}

function onSnapshot(msg) {
  const firstPaint = !onSnapshot.seen;
  onSnapshot.seen = true;
  const moved = [];
  for (const param of msg.parameters || []) {
    const previous = state.params.get(param.key);
    state.params.set(param.key, param);
    if (!firstPaint && previous && previous.version !== param.version) moved.push(param.key);
  }
  state.requests = new Map((msg.requests || []).map((r) => [r.id, r]));
  for (const key of state.params.keys()) paintParam(key, { live: moved.includes(key) });
  for (const [key, editor] of editors) noticeTheirChange(editor, state.params.get(key));
  if (budgetEditor) for (const key of BUDGET_KEYS) budgetEditor.theirChange(state.params.get(key));
  paintBudget();
  renderPending();
  renderPresets();
}

function onRequestEvent(msg) {
  const request = msg.request;
  if (!request) return;
  const known = state.requests.has(request.id);
  upsertRequest(request);
  if (msg.type === "change_request.created" && !known) {
    flash(document.getElementById(`request-${request.id}`));
  }
  if (msg.type === "change_request.decided" && known) {
    const who = request.decided_by || t("system");
    const withdrawn = request.status === "rejected" && request.decided_by && request.decided_by === request.requested_by;
    const message = withdrawn
      ? t("withdrawnBy", { id: request.id, who })
      : request.status === "approved"
        ? t("approvedBy", { id: request.id, who })
        : t("rejectedBy", { id: request.id, who });
    toast(message, request.status === "approved" ? "ok" : "info");
  }
}

// ---- Pending changes (four-eyes) -------------------------------------------------------------

function renderEvidence(evidence) {
  if (!evidence || !Array.isArray(evidence.bands)) return null;
  const current = evidence.current_cutoff;
  const proposed = evidence.proposed_cutoff;
  const head = el("tr", {}, [
    el("th", { txt: t("scoreBand"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("loans"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("bad"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("badRate"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("loansAtOrAbove"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("badRateAtOrAbove"), attrs: { scope: "col" } }),
  ]);
  const target = evidence.target_bad_rate_pct;
  const rows = evidence.bands.map((band) => {
    const classes = [];
    if (current !== undefined && band.band_start <= current && current <= band.band_end) classes.push("is-current-band");
    if (proposed !== null && proposed !== undefined && band.band_start <= proposed && proposed <= band.band_end) classes.push("is-proposed-band");
    const above = band.bad_rate_at_or_above_pct;
    return el("tr", { cls: classes.join(" ") }, [
      el("td", { txt: `${band.band_start}–${band.band_end}` }),
      el("td", { cls: "num", txt: formatNumber(band.loans, 0) }),
      el("td", { cls: "num", txt: formatNumber(band.bad, 0) }),
      el("td", { cls: "num", txt: formatPct(band.bad_rate_pct) }),
      el("td", { cls: "num", txt: formatNumber(band.loans_at_or_above, 0) }),
      el("td", {
        cls: `num${above !== null && target !== undefined && above <= target ? " meets-target" : ""}`,
        txt: formatPct(above),
      }),
    ]);
  });
  const window = evidence.window || {};
  return el("div", { cls: "evidence" }, [
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact evidence-table" }, [
        el("thead", {}, [head]),
        el("tbody", {}, rows),
      ]),
    ]),
    window.funded_from
      ? el("p", { cls: "muted small", txt: t("badDefinition", { from: window.funded_from, to: window.funded_to }) })
      : null,
  ]);
}

/** The calibration's finding in the reader's language (the server's reason is English). */
function calibrationSummary(evidence) {
  const at = evidence && evidence.at_current_cutoff;
  if (!at || at.bad_rate_pct === null || at.bad_rate_pct === undefined) return "";
  return t("calibrationSummary", {
    rate: formatPct(at.bad_rate_pct),
    loans: formatNumber(at.loans, 0),
    current: evidence.current_cutoff,
    target: formatPct(evidence.target_bad_rate_pct),
    proposed: evidence.proposed_cutoff ?? "—",
  });
}

function requestItem(request) {
  const mine = request.requested_by && request.requested_by === ME;
  const calibration = request.source === "calibration";
  const who = request.requested_by || t("autoCalibration");
  const changes = el(
    "ul",
    { cls: "request__changes" },
    Object.entries(request.changes || {}).map(([key, value]) => {
      const param = state.params.get(key);
      return el("li", {}, [
        el("span", { cls: "request__label", txt: label(key) }),
        " ",
        el("code", { cls: "param-name__key", txt: key }),
        el("span", { cls: "request__values" }, [
          el("span", { cls: "request__old", txt: param ? formatValue(param) : "" }),
          el("span", { cls: "request__arrow", txt: " → ", attrs: { "aria-hidden": "true" } }),
          el("strong", { cls: "request__new", txt: param ? formatValue(param, value) : String(value) }),
        ]),
      ]);
    }),
  );
  const error = el("div", { cls: "request__error", attrs: { role: "alert" } });
  const actions = el("div", { cls: "request__actions" });
  if (IS_MANAGER && !mine) {
    const note = el("input", {
      attrs: { type: "text", placeholder: t("notePlaceholder"), "aria-label": t("notePlaceholder"), maxlength: "2000" },
    });
    const approve = button(t("approve"), { cls: "button--ok button--small", attrs: { "data-action": "approve" } });
    const reject = button(t("reject"), { cls: "button--danger button--small", attrs: { "data-action": "reject" } });
    approve.addEventListener("click", () => decide(request, "approve", note.value, error, [approve, reject]));
    reject.addEventListener("click", () => decide(request, "reject", note.value, error, [approve, reject]));
    actions.append(note, approve, reject);
  } else if (IS_MANAGER && mine) {
    const withdraw = button(t("withdraw"), { attrs: { "data-action": "withdraw" } });
    withdraw.addEventListener("click", () => decide(request, "reject", "", error, [withdraw]));
    actions.append(el("span", { cls: "muted small", txt: t("waitingOther") }), withdraw);
  } else {
    actions.append(el("span", { cls: "muted small", txt: t("waitingManager") }));
  }
  const evidence = renderEvidence(request.evidence);
  const summary = calibrationSummary(request.evidence);
  return el("article", { cls: `request${mine ? " request--mine" : ""}`, attrs: { id: `request-${request.id}`, "data-request-id": String(request.id) } }, [
    el("div", { cls: "request__head" }, [
      el("strong", { cls: "request__id", txt: `#${request.id}` }),
      calibration ? el("span", { cls: "badge badge--info", txt: t("autoCalibration") }) : null,
      el("span", {
        cls: "muted small",
        txt: request.requested_by
          ? `${t("requestedBy", { who })} · ${relativeTime(request.requested_at)}`
          : relativeTime(request.requested_at),
      }),
    ]),
    changes,
    summary ? el("p", { cls: "request__reason", txt: summary }) : null,
    request.reason && !summary ? el("p", { cls: "request__reason", txt: request.reason }) : null,
    evidence
      ? el("details", { cls: "request__evidence" }, [
          el("summary", { txt: t("showEvidence") }),
          request.reason ? el("p", { cls: "small", txt: t("calibrationDetails", { reason: request.reason }) }) : null,
          evidence,
        ])
      : null,
    actions,
    error,
  ]);
}

function renderPending() {
  const list = document.getElementById("pending-list");
  if (!list) return;
  const requests = [...state.requests.values()].sort((a, b) => a.id - b.id);
  const openDetails = new Set(
    [...list.querySelectorAll("details[open]")].map((d) => d.closest("[data-request-id]")?.dataset.requestId),
  );
  const notes = new Map(
    [...list.querySelectorAll("[data-request-id]")].map((item) => [item.dataset.requestId, item.querySelector("input")?.value || ""]),
  );
  if (!requests.length) {
    list.replaceChildren(el("p", { cls: "params-empty", txt: t("noPending"), attrs: { id: "pending-empty" } }));
  } else {
    list.replaceChildren(
      ...requests.map((request) => {
        const item = requestItem(request);
        if (openDetails.has(String(request.id))) item.querySelector("details")?.setAttribute("open", "");
        const input = item.querySelector("input");
        if (input && notes.get(String(request.id))) input.value = notes.get(String(request.id));
        return item;
      }),
    );
  }
  for (const id of ["pending-count", "pending-count-toc"]) {
    const node = document.getElementById(id);
    if (!node) continue;
    node.textContent = String(requests.length);
    if (id === "pending-count") node.classList.toggle("badge--pending", requests.length > 0);
  }
}

async function decide(request, verb, note, error, buttons) {
  for (const b of buttons) b.disabled = true;
  error.replaceChildren();
  const { status, data } = await api("POST", `${API}requests/${request.id}/${verb}/`, { note });
  for (const b of buttons) b.disabled = false;
  if (status === 200 && data) {
    if (verb === "approve") {
      for (const param of data.parameters || []) {
        updateParam(param);
        paintParam(param.key, { live: true });
      }
      if (data.request) upsertRequest(data.request);
      toast(t("approvedDone"), "ok");
    } else {
      upsertRequest(data);
      toast(request.requested_by === ME ? t("withdrawnDone") : t("rejectedDone"), "info");
    }
    state.requests.delete(request.id);
    renderPending();
    return;
  }
  if (status === 409 && data) {
    for (const param of data.current || []) {
      updateParam(param);
      paintParam(param.key, { live: true });
    }
    if (data.request) upsertRequest(data.request);
    showErrors(error, [t("stale", { detail: data.detail || "" })]);
    return;
  }
  showErrors(error, failure(status, data));
}

// ---- Budget split: three shares edited together ---------------------------------------------

function budgetParams() {
  return BUDGET_KEYS.map((key) => state.params.get(key)).filter(Boolean);
}

function paintBar(container, values) {
  const total = values.reduce((sum, v) => sum + (Number.isFinite(v) ? Math.max(v, 0) : 0), 0) || 1;
  const segments = container.querySelectorAll(".budget-bar__seg");
  values.forEach((value, index) => {
    const seg = segments[index];
    if (!seg) return;
    const share = Number.isFinite(value) ? Math.max(value, 0) : 0;
    seg.style.flexGrow = String(share / total);
    seg.textContent = share >= 8 ? formatPct(share, 2) : "";
    seg.title = `${label(BUDGET_KEYS[index])}: ${formatPct(share, 2)}`;
  });
}

function paintBudget() {
  const params = budgetParams();
  if (params.length !== BUDGET_KEYS.length) return;
  const bar = document.getElementById("budget-bar");
  if (bar) paintBar(bar, params.map((p) => p.value));
  const total = document.getElementById("budget-total");
  if (total) total.textContent = formatPct(params.reduce((sum, p) => sum + p.value, 0), 2);
}

function openBudgetEditor() {
  if (!IS_MANAGER || budgetEditor) return;
  const slot = document.getElementById("budget-editor-slot");
  const params = budgetParams();
  if (!slot || params.length !== 3) return;
  const versions = Object.fromEntries(params.map((p) => [p.key, p.version]));
  const inputs = params.map((param, index) => {
    const id = `budget-${index}`;
    const input = el("input", {
      attrs: { id, type: "text", inputmode: "decimal", autocomplete: "off", "data-key": param.key },
    });
    input.value = String(param.value);
    return {
      param,
      input,
      field: el("div", { cls: "field budget-editor__field" }, [
        el("label", { attrs: { for: id } }, [
          el("span", { cls: `budget-swatch budget-swatch--${index + 1}`, attrs: { "aria-hidden": "true" } }),
          label(param.key),
        ]),
        el("div", { cls: "param-editor__input" }, [input, el("span", { cls: "param-editor__unit", txt: "%" })]),
      ]),
    };
  });
  const bar = el("div", { cls: "budget-bar budget-bar--preview", attrs: { "aria-hidden": "true" } }, [
    el("span", { cls: "budget-bar__seg budget-bar__seg--1" }),
    el("span", { cls: "budget-bar__seg budget-bar__seg--2" }),
    el("span", { cls: "budget-bar__seg budget-bar__seg--3" }),
  ]);
  const sum = el("p", { cls: "budget-editor__sum", attrs: { id: "budget-sum", "aria-live": "polite" } });
  const reason = el("input", {
    attrs: { type: "text", id: "budget-reason", placeholder: t("reasonPlaceholder"), maxlength: "2000", autocomplete: "off" },
  });
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const notice = el("div", { cls: "param-editor__notice", attrs: { "aria-live": "polite" } });
  const conflict = el("div", { cls: "param-editor__conflict" });
  const save = button(t("saveSplit"), { cls: "button--primary", attrs: { id: "budget-save" } });
  const cancel = button(t("cancel"), { attrs: { id: "budget-cancel" } });
  const form = el("form", { cls: "param-editor budget-editor", attrs: { novalidate: "" } }, [
    el("div", { cls: "budget-editor__fields" }, inputs.map((i) => i.field)),
    bar,
    sum,
    el("div", { cls: "field" }, [el("label", { txt: t("reason"), attrs: { for: "budget-reason" } }), reason]),
    el("div", { cls: "param-editor__buttons" }, [save, cancel]),
    error,
    notice,
    conflict,
  ]);
  slot.replaceChildren(form);
  document.getElementById("budget-edit")?.setAttribute("hidden", "");

  function values() {
    return inputs.map(({ param, input }) => parseValue(param, input.value));
  }
  function refresh() {
    const parsed = values();
    const numbers = parsed.map((p) => (p.error ? NaN : p.value));
    paintBar(bar, numbers);
    const total = numbers.reduce((a, b) => a + b, 0);
    const ok = numbers.every(Number.isFinite) && Math.abs(total - 100) <= 1e-6;
    sum.className = `budget-editor__sum ${ok ? "is-ok" : "is-off"}`;
    sum.replaceChildren(
      el("span", { txt: `${t("total")}: ` }),
      el("strong", { txt: Number.isFinite(total) ? formatPct(total, 2) : "—", attrs: { id: "budget-sum-value" } }),
      " ",
      el("span", {
        cls: `badge ${ok ? "badge--ok" : "badge--error"}`,
        txt: ok ? t("sumOk") : t("sumMustBe100", { total: Number.isFinite(total) ? formatNumber(total, 2) : "—" }),
      }),
    );
    save.disabled = !ok || budgetEditor.busy;
    return { parsed, ok };
  }
  async function submit() {
    const { parsed, ok } = refresh();
    const bad = parsed.find((p) => p.error);
    if (bad) {
      showErrors(error, [bad.error]);
      return;
    }
    if (!ok) return;
    error.replaceChildren();
    conflict.replaceChildren();
    budgetEditor.busy = true;
    save.disabled = true;
    const changes = inputs.map(({ param }, index) => ({
      key: param.key,
      value: parsed[index].value,
      version: versions[param.key],
    }));
    const { status, data } = await api("PATCH", API, { changes, reason: reason.value });
    budgetEditor.busy = false;
    refresh();
    if (status === 200 && data) {
      for (const param of data.parameters || []) {
        updateParam(param);
        paintParam(param.key, { live: true });
      }
      closeBudgetEditor();
      renderPresets();
      toast(t("splitSaved"), "ok");
    } else if (status === 409 && data) {
      for (const param of data.current || []) {
        updateParam(param);
        paintParam(param.key, { live: true });
      }
      notice.replaceChildren();
      const latest = budgetParams().reduce((a, b) => ((a.updated_at || "") > (b.updated_at || "") ? a : b));
      conflict.replaceChildren(
        el("div", { cls: "params-conflict", attrs: { role: "alert" } }, [
          el("strong", { cls: "params-conflict__title", txt: t("conflictTitle") }),
          el("p", {
            txt: t("conflictBody", {
              who: latest.updated_by || t("system"),
              value: budgetParams().map((p) => formatValue(p)).join(" / "),
              version: latest.version,
              when: latest.updated_at ? relativeTime(latest.updated_at) : "",
              mine: parsed.map((p, i) => formatValue(inputs[i].param, p.value)).join(" / "),
            }),
          }),
          el("div", { cls: "params-conflict__actions" }, [
            button(t("keepTheirs"), { attrs: { "data-action": "keep-theirs" }, onClick: closeBudgetEditor }),
            button(t("applyMine"), {
              cls: "button--primary button--small",
              attrs: { "data-action": "apply-mine" },
              onClick: () => {
                for (const param of budgetParams()) versions[param.key] = param.version;
                conflict.replaceChildren();
                submit();
              },
            }),
          ]),
        ]),
      );
    } else {
      showErrors(error, failure(status, data));
    }
  }
  budgetEditor = {
    busy: false,
    theirChange(param) {
      if (!param || budgetEditor.busy || param.version <= versions[param.key]) return;
      notice.replaceChildren(
        el("p", {
          cls: "params-notice-warn",
          txt: t("splitChanged", { who: param.updated_by || t("system"), when: relativeTime(param.updated_at) }),
        }),
      );
    },
  };
  for (const { input } of inputs) input.addEventListener("input", () => {
    error.replaceChildren();
    refresh();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeBudgetEditor();
  });
  save.addEventListener("click", submit);
  cancel.addEventListener("click", closeBudgetEditor);
  refresh();
  inputs[0].input.focus();
  inputs[0].input.select();
}

function closeBudgetEditor() {
  budgetEditor = null;
  document.getElementById("budget-editor-slot")?.replaceChildren();
  const edit = document.getElementById("budget-edit");
  if (edit) {
    edit.removeAttribute("hidden");
    edit.focus({ preventScroll: true });
  }
}

// ---- Presets --------------------------------------------------------------------------------

function presetIsCurrent(preset) {
  return Object.entries(preset.values).every(([key, value]) => {
    const param = state.params.get(key);
    return param && Math.abs(param.value - value) <= 1e-9;
  });
}

function renderPresets() {
  const list = document.getElementById("preset-list");
  if (!list) return;
  const lang = config.lang === "zh" ? "zh" : "en";
  list.replaceChildren(
    ...state.presets.map((preset) => {
      const current = presetIsCurrent(preset);
      const values = BUDGET_KEYS.map((key) => preset.values[key]);
      const bar = el("div", { cls: "budget-bar budget-bar--mini", attrs: { "aria-hidden": "true" } }, [
        el("span", { cls: "budget-bar__seg budget-bar__seg--1" }),
        el("span", { cls: "budget-bar__seg budget-bar__seg--2" }),
        el("span", { cls: "budget-bar__seg budget-bar__seg--3" }),
      ]);
      paintBar(bar, values);
      const actions = el("div", { cls: "preset__actions" });
      const name = preset.label[lang] || preset.name;
      if (IS_MANAGER && !current) {
        const apply = button(t("applyPreset"), { attrs: { "data-action": "apply-preset" } });
        apply.addEventListener("click", () => confirmPreset(preset, name, actions));
        actions.append(apply);
      }
      return el("div", { cls: `preset${current ? " is-current" : ""}`, attrs: { "data-preset": preset.name } }, [
        el("div", { cls: "preset__head" }, [
          el("strong", { txt: name }),
          current ? el("span", { cls: "badge badge--ok", txt: t("currentPreset") }) : null,
        ]),
        el("p", { cls: "preset__desc", txt: preset.description[lang] || "" }),
        bar,
        el("p", { cls: "preset__split", txt: values.map((v) => formatPct(v, 2)).join(" / ") }),
        actions,
      ]);
    }),
  );
}

function confirmPreset(preset, name, actions) {
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const yes = button(t("confirm"), { cls: "button--primary button--small", attrs: { "data-action": "confirm-preset" } });
  const no = button(t("cancel"), { attrs: { "data-action": "cancel-preset" }, onClick: renderPresets });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    // The versions this page holds: a change made meanwhile elsewhere answers 409, not lost.
    const versions = Object.fromEntries(
      Object.keys(preset.values).map((key) => [key, (state.params.get(key) || {}).version]),
    );
    const { status, data } = await api("POST", `${API}presets/${encodeURIComponent(preset.name)}/apply/`, {
      reason: "",
      versions,
    });
    if (status === 200 && data) {
      for (const param of data.parameters || []) {
        updateParam(param);
        paintParam(param.key, { live: true });
      }
      renderPresets();
      toast((data.changed || []).length ? t("presetApplied", { name }) : t("presetAlready"), "ok");
      return;
    }
    yes.disabled = false;
    showErrors(error, failure(status, data));
  });
  actions.replaceChildren(
    el("p", { cls: "preset__confirm", txt: t("confirmPreset", { name }) }),
    el("div", { cls: "params-conflict__actions" }, [yes, no]),
    error,
  );
  yes.focus();
}

// ---- History drawer -------------------------------------------------------------------------

function openHistory(key) {
  const drawer = document.getElementById("history-drawer");
  if (!drawer) return;
  historyKey = key;
  document.getElementById("history-title").textContent = t("historyTitle", { name: label(key) });
  document.getElementById("history-key").textContent = key;
  const note = [t("revertNote")];
  if (BUDGET_KEYS.includes(key)) note.push(t("revertBudgetNote"));
  const param = state.params.get(key);
  if (param && param.four_eyes) note.push(t("fourEyesNote"));
  document.getElementById("history-note").textContent = IS_MANAGER ? note.join(" ") : "";
  drawer.hidden = false;
  document.getElementById("history-backdrop").hidden = false;
  drawer.focus();
  loadHistory(key);
}

function closeHistory() {
  const key = historyKey;
  historyKey = null;
  document.getElementById("history-drawer").hidden = true;
  document.getElementById("history-backdrop").hidden = true;
  const opener = key && document.querySelector(`button[data-action=history][data-key="${sel(key)}"]`);
  if (opener) opener.focus({ preventScroll: true });
}

async function loadHistory(key) {
  const body = document.getElementById("history-body");
  if (!body.childElementCount) body.replaceChildren(el("p", { cls: "muted", txt: t("loading") }));
  const { status, data } = await api("GET", `${API}${encodeURIComponent(key)}/history/`);
  if (historyKey !== key) return;
  if (status !== 200 || !Array.isArray(data)) {
    body.replaceChildren(el("p", { cls: "field__error", txt: failure(status, data).join(" ") }));
    return;
  }
  const param = state.params.get(key);
  if (!data.length) {
    body.replaceChildren(el("p", { cls: "params-empty", txt: t("historyEmpty") }));
    return;
  }
  const entries = data.map((row) => ({
    version: row.version,
    when: row.changed_at,
    who: row.changed_by || t("system"),
    change: [row.old_value, row.new_value],
    action: row.action,
    reason: row.reason,
    requestedBy: row.requested_by,
  }));
  const oldest = data[data.length - 1];
  if (oldest.version === 2) {
    entries.push({ version: 1, when: null, who: "", change: [null, oldest.old_value], action: "initial", reason: "" });
  }
  const head = el("tr", {}, [
    el("th", { txt: t("version"), attrs: { scope: "col" } }),
    el("th", { txt: t("when"), attrs: { scope: "col" } }),
    el("th", { txt: t("change"), attrs: { scope: "col" } }),
    el("th", { txt: t("why"), attrs: { scope: "col" } }),
    IS_MANAGER ? el("th", { attrs: { scope: "col" } }, [el("span", { cls: "visually-hidden", txt: t("revert") })]) : null,
  ]);
  const rows = entries.map((entry) => {
    const isCurrent = param && entry.version === param.version;
    const change =
      entry.action === "initial"
        ? el("span", { txt: formatValue(param, entry.change[1]) })
        : el("span", {}, [
            el("span", { cls: "muted", txt: formatValue(param, entry.change[0]) }),
            " → ",
            el("strong", { txt: formatValue(param, entry.change[1]) }),
          ]);
    const whoLine =
      entry.action === "initial"
        ? t("initialVersion")
        : `${t(`action_${entry.action}`)} · ${entry.who}${entry.requestedBy ? ` (${t("approvedRequestOf", { who: entry.requestedBy })})` : ""}`;
    const cell = el("td", { cls: "history__actions" });
    if (IS_MANAGER && !isCurrent) {
      const revert = button(t("revert"), { attrs: { "data-action": "revert", "data-version": String(entry.version) } });
      revert.addEventListener("click", () => confirmRevert(key, entry.version, cell));
      cell.append(revert);
    }
    return el("tr", { cls: isCurrent ? "is-current" : "", attrs: { "data-version": String(entry.version) } }, [
      el("td", {}, [
        el("span", { cls: "param-version", txt: `v${entry.version}` }),
        isCurrent ? el("span", { cls: "badge badge--ok history__current", txt: t("current") }) : null,
      ]),
      el("td", {}, [
        entry.when ? el("time", { txt: formatTime(entry.when), attrs: { datetime: entry.when } }) : null,
        el("span", { cls: "history__who", txt: whoLine }),
      ]),
      el("td", { cls: "history__change" }, [change]),
      el("td", { cls: "history__reason", txt: entry.reason || "—" }),
      IS_MANAGER ? cell : null,
    ]);
  });
  body.replaceChildren(
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact history-table" }, [el("thead", {}, [head]), el("tbody", {}, rows)]),
    ]),
  );
}

function confirmRevert(key, version, cell) {
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const yes = button(t("confirmRevert"), { cls: "button--primary button--small", attrs: { "data-action": "confirm-revert" } });
  const no = button(t("cancel"), { onClick: () => loadHistory(key) });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    // The version this page shows: a change made meanwhile elsewhere answers 409, not lost.
    const base_version = (state.params.get(key) || {}).version;
    const { status, data } = await api("POST", `${API}${encodeURIComponent(key)}/revert/`, {
      version,
      base_version,
      reason: "",
    });
    if (status === 200 && data) {
      for (const param of data.parameters || []) {
        updateParam(param);
        paintParam(param.key, { live: true });
      }
      renderPresets();
      toast(t("reverted"), "ok");
      loadHistory(key);
      return;
    }
    if (status === 202 && data && data.id) {
      upsertRequest(data);
      toast(t("revertFiled", { id: data.id }), "ok");
      loadHistory(key);
      return;
    }
    yes.disabled = false;
    showErrors(error, failure(status, data));
  });
  cell.replaceChildren(el("div", { cls: "history__confirm" }, [yes, no]), error);
  yes.focus();
}

// ---- What-if --------------------------------------------------------------------------------

/** A what-if result box driven by proposed values; `keyOf()` names the parameter. `quiet`: an
 * invalid value clears the box (the editor around it says what is wrong). */
function createWhatIf(box, keyOf, { quiet = false } = {}) {
  let timer = null;
  let controller = null;
  let seq = 0;
  function clear() {
    clearTimeout(timer);
    if (controller) controller.abort();
  }
  async function run(raw) {
    const key = keyOf();
    const param = state.params.get(key);
    if (!param) return;
    const parsed = parseValue(param, raw);
    if (parsed.error) {
      box.replaceChildren(quiet ? "" : el("p", { cls: "field__error", txt: parsed.error }));
      return;
    }
    const mine = ++seq;
    controller = new AbortController();
    box.classList.add("is-loading");
    let answer;
    try {
      answer = await api("GET", `${API}${encodeURIComponent(key)}/what-if/?value=${encodeURIComponent(parsed.value)}`, null, {
        signal: controller.signal,
      });
    } catch {
      return; // aborted: a newer value is on its way
    }
    if (mine !== seq) return;
    box.classList.remove("is-loading");
    const { status, data } = answer;
    if (status !== 200 || !data) {
      box.replaceChildren(el("p", { cls: "field__error", txt: failure(status, data).join(" ") }));
      return;
    }
    box.replaceChildren(whatIfTable(param, data));
  }
  return {
    propose(raw) {
      clear();
      if (String(raw).trim() === "") {
        box.replaceChildren();
        return;
      }
      timer = setTimeout(() => run(raw), WHAT_IF_DELAY_MS);
    },
    now(raw) {
      clear();
      run(raw);
    },
    stop: clear,
  };
}

function whatIfTable(param, data) {
  if (!data.window || !data.window.end) {
    return el("p", { cls: "muted", txt: t("whatIfNoData") });
  }
  const count = (n) => formatNumber(n, 0);
  const rows = [
    [t("approvals"), data.current.approvals, data.proposed.approvals, count, count],
    [t("eligible"), data.current.decided_eligible, data.proposed.decided_eligible, count, count],
    [t("activeLoans"), data.current.active_loans, data.proposed.active_loans, count, count],
    [
      t("overdueRate"),
      data.current.overdue_rate,
      data.proposed.overdue_rate,
      (v) => formatPct(v),
      (v) => t("pp", { value: formatNumber(v, 2) }),
    ],
  ];
  const body = rows.map(([name, now, then, fmt, diffFmt]) => {
    const diff = now === null || then === null ? null : then - now;
    const worse = name === t("overdueRate") ? diff > 0 : diff < 0;
    return el("tr", {}, [
      el("th", { txt: name, attrs: { scope: "row" } }),
      el("td", { cls: "num", txt: fmt(now) }),
      el("td", { cls: "num whatif__proposed", txt: fmt(then) }),
      el("td", { cls: `num${diff ? (worse ? " is-worse" : " is-better") : ""}`, txt: formatSigned(diff, diffFmt) }),
    ]);
  });
  return el("div", { cls: "whatif" }, [
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact whatif-table" }, [
        el("thead", {}, [
          el("tr", {}, [
            el("th", { attrs: { scope: "col" } }),
            el("th", { cls: "num", txt: t("current"), attrs: { scope: "col" } }, [
              el("small", { txt: formatValue(param, data.current.value) }),
            ]),
            el("th", { cls: "num", txt: t("proposed"), attrs: { scope: "col" } }, [
              el("small", { txt: formatValue(param, data.proposed.value) }),
            ]),
            el("th", { cls: "num", txt: t("difference"), attrs: { scope: "col" } }),
          ]),
        ]),
        el("tbody", {}, body),
      ]),
    ]),
    el("p", {
      cls: "muted small",
      txt: t("whatIfWindow", {
        start: data.window.start,
        end: data.window.end,
        population: count(data.population),
        unmeasured: count(data.unmeasured),
        snapshot: data.snapshot_day || "—",
      }),
    }),
    el("p", { cls: "muted small", txt: t("whatIfCaveat") }),
  ]);
}

function setupWhatIfPanel() {
  const select = document.getElementById("whatif-key");
  const input = document.getElementById("whatif-value");
  const box = document.getElementById("whatif-result");
  if (!select || !input || !box) return;
  const whatIf = createWhatIf(box, () => select.value);
  const reset = () => {
    const param = state.params.get(select.value);
    input.value = param ? String(param.value) : "";
    box.replaceChildren(el("p", { cls: "muted small", txt: t("whatIfHint") }));
  };
  select.addEventListener("change", () => {
    reset();
    input.focus();
  });
  input.addEventListener("input", () => whatIf.propose(input.value));
  document.getElementById("whatif-form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    whatIf.now(input.value);
  });
  reset();
}

// ---- Calibration ----------------------------------------------------------------------------

function stat(name, value) {
  return el("div", { cls: "stat" }, [
    el("span", { cls: "stat__value", txt: value }),
    el("span", { cls: "stat__label", txt: name }),
  ]);
}

async function runCalibration() {
  const runButton = document.getElementById("run-calibration");
  const busy = document.getElementById("calibration-busy");
  const box = document.getElementById("calibration-result");
  runButton.disabled = true;
  busy.hidden = false;
  box.replaceChildren(el("p", { cls: "muted", txt: t("calibrationRunning") }));
  const { status, data } = await api("POST", `${API}calibrate/`, {});
  runButton.disabled = false;
  busy.hidden = true;
  if (status !== 200 || !data) {
    box.replaceChildren(el("p", { cls: "field__error", txt: failure(status, data).join(" ") }));
    return;
  }
  const ev = data.evidence || {};
  const at = ev.at_current_cutoff || {};
  const headline =
    data.proposed && data.request
      ? t("calibrationProposed", { id: data.request.id, current: ev.current_cutoff, proposed: ev.proposed_cutoff })
      : t("calibrationNone");
  if (data.request) upsertRequest(data.request);
  box.replaceChildren(
    el("div", { cls: `result ${data.proposed ? "result--ok" : "result--info"}` }, [
      el("p", { cls: "result__title", txt: headline }),
      el("div", { cls: "stats" }, [
        ev.current_cutoff !== undefined ? stat(t("currentCutoff"), formatNumber(ev.current_cutoff, 0)) : null,
        at.loans !== undefined ? stat(t("sample"), formatNumber(at.loans, 0)) : null,
        at.loans !== undefined ? stat(t("rateAtCutoff"), formatPct(at.bad_rate_pct)) : null,
        ev.target_bad_rate_pct !== undefined ? stat(t("target"), formatPct(ev.target_bad_rate_pct)) : null,
        ev.proposed_cutoff ? stat(t("proposedCutoff"), formatNumber(ev.proposed_cutoff, 0)) : null,
      ]),
      el("p", { cls: "small", txt: t("calibrationDetails", { reason: data.reason }) }),
      el("h4", { cls: "evidence__title", txt: t("evidence") }),
      renderEvidence(ev),
    ]),
  );
}

// ---- Start ----------------------------------------------------------------------------------

for (const param of initial.parameters || []) state.params.set(param.key, param);
for (const request of initial.requests || []) state.requests.set(request.id, request);
paintAll();
setupWhatIfPanel();

document.getElementById("params-page")?.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-action]");
  if (!target || !target.dataset.key) return;
  if (target.dataset.action === "edit") openEditor(target.dataset.key);
  else if (target.dataset.action === "history") openHistory(target.dataset.key);
});
document.getElementById("budget-edit")?.addEventListener("click", openBudgetEditor);
document.getElementById("run-calibration")?.addEventListener("click", runCalibration);
document.getElementById("history-close")?.addEventListener("click", closeHistory);
document.getElementById("history-backdrop")?.addEventListener("click", closeHistory);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && historyKey && !event.target.closest(".param-editor")) closeHistory();
});
setInterval(tickTimes, 30000);

connectLive("/ws/parameters/", {
  onSnapshot,
  onEvent(msg) {
    if (msg.type === "parameter.changed") onParameterChanged(msg);
    else if (msg.type === "change_request.created" || msg.type === "change_request.decided") onRequestEvent(msg);
  },
});
