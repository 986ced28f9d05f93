// The value editors of the /parameters/ page (managers only): what a typed value means and the
// registry's checks before it is sent (pure, unit-tested in node:
// tests/js/parameters_values.test.mjs), the inline editor of one parameter with its conflict
// prompt, and the what-if backtest that previews a typed value (in the editor of the keys that
// have one, and in the what-if panel).
//   PATCH {key}/ {value, version, reason} → 200 state | 202 change request (risk.*) | 400 {value:
//   [...]} | 403 | 409 {detail, value, version, current: [state]}
//   GET {key}/what-if/?value=
// A field someone is editing is never overwritten by a live change: the editor shows a notice,
// and saving with the old version brings up the conflict prompt.

import { button, el } from "../common.js";
import { API, handleAnswer } from "./responses.js";
import { updateParam } from "./state.js";
import { paintParam, rowFor, upsertRequest } from "./tables.js";
import { sel, showErrors, toast } from "./ui.js";

const WHAT_IF_DELAY_MS = 350;

// ---- Validation before sending (the server checks again) -----------------------------------

/** What the editor says may be typed: the range, whole or how many decimals. */
export function boundsHint(page, param) {
  const { t } = page;
  const { formatNumber, unitSuffix } = page.fmt;
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
export function parseValue(page, param, raw) {
  const { t } = page;
  const { formatNumber, unitSuffix } = page.fmt;
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
export function ruleError(page, param, value) {
  const { t } = page;
  const match = /^alert\.(.+)\.(warn|critical)_pct$/.exec(param.key);
  if (!match) return null;
  const otherKey = `alert.${match[1]}.${match[2] === "warn" ? "critical" : "warn"}_pct`;
  const other = page.state.params.get(otherKey);
  if (!other) return null;
  if (match[2] === "warn" && value >= other.value) {
    return t("errWarnBelow", { value: page.fmt.formatValue(other) });
  }
  if (match[2] === "critical" && value <= other.value) {
    return t("errCriticalAbove", { value: page.fmt.formatValue(other) });
  }
  return null;
}

// ---- The conflict prompt (this editor's and the budget split's) ------------------------------

/**
 * "Someone else changed this first": who set what (version, when) and what the person typed,
 * with "Keep theirs" (`onKeep`) and "Apply mine on top" (`onApply`).
 */
export function conflictPrompt(page, { who, value, version, when, mine, onKeep, onApply }) {
  const { t } = page;
  return el("div", { cls: "params-conflict", attrs: { role: "alert" } }, [
    el("strong", { cls: "params-conflict__title", txt: t("conflictTitle") }),
    el("p", { txt: t("conflictBody", { who, value, version, when, mine }) }),
    el("div", { cls: "params-conflict__actions" }, [
      button(t("keepTheirs"), { attrs: { "data-action": "keep-theirs" }, onClick: onKeep }),
      button(t("applyMine"), {
        cls: "button--primary button--small",
        attrs: { "data-action": "apply-mine" },
        onClick: onApply,
      }),
    ]),
  ]);
}

// ---- Inline editor of one parameter ------------------------------------------------------------

function valueInput(page, param, id) {
  if (param.type === "boolean" || param.type === "choice") {
    const options = param.type === "boolean" ? ["true", "false"] : param.choices || [];
    const select = el("select", { attrs: { id, name: "value" } });
    for (const option of options) {
      select.append(el("option", { txt: page.config.choices[option] || option, attrs: { value: option } }));
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

/** Open the editor of `key` under its row (or focus it when open already). */
export function openEditor(page, key) {
  const { t } = page;
  const { formatValue, unitSuffix } = page.fmt;
  if (!page.isManager) return;
  const existing = page.editors.get(key);
  if (existing) {
    existing.input.focus();
    return;
  }
  const param = page.state.params.get(key);
  const anchor = rowFor(key);
  if (!param || !anchor) return;
  const id = `edit-${key.replace(/[^a-z0-9]/gi, "-")}`;
  const input = valueInput(page, param, id);
  const reason = el("input", {
    attrs: { type: "text", name: "reason", id: `${id}-reason`, placeholder: t("reasonPlaceholder"), maxlength: "2000", autocomplete: "off" },
  });
  const hint = el("p", { cls: "field__help", txt: boundsHint(page, param) });
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
      el("strong", { txt: page.label(key) }),
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
  page.editors.set(key, editor);
  if (page.whatIfKeys.includes(key)) {
    const box = el("div", { cls: "param-editor__whatif" });
    form.append(box);
    editor.whatIf = createWhatIf(page, box, () => key, { quiet: true });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEditor(page, editor);
  });
  save.addEventListener("click", () => saveEditor(page, editor));
  cancel.addEventListener("click", () => closeEditor(page, key));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeEditor(page, key);
    if (event.key === "Enter" && event.target.tagName === "INPUT") {
      event.preventDefault();
      saveEditor(page, editor);
    }
  });
  input.addEventListener("input", () => {
    error.replaceChildren();
    if (editor.whatIf) editor.whatIf.propose(input.value);
  });
  input.focus();
  if (input.select) input.select();
}

function closeEditor(page, key, { focus = true } = {}) {
  const editor = page.editors.get(key);
  if (!editor) return;
  page.editors.delete(key);
  if (editor.whatIf) editor.whatIf.stop();
  editor.tr.remove();
  const anchor = rowFor(key);
  if (anchor && ![...page.editors.keys()].some((k) => rowFor(k) === anchor)) anchor.classList.remove("is-editing");
  if (focus) {
    const edit = document.querySelector(`button[data-action=edit][data-key="${sel(key)}"]`);
    if (edit) edit.focus({ preventScroll: true });
  }
}

function setBusy(editor, busy) {
  editor.busy = busy;
  editor.save.disabled = busy;
  editor.form.setAttribute("aria-busy", busy ? "true" : "false");
}

async function saveEditor(page, editor) {
  const { t } = page;
  if (editor.busy) return;
  const param = page.state.params.get(editor.key);
  const parsed = parseValue(page, param, editor.input.value);
  if (parsed.error) {
    showErrors(editor.error, [parsed.error]);
    editor.form.closest("td").querySelector(".param-editor__value")?.classList.add("field--error");
    return;
  }
  const broken = ruleError(page, param, parsed.value);
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
  const response = await page.api("PATCH", `${API}${encodeURIComponent(editor.key)}/`, {
    value: parsed.value,
    version: editor.baseVersion,
    reason: editor.reason.value,
  });
  setBusy(editor, false);
  handleAnswer(
    response,
    t,
    {
      ok({ data }) {
        updateParam(page.state, data);
        closeEditor(page, editor.key);
        paintParam(page, editor.key, { live: true });
        toast(t("saved", { value: page.fmt.formatValue(data), version: data.version }), "ok");
      },
      filed({ data }) {
        upsertRequest(page, data);
        closeEditor(page, editor.key);
        toast(t("filed", { id: data.id }), "ok");
      },
      conflict({ current }) {
        showConflict(page, editor, current, parsed.value);
      },
      failed({ messages }) {
        showErrors(editor.error, messages);
      },
    },
    { accept: (data) => data.key === editor.key },
  );
}

/** A 409: the newer state (from the answer's `current`) painted, and the prompt shown. */
function showConflict(page, editor, current, mine) {
  const { t } = page;
  const { formatValue, relativeTime } = page.fmt;
  const theirs = current.find((p) => p.key === editor.key);
  if (theirs) {
    updateParam(page.state, theirs);
    paintParam(page, editor.key, { live: true });
  }
  const param = page.state.params.get(editor.key);
  editor.notice.replaceChildren();
  editor.conflict.replaceChildren(
    conflictPrompt(page, {
      who: param.updated_by || t("system"),
      value: formatValue(param),
      version: param.version,
      when: param.updated_at ? relativeTime(param.updated_at) : "",
      mine: formatValue(param, mine),
      onKeep: () => closeEditor(page, editor.key),
      onApply: () => {
        editor.baseVersion = param.version;
        editor.conflict.replaceChildren();
        saveEditor(page, editor);
      },
    }),
  );
}

/** Someone else changed a field being edited: say so, keep the input as it is. */
export function noticeTheirChange(page, editor, param) {
  const { t } = page;
  if (editor.busy || param.version <= editor.baseVersion) return;
  editor.notice.replaceChildren(
    el("p", {
      cls: "params-notice-warn",
      txt: t("theirChange", {
        who: param.updated_by || t("system"),
        value: page.fmt.formatValue(param),
        when: page.fmt.relativeTime(param.updated_at),
      }),
    }),
  );
}

// ---- What-if --------------------------------------------------------------------------------

/** A what-if result box driven by proposed values; `keyOf()` names the parameter. `quiet`: an
 * invalid value clears the box (the editor around it says what is wrong). */
function createWhatIf(page, box, keyOf, { quiet = false } = {}) {
  let timer = null;
  let controller = null;
  let seq = 0;
  function clear() {
    clearTimeout(timer);
    if (controller) controller.abort();
  }
  async function run(raw) {
    const key = keyOf();
    const param = page.state.params.get(key);
    if (!param) return;
    const parsed = parseValue(page, param, raw);
    if (parsed.error) {
      box.replaceChildren(quiet ? "" : el("p", { cls: "field__error", txt: parsed.error }));
      return;
    }
    const mine = ++seq;
    controller = new AbortController();
    box.classList.add("is-loading");
    let response;
    try {
      response = await page.api("GET", `${API}${encodeURIComponent(key)}/what-if/?value=${encodeURIComponent(parsed.value)}`, null, {
        signal: controller.signal,
      });
    } catch {
      return; // aborted: a newer value is on its way
    }
    if (mine !== seq) return;
    box.classList.remove("is-loading");
    handleAnswer(response, page.t, {
      ok: ({ data }) => box.replaceChildren(whatIfTable(page, param, data)),
      failed: ({ messages }) => box.replaceChildren(el("p", { cls: "field__error", txt: messages.join(" ") })),
    });
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

function whatIfTable(page, param, data) {
  const { t } = page;
  const { formatNumber, formatPct, formatSigned, formatValue } = page.fmt;
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

/** The what-if panel: pick a parameter, type a value, see the backtest. */
export function setupWhatIfPanel(page) {
  const select = document.getElementById("whatif-key");
  const input = document.getElementById("whatif-value");
  const box = document.getElementById("whatif-result");
  if (!select || !input || !box) return;
  const whatIf = createWhatIf(page, box, () => select.value);
  const reset = () => {
    const param = page.state.params.get(select.value);
    input.value = param ? String(param.value) : "";
    box.replaceChildren(el("p", { cls: "muted small", txt: page.t("whatIfHint") }));
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
