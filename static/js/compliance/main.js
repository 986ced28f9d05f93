// The /compliance/ page (risk collaboration: compliant scripts and call checks).
//
// The server renders the page and hands its state to this module (json_script blocks
// `compliance-state`, `compliance-config`, `compliance-i18n`, `compliance-charts`); this module
// draws the two Plotly figures the server built, keeps everything live over /ws/compliance/
// (live.js: snapshot on connect and reconnect, then events, see state.js) and wires the
// controls (actions.js). Tabs follow the URL's hash: #check, #scripts, #script-{id}, #calls,
// #call-{id}, #library, #evaluation: the kanban's review cards link to #script-{id}.

import { apiFetch, el, readJson, translator } from "../common.js";
import { connectLive } from "../live.js";
import { newPlot } from "../plot_theme.js";
import {
  categoryEditorNotice,
  editorNotice,
  loadEvaluation,
  loadMoreCalls,
  openCategoryEditor,
  openCategoryHistory,
  openScriptEditor,
  setupCheck,
  showCall,
  showScript,
} from "./actions.js";
import {
  flashNode,
  paintCallList,
  paintFigures,
  paintLibrary,
  paintPrecision,
  paintScriptList,
} from "./render.js";
import { applyEvent, applySnapshot, createState, upsertCall, upsertCategory, upsertScript } from "./state.js";

const TABS = ["check", "scripts", "calls", "library", "evaluation"];
const DEFAULT_TAB = "scripts";
const PLOT_CONFIG = { displayModeBar: false, responsive: true };

const config = readJson("compliance-config", {});
const t = translator(readJson("compliance-i18n", {}));

const page = {
  config,
  t,
  perms: config.perms || {},
  state: createState(readJson("compliance-state", {})),
  parameterValues: Object.fromEntries(
    Object.entries(config.parameters || {}).map(([key, info]) => [key, info.value]),
  ),
  valuesAt: 0,
  selectedScript: null,
  selectedCall: null,
  scriptFilter: "all",
  showRetired: false,
  editing: null,
  editingCategories: new Set(),
  historyKey: null,
  evaluationLoaded: false,

  api(method, url, body) {
    return apiFetch(url, {
      method,
      body: method === "GET" ? undefined : body || {},
      csrfScope: document.getElementById("compliance-page"),
    });
  },

  scriptById(id) {
    return this.state.scripts.find((s) => s.id === id) || null;
  },

  /** A script the API answered (or a 409's `current`): into the state, and repainted. */
  receiveScript(script, { force = false } = {}) {
    const { scripts, accepted, previous } = upsertScript(this.state.scripts, script);
    if (accepted) this.state = { ...this.state, scripts };
    else if (force) this.state = { ...this.state, scripts: scripts.map((s) => (s.id === script.id ? script : s)) };
    scriptChanged(script.id, { previous, own: true });
  },

  receiveCall(call) {
    const { calls } = upsertCall(this.state.calls, call, { onlyIfPresent: true });
    this.state = { ...this.state, calls };
    this.extraCalls.set(call.call_id, call);
    paintCallList(this);
    if (this.selectedCall === call.call_id) showCall(this, call);
  },

  receiveCategory(category) {
    const { library, accepted } = upsertCategory(this.state.library, category);
    if (accepted) this.state = { ...this.state, library };
    paintLibrary(this, { flashKey: category.key });
  },

  appendCalls(calls, count) {
    const known = new Set(this.state.calls.map((c) => c.call_id));
    this.state = {
      ...this.state,
      calls: [...this.state.calls, ...calls.filter((c) => !known.has(c.call_id))],
      callsCount: count,
    };
    paintCallList(this);
  },

  async refreshPrecision() {
    const { status, data } = await this.api("GET", "/api/compliance/precision/");
    if (status === 200 && data) {
      this.state = { ...this.state, precision: data };
      paintPrecision(this);
    }
  },

  openScript(id) {
    const hash = `#script-${id}`;
    if (window.location.hash !== hash) history.replaceState(null, "", hash);
    route();
  },

  openDrawer(title, subtitle) {
    document.getElementById("cmp-drawer-title").textContent = title;
    document.getElementById("cmp-drawer-sub").textContent = subtitle || "";
    const body = document.getElementById("cmp-drawer-body");
    body.replaceChildren(el("p", { cls: "muted", txt: t("loading") }));
    document.getElementById("cmp-drawer").hidden = false;
    document.getElementById("cmp-drawer-backdrop").hidden = false;
    document.getElementById("cmp-drawer").focus();
    return body;
  },

  toast(message, variant = "info") {
    const box = document.getElementById("cmp-toasts");
    if (!box) return;
    const item = el("div", { cls: `cmp-toast cmp-toast--${variant}`, txt: message });
    box.append(item);
    setTimeout(() => item.remove(), 6000);
  },

  extraCalls: new Map(), // calls opened by link that are not among the flagged ones listed
};

// ---- Charts ---------------------------------------------------------------------------------

function drawCharts() {
  const charts = readJson("compliance-charts", null);
  if (!charts || !window.Plotly) return;
  for (const [key, id] of [
    ["flagged", "chart-flagged"],
    ["matrix", "chart-matrix"],
  ]) {
    const target = document.getElementById(id);
    const figure = charts[key];
    if (!target || !figure) continue;
    newPlot(target, figure.data, figure.layout, PLOT_CONFIG);
    target.dataset.drawn = "1";
  }
}

// ---- Tabs and the hash ----------------------------------------------------------------------

function showTab(name) {
  for (const tab of TABS) {
    const panel = document.getElementById(`tab-${tab}`);
    const link = document.querySelector(`[data-tab="${tab}"]`);
    if (panel) panel.hidden = tab !== name;
    if (link) {
      link.setAttribute("aria-selected", tab === name ? "true" : "false");
      link.classList.toggle("is-current", tab === name);
      link.tabIndex = tab === name ? 0 : -1;
    }
  }
  if (name === "evaluation") loadEvaluation(page);
}

async function route() {
  const hash = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  let match;
  if ((match = /^script-(\d+)$/.exec(hash))) {
    showTab("scripts");
    await selectScript(Number(match[1]));
  } else if (hash === "new-script" && page.perms.writeScripts) {
    showTab("scripts");
    page.selectedScript = null;
    paintScriptList(page);
    openScriptEditor(page, null);
  } else if ((match = /^call-(.+)$/.exec(hash))) {
    showTab("calls");
    await selectCall(match[1]);
  } else {
    showTab(TABS.includes(hash) ? hash : DEFAULT_TAB);
  }
}

async function selectScript(id) {
  page.selectedScript = id;
  page.editing = null;
  paintScriptList(page);
  let script = page.scriptById(id);
  if (!script) {
    const { status, data } = await page.api("GET", `/api/compliance/scripts/${id}/`);
    if (status === 200 && data) {
      page.receiveScript(data);
      script = page.scriptById(id);
    } else {
      document.getElementById("script-detail").replaceChildren(
        el("p", { cls: "notice notice--error", txt: t("noSuchScript", { id }) }),
      );
      return;
    }
  }
  showScript(page, script);
  const detail = document.getElementById("script-detail");
  if (detail && detail.getBoundingClientRect().top > window.innerHeight) {
    detail.scrollIntoView({ block: "start" });
  }
}

async function selectCall(id) {
  page.selectedCall = id;
  paintCallList(page);
  let call = page.state.calls.find((c) => c.call_id === id) || page.extraCalls.get(id);
  if (!call) {
    const { status, data } = await page.api("GET", `/api/compliance/calls/${encodeURIComponent(id)}/`);
    if (status !== 200 || !data) {
      document.getElementById("call-detail").replaceChildren(
        el("p", { cls: "notice notice--error", txt: t("noSuchCall", { id }) }),
      );
      return;
    }
    call = data;
    page.extraCalls.set(id, call);
  }
  showCall(page, call);
}

// ---- Live changes ---------------------------------------------------------------------------

function learnValues(script) {
  const values = script && script.checked_against && script.checked_against.parameters;
  const at = Date.parse((script && script.checked_at) || "") || 0;
  if (values && at >= page.valuesAt) {
    page.valuesAt = at;
    Object.assign(page.parameterValues, values);
  }
}

const LIVE_STATES = ["approved", "needs_review"];
let figuresTimer = null;

/** The figures count live scripts: a script entering or leaving them moves them. The server
 * announces `figures.updated` after re-checks and calls; after a review decision the page asks. */
function refreshFiguresSoon() {
  clearTimeout(figuresTimer);
  figuresTimer = setTimeout(async () => {
    const { status, data } = await page.api("GET", "/api/compliance/figures/");
    if (status === 200 && data) {
      page.state = { ...page.state, figures: data };
      paintFigures(page, { flash: true });
    }
  }, 300);
}

function scriptChanged(id, { previous = null, own = false, action = null } = {}) {
  const script = page.scriptById(id);
  learnValues(script);
  paintScriptList(page);
  if (!script) return;
  if (LIVE_STATES.includes(script.state) !== LIVE_STATES.includes(previous && previous.state)) {
    refreshFiguresSoon();
  }
  const item = document.querySelector(`#script-list [data-script="${id}"]`);
  const moved = previous && previous.state !== script.state;
  if (!own && (moved || !previous)) flashNode(item);
  if (page.selectedScript !== id) return;
  if (page.editing === id) {
    if (!own) editorNotice(page, script);
    return;
  }
  const state = t(`state_${script.state}`);
  let notice = null;
  if (!own && moved) {
    notice =
      action === "recheck"
        ? t("recheckedNow", { state })
        : t("movedBy", { state, who: script.updated_by || t("system") });
  }
  showScript(page, script, { notice });
  if (moved) flashNode(document.querySelector("#script-detail .cmp-state"));
}

function onSnapshot(msg) {
  const before = page.selectedScript !== null ? page.scriptById(page.selectedScript) : null;
  const { state, staleLibrary } = applySnapshot(page.state, msg);
  page.state = state;
  for (const script of page.state.scripts) learnValues(script);
  paintFigures(page);
  paintScriptList(page);
  paintCallList(page);
  paintPrecision(page);
  const after = page.selectedScript !== null ? page.scriptById(page.selectedScript) : null;
  // Repaint the open script only if it changed while the socket was away (a note being typed
  // in its review form is not thrown away by a reconnect).
  const changed =
    after && (!before || before.version !== after.version || before.checked_at !== after.checked_at);
  if (changed && page.editing !== page.selectedScript) showScript(page, after);
  if (staleLibrary.length) reloadLibrary();
}

async function reloadLibrary() {
  const { status, data } = await page.api("GET", "/api/compliance/library/");
  if (status !== 200 || !Array.isArray(data)) return;
  for (const category of data) {
    const { library, accepted } = upsertCategory(page.state.library, category);
    if (accepted) page.state = { ...page.state, library };
  }
  paintLibrary(page);
}

function onEvent(msg) {
  const { state, effect } = applyEvent(page.state, msg);
  page.state = state;
  switch (effect.kind) {
    case "script":
      if (effect.accepted) scriptChanged(effect.id, { previous: effect.previous, action: effect.action });
      break;
    case "call":
      paintCallList(page, { flashId: effect.added ? effect.id : null });
      if (effect.id === page.selectedCall) {
        const call = page.state.calls.find((c) => c.call_id === effect.id) || msg.call;
        page.extraCalls.set(effect.id, call);
        showCall(page, call);
      }
      break;
    case "verdict":
      paintPrecision(page);
      paintCallList(page);
      if (msg.call) page.extraCalls.set(msg.call.call_id, msg.call);
      if (effect.id === page.selectedCall && msg.call) showCall(page, msg.call);
      break;
    case "category":
      if (effect.accepted) {
        paintLibrary(page, { flashKey: effect.key });
        if (page.editingCategories.has(effect.key)) categoryEditorNotice(page, msg.category);
      }
      break;
    case "figures":
      paintFigures(page, { flash: true });
      break;
    default:
      break;
  }
}

// ---- Start ----------------------------------------------------------------------------------

function closeDrawer() {
  document.getElementById("cmp-drawer").hidden = true;
  document.getElementById("cmp-drawer-backdrop").hidden = true;
  page.historyKey = null;
}

function start() {
  drawCharts();
  paintFigures(page);
  paintScriptList(page);
  paintCallList(page);
  paintPrecision(page);
  paintLibrary(page);
  showScript(page, null);
  showCall(page, null);
  setupCheck(page);

  document.getElementById("script-new")?.addEventListener("click", () => {
    history.replaceState(null, "", "#new-script");
    route();
  });
  for (const chip of document.querySelectorAll("[data-script-filter]")) {
    chip.addEventListener("click", () => {
      page.scriptFilter = chip.dataset.scriptFilter;
      paintScriptList(page);
    });
  }
  document.getElementById("show-retired")?.addEventListener("change", (event) => {
    page.showRetired = event.target.checked;
    paintScriptList(page);
  });
  document.getElementById("calls-more")?.addEventListener("click", () => loadMoreCalls(page));
  document.getElementById("library-body")?.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action][data-key]");
    if (!target) return;
    if (target.dataset.action === "edit-category") openCategoryEditor(page, target.dataset.key);
    else if (target.dataset.action === "category-history") openCategoryHistory(page, target.dataset.key);
  });
  document.getElementById("cmp-drawer-close")?.addEventListener("click", closeDrawer);
  document.getElementById("cmp-drawer-backdrop")?.addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.getElementById("cmp-drawer").hidden) closeDrawer();
  });
  const tabs = document.querySelector("[role=tablist]");
  tabs?.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const current = TABS.findIndex((tab) => document.querySelector(`[data-tab="${tab}"]`)?.getAttribute("aria-selected") === "true");
    const next = TABS[(current + (event.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    window.location.hash = next;
    document.querySelector(`[data-tab="${next}"]`)?.focus();
  });
  window.addEventListener("hashchange", route);
  route();

  connectLive("/ws/compliance/", { onSnapshot, onEvent });
}

start();
