// The imports page: upload a file through POST /api/imports/ and keep "Recent imports" live.
//
// Answers (contract section 2 and 4): 201 {kind, rows, created, updated, warnings};
// 400 {errors: [{line, column, reason}]} (or field errors); 401/403/413; anything else, including
// an answer that is not JSON, is reported as unexpected without breaking the page.

import { apiFetch, el, formatDateTime, readJson, translator } from "./common.js";
import { connectLive } from "./live.js";

const MAX_ROWS = 20;

const t = translator(readJson("imports-i18n", {}));
const kindLabels = readJson("import-kind-labels", {});
const form = document.getElementById("import-form");
const result = document.getElementById("import-result");
const table = document.getElementById("recent-imports");
const tbody = table ? table.tBodies[0] : null;
const timeZone = (table && table.dataset.timeZone) || undefined;

// ---- Dates, as the server renders them: "YYYY-MM-DD HH:MM" in the business time zone ----------

function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatDateTime(date, timeZone) ?? iso;
}

// ---- Kind select: show the chosen kind's description and columns ------------------------------

function showKind(kind) {
  for (const node of document.querySelectorAll(".kind-description, .kind-columns")) {
    node.hidden = node.dataset.kind !== kind;
  }
}

// ---- Recent imports table ---------------------------------------------------------------------

function badge(label, variant) {
  return el("span", { cls: `badge${variant ? ` badge--${variant}` : ""}`, txt: label });
}

function statusCell(run) {
  const td = el("td");
  if (run.status === "succeeded") td.append(badge(t("succeeded"), "ok"));
  else if (run.status === "rejected") {
    td.append(badge(t("rejected"), "error"));
    const count = Array.isArray(run.errors) ? run.errors.length : 0;
    if (count) {
      const label = count === 1 ? t("badRowsOne") : t("badRowsMany", { n: count });
      td.append(" ", el("span", { cls: "muted small", txt: label }));
    }
  } else td.append(badge(run.status || "?"));
  return td;
}

function refreshedCell(run) {
  const td = el("td");
  if (run.status !== "succeeded") td.append(el("span", { cls: "muted", txt: "—" }));
  else if (run.refresh_error) {
    const b = badge(t("partlyRefreshed"), "error");
    b.title = run.refresh_error;
    td.append(b, " ", el("span", { cls: "muted small", txt: run.refresh_error.slice(0, 120) }));
  } else if (run.refreshed_at) {
    const b = badge(t("refreshed"), "ok");
    b.title = formatTime(run.refreshed_at);
    td.append(b);
  } else td.append(badge(t("recomputing"), "pending"));
  return td;
}

function runRow(run) {
  const num = (value) => el("td", { cls: "num", txt: value ?? 0 });
  const time = el("time", { txt: formatTime(run.started_at), attrs: { datetime: run.started_at } });
  return el("tr", { attrs: { "data-run-id": String(run.id) } }, [
    el("td", {}, [time]),
    el("td", { txt: kindLabels[run.kind] || run.kind }),
    el("td", { cls: "cell-file", txt: run.file_name || "—", attrs: { title: run.file_name || "" } }),
    el("td", { txt: run.imported_by || "—" }),
    statusCell(run),
    num(run.rows),
    num(run.created),
    num(run.updated),
    refreshedCell(run),
  ]);
}

function emptyRow() {
  return el("tr", { cls: "empty-row" }, [el("td", { txt: t("noImports"), attrs: { colspan: "9" } })]);
}

function replaceRuns(runs) {
  if (!tbody) return;
  const rows = (runs || []).slice(0, MAX_ROWS).map(runRow);
  tbody.replaceChildren(...(rows.length ? rows : [emptyRow()]));
}

function upsertRun(run, highlight) {
  if (!tbody || !run || run.id === undefined) return;
  const row = runRow(run);
  const existing = tbody.querySelector(`tr[data-run-id="${CSS.escape(String(run.id))}"]`);
  if (existing) existing.replaceWith(row);
  else {
    tbody.querySelector(".empty-row")?.remove();
    tbody.prepend(row);
    while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
  }
  if (highlight) row.classList.add("is-new");
}

// ---- Result panel -----------------------------------------------------------------------------

function showResult(variant, title, children = []) {
  result.className = `result result--${variant}`;
  result.replaceChildren(el("h2", { cls: "result__title", txt: title }), ...children);
  result.hidden = false;
}

function stat(id, label, value) {
  return el("div", { cls: "stat" }, [
    el("span", { cls: "stat__value", txt: value ?? 0, attrs: { id } }),
    el("span", { cls: "stat__label", txt: label }),
  ]);
}

function showSuccess(data, fileName) {
  const children = [
    el("div", { cls: "stats" }, [
      stat("result-rows", t("rows"), data.rows),
      stat("result-created", t("created"), data.created),
      stat("result-updated", t("updated"), data.updated),
    ]),
  ];
  const warnings = Array.isArray(data.warnings) ? data.warnings : [];
  if (warnings.length) {
    children.push(el("h3", { txt: t("warnings") }));
    const list = el("ul", { cls: "warnings" });
    for (const w of warnings) {
      list.append(el("li", { txt: typeof w === "string" ? w : w.message || JSON.stringify(w) }));
    }
    children.push(list);
  }
  children.push(el("p", { cls: "muted", txt: t("successNote") }));
  showResult("ok", t("successTitle", { file: fileName }), children);
}

function showBadRows(data) {
  const errors = data.errors;
  const total = [data.total_errors, data.error_count, data.total].find(Number.isInteger);
  const count = total ?? errors.length;
  const rows = errors.map((e) =>
    el("tr", {}, [
      el("td", { cls: "num", txt: e.line ?? "—" }),
      el("td", {}, [e.column ? el("code", { txt: e.column }) : el("span", { txt: "—" })]),
      el("td", { txt: e.reason ?? e.message ?? "" }),
    ]),
  );
  const head = el("tr", {}, [
    el("th", { cls: "num", txt: t("line"), attrs: { scope: "col" } }),
    el("th", { txt: t("column"), attrs: { scope: "col" } }),
    el("th", { txt: t("reason"), attrs: { scope: "col" } }),
  ]);
  const note = count > errors.length ? t("firstShown", { shown: errors.length }) : t("allShown");
  showResult("error", t("rejectedTitle"), [
    el("p", {}, [el("strong", { txt: t("badRowsTotal", { n: count }), attrs: { id: "result-bad-total" } }), ` ${note}`]),
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact", attrs: { id: "result-errors" } }, [
        el("thead", {}, [head]),
        el("tbody", {}, rows),
      ]),
    ]),
  ]);
}

/** 400 without a row list: field errors such as {"kind": ["..."]} or {"detail": "..."}. */
function showFieldErrors(data) {
  const list = el("ul");
  for (const [field, messages] of Object.entries(data || {})) {
    for (const message of [].concat(messages)) {
      const msg = typeof message === "string" ? message : JSON.stringify(message);
      list.append(el("li", { txt: field === "detail" || field === "non_field_errors" ? msg : `${field}: ${msg}` }));
    }
  }
  showResult("error", t("invalidTitle"), [list]);
}

function showFailure(message) {
  showResult("error", t("failedTitle"), [el("p", { txt: message })]);
}

// ---- Upload -----------------------------------------------------------------------------------

function setBusy(busy) {
  const button = document.getElementById("import-submit");
  const spinner = document.getElementById("import-busy");
  if (button) button.disabled = busy;
  if (spinner) spinner.hidden = !busy;
  form.setAttribute("aria-busy", busy ? "true" : "false");
}

async function upload(event) {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (!file) {
    showFailure(t("chooseFile"));
    return;
  }
  const maxBytes = Number(form.dataset.maxBytes || 0);
  if (maxBytes && file.size > maxBytes) {
    showFailure(t("tooLarge", { mb: form.dataset.maxMb }));
    return;
  }
  setBusy(true);
  showResult("info", t("uploading", { file: file.name }));
  const { status, data } = await apiFetch(form.action, {
    method: "POST",
    body: new FormData(form),
    csrfScope: form,
  });
  setBusy(false);
  if (status === 0) {
    showFailure(t("network"));
    return;
  }
  if (status === 201 && data && typeof data === "object" && "rows" in data) {
    showSuccess(data, file.name);
  } else if (status === 400 && data && Array.isArray(data.errors)) {
    showBadRows(data);
  } else if (status === 400 && data && typeof data === "object") {
    showFieldErrors(data);
  } else if (status === 413) {
    showFailure(t("tooLarge", { mb: form.dataset.maxMb }));
  } else if (status === 401) {
    showFailure(t("signedOut"));
  } else if (status === 403) {
    showFailure(t("forbidden"));
  } else if (status === 501) {
    showFailure(t("notReady"));
  } else {
    showFailure(t("unexpected", { status }));
  }
  result.focus({ preventScroll: false });
}

// ---- Start ------------------------------------------------------------------------------------

if (form) {
  const select = form.elements.kind;
  if (select) {
    showKind(select.value);
    select.addEventListener("change", () => showKind(select.value));
  }
  form.addEventListener("submit", upload);
}

// Server-rendered times are in the business zone already; keep the format identical.
connectLive("/ws/imports/", {
  onSnapshot(msg) {
    replaceRuns(msg.imports);
  },
  onEvent(msg) {
    if (msg.type === "import.completed") upsertRun(msg.run, true);
    else if (msg.type === "import.refreshed") upsertRun(msg.run, false);
  },
});
