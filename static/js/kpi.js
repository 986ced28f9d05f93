// The /kpi/ page: draws the trend charts, switches quarters, closes and reopens a quarter, and
// runs the KPI set editor (weights summed live, the collaboration share against the minimum,
// the server's 400 messages shown as they come).

import { el, readJson, translator } from "./common.js";
import { api, drawFigures } from "./kpi_common.js";

const t = translator(readJson("kpi-i18n", {}));
const figures = readJson("kpi-figures", {});
const editor = readJson("kpi-editor-data", { states: [], metrics: [] });

// ---- charts: drawn when visible (a closed <details> has no width to draw in) -----------------

function drawIn(root) {
  if (root.dataset.drawn) return;
  root.dataset.drawn = "1";
  drawFigures(root, figures);
}

const overview = document.querySelector(".kpi-charts--2");
if (overview) drawFigures(overview, figures);
for (const details of document.querySelectorAll("details.kpi-dept")) {
  if (details.open) drawIn(details);
  details.addEventListener("toggle", () => details.open && drawIn(details));
}

// A score or a KPI name links to its trend: open the department's details first.
function openTarget() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id) return;
  const target = document.getElementById(id);
  if (!target) return;
  const details = target.closest("details") || (target.tagName === "DETAILS" ? target : null);
  if (details && !details.open) {
    details.open = true;
    drawIn(details);
  }
  target.scrollIntoView({ block: "start" });
}
window.addEventListener("hashchange", openTarget);
openTarget();

// ---- quarter picker: the quarter lives in the URL ---------------------------------------------

const select = document.getElementById("quarter-select");
if (select) select.addEventListener("change", () => select.form.submit());

// ---- close / reopen -----------------------------------------------------------------------------

const statusError = document.getElementById("status-error");

function showStatusError(message) {
  statusError.textContent = message;
  statusError.hidden = false;
}

function describe(status, body) {
  if (status === 401) return t("signedOut");
  if (status === 403) return t("forbidden");
  if (body && body.detail) return String(body.detail);
  if (body && typeof body === "object") {
    return Object.values(body).flat().map(String).join(" ");
  }
  return t("unexpected", { status });
}

async function quarterAction(button, action) {
  const quarter = button.dataset.quarter;
  let reason = "";
  if (action === "close") {
    if (!window.confirm(t("confirmClose", { quarter }))) return;
    reason = window.prompt(t("reasonClose"), "") || "";
  } else {
    reason = (window.prompt(t("reasonReopen"), "") || "").trim();
    if (!reason) {
      showStatusError(t("reasonRequired"));
      return;
    }
  }
  button.disabled = true;
  try {
    const { status, body } = await api(`/api/kpi/quarters/${quarter}/${action}/`, {
      method: "POST",
      body: { reason },
    });
    if (status === 200) {
      location.reload();
      return;
    }
    showStatusError(describe(status, body));
  } catch {
    showStatusError(t("network"));
  } finally {
    button.disabled = false;
  }
}

// ---- the review as a PDF: printed by the worker, polled here, then downloaded ----------------

const PDF_POLL_MS = 1000;
const PDF_GIVE_UP_MS = 3 * 60 * 1000;
const pdfButton = document.getElementById("export-pdf");
const pdfStatus = document.getElementById("pdf-status");

function showPdfStatus(text) {
  pdfStatus.textContent = text;
  pdfStatus.hidden = !text;
}

async function exportPdf() {
  pdfButton.disabled = true;
  showPdfStatus(t("pdfQueued"));
  try {
    let { status, body } = await api(pdfButton.dataset.url, {
      method: "POST",
      body: { quarter: pdfButton.dataset.quarter },
    });
    if (status !== 202) {
      showPdfStatus("");
      showStatusError(describe(status, body));
      return;
    }
    const giveUp = Date.now() + PDF_GIVE_UP_MS;
    while (body.status === "queued" || body.status === "rendering") {
      showPdfStatus(t(body.status === "queued" ? "pdfQueued" : "pdfRendering"));
      if (Date.now() > giveUp) {
        showPdfStatus(t("pdfSlow"));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PDF_POLL_MS));
      ({ status, body } = await api(body.status_url));
      if (status !== 200) {
        showPdfStatus("");
        showStatusError(describe(status, body));
        return;
      }
    }
    if (body.status === "done") {
      showPdfStatus(t("pdfReady", { pages: body.pages }));
      location.assign(body.download_url);
    } else {
      showPdfStatus(t("pdfFailed", { error: body.error }));
    }
  } catch {
    showPdfStatus("");
    showStatusError(t("network"));
  } finally {
    pdfButton.disabled = false;
  }
}

if (pdfButton) pdfButton.addEventListener("click", exportPdf);

const closeButton = document.getElementById("close-quarter");
if (closeButton) closeButton.addEventListener("click", () => quarterAction(closeButton, "close"));
const reopenButton = document.getElementById("reopen-quarter");
if (reopenButton) reopenButton.addEventListener("click", () => quarterAction(reopenButton, "reopen"));

// ---- the KPI set editor -------------------------------------------------------------------------

const form = document.getElementById("kpi-set-form");
const rows = document.getElementById("kpi-rows");
const weightSum = document.getElementById("weight-sum");
const collabSum = document.getElementById("collab-sum");
const result = document.getElementById("kpi-set-result");
const states = Object.fromEntries(editor.states.map((s) => [s.department, s]));
const collaborationMetrics = new Set(
  editor.metrics.filter((m) => m.collaboration_metric).map((m) => m.key),
);
let department = editor.states.length ? editor.states[0].department : "";

function numberInput(name, value, label) {
  return el("input", {
    attrs: {
      type: "number",
      step: "any",
      name,
      value: value === undefined || value === null ? "" : String(value),
      "aria-label": label,
      class: "kpi-num",
      required: "",
    },
  });
}

function metricSelect(selected) {
  const node = el("select", { attrs: { name: "metric", "aria-label": "metric" } });
  for (const metric of editor.metrics) {
    const option = el("option", {
      txt: `${metric.name} (${metric.unit})`,
      attrs: { value: metric.key },
    });
    if (metric.key === selected) option.selected = true;
    node.append(option);
  }
  return node;
}

function addRow(kpi = {}) {
  const collab = el("input", { attrs: { type: "checkbox", name: "collaboration", "aria-label": "collaboration" } });
  collab.checked = Boolean(kpi.collaboration);
  const select = metricSelect(kpi.metric || editor.metrics[0].key);
  select.addEventListener("change", () => {
    if (collaborationMetrics.has(select.value)) collab.checked = true;
    updateSums();
  });
  const remove = el("button", { cls: "button button--secondary kpi-remove", txt: t("remove"), attrs: { type: "button" } });
  const row = el("tr", { cls: "kpi-edit-row" }, [
    el("td", {}, [select]),
    el("td", {}, [numberInput("target", kpi.target, "target")]),
    el("td", {}, [numberInput("threshold", kpi.threshold, "threshold")]),
    el("td", {}, [numberInput("weight", kpi.weight, "weight")]),
    el("td", { cls: "kpi-center" }, [collab]),
    el("td", {}, [remove]),
  ]);
  remove.addEventListener("click", () => {
    row.remove();
    updateSums();
  });
  rows.append(row);
}

function readRows() {
  return [...rows.querySelectorAll("tr")].map((row) => {
    const get = (name) => row.querySelector(`[name=${name}]`);
    const num = (name) => {
      const text = get(name).value.trim();
      return text === "" ? null : Number(text);
    };
    return {
      metric: get("metric").value,
      target: num("target"),
      threshold: num("threshold"),
      weight: num("weight"),
      collaboration: get("collaboration").checked,
    };
  });
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}

function updateSums() {
  const kpis = readRows();
  const total = kpis.reduce((sum, k) => sum + (Number.isFinite(k.weight) ? k.weight : 0), 0);
  const collab = kpis
    .filter((k) => k.collaboration)
    .reduce((sum, k) => sum + (Number.isFinite(k.weight) ? k.weight : 0), 0);
  weightSum.textContent = t("weightsSum", { sum: round(total) });
  weightSum.dataset.ok = String(Math.abs(total - 100) < 1e-6);
  collabSum.textContent = t("collaborationShare", {
    share: round(collab),
    min: editor.min_collaboration,
  });
  collabSum.dataset.ok = String(collab + 1e-6 >= editor.min_collaboration);
}

function showDepartment(name) {
  department = name;
  for (const tab of document.querySelectorAll(".kpi-tab")) {
    const current = tab.dataset.department === name;
    tab.classList.toggle("is-current", current);
    tab.setAttribute("aria-selected", String(current));
  }
  rows.replaceChildren();
  for (const kpi of states[name].kpis) addRow(kpi);
  result.replaceChildren();
  updateSums();
}

function showErrors(body) {
  const list = el("ul");
  const add = (text) => list.append(el("li", { txt: text }));
  if (Array.isArray(body && body.kpis)) {
    body.kpis.forEach((item, index) => {
      if (item && typeof item === "object") {
        for (const [field, messages] of Object.entries(item)) {
          add(`KPI ${index + 1} · ${field}: ${[].concat(messages).join(" ")}`);
        }
      }
    });
  }
  for (const [field, messages] of Object.entries(body || {})) {
    if (field === "kpis" && Array.isArray(messages) && typeof messages[0] === "object") continue;
    for (const message of [].concat(messages)) add(String(message));
  }
  result.replaceChildren(
    el("div", { cls: "notice notice--error", attrs: { role: "alert" } }, [
      el("p", { txt: t("refused") }),
      list,
    ]),
  );
}

async function save(event) {
  event.preventDefault();
  const state = states[department];
  const payload = {
    kpis: readRows(),
    reason: document.getElementById("kpi-reason").value,
    version: state.version,
  };
  const button = document.getElementById("kpi-save");
  button.disabled = true;
  try {
    const { status, body } = await api(`/api/kpi/departments/${department}/kpis/`, {
      method: "PUT",
      body: payload,
    });
    if (status === 200) {
      const fresh = await api("/api/kpi/departments/");
      if (fresh.status === 200) {
        for (const s of fresh.body) states[s.department] = s;
      }
      const saved = states[department];
      const tab = document.querySelector(`.kpi-tab[data-department=${department}] .muted`);
      if (tab) tab.textContent = `v${saved.version}`;
      result.replaceChildren(
        el("p", {
          cls: "notice notice--info",
          txt: t("saved", { department: editor.labels[department] || department, version: saved.version }),
        }),
      );
      document.getElementById("kpi-reason").value = "";
    } else if (status === 400) {
      showErrors(body);
    } else if (status === 409) {
      result.replaceChildren(el("p", { cls: "notice notice--error", txt: t("conflict") }));
    } else {
      result.replaceChildren(el("p", { cls: "notice notice--error", txt: describe(status, body) }));
    }
  } catch {
    result.replaceChildren(el("p", { cls: "notice notice--error", txt: t("network") }));
  } finally {
    button.disabled = false;
  }
}

if (form && department) {
  for (const tab of document.querySelectorAll(".kpi-tab")) {
    tab.addEventListener("click", () => showDepartment(tab.dataset.department));
  }
  rows.addEventListener("input", updateSums);
  rows.addEventListener("change", updateSums);
  document.getElementById("kpi-add").addEventListener("click", () => {
    addRow({ weight: 0 });
    updateSums();
  });
  form.addEventListener("submit", save);
  showDepartment(department);
}
