// The /risk/ page (risk screening): the queue of flagged applications, an application's checks
// and ring, the blacklist and the lead pre-screen.
//
// The server renders the page and hands its state to this module (json_script blocks
// `screening-state`, `screening-config`, `screening-i18n`). There is no socket for screening:
// the queue is read again from GET /api/risk/flags/ on demand (the refresh button, a filter) and
// every 30 seconds while the page is in view. An application's detail comes from
// GET /api/risk/applications/{id}/ring/ (its checks explained, and the Plotly figure of its ring
// the server built); the blacklist from GET /api/risk/blacklist/; the pre-screen posts to
// POST /api/leads/prescreen/ (its answer names the live thresholds it used).
// Tabs follow the URL's hash: #queue, #application-{id}, #blacklist, #prescreen.

import { apiFetch, el, readJson, translator } from "../common.js";
import { newPlot } from "../plot_theme.js";
import { startProposals } from "./changes.js";
import {
  blacklistRow,
  entriesText,
  markSelected,
  num,
  paintBlacklist,
  paintDetail,
  paintPrescreen,
  paintQueue,
} from "./render.js";
import {
  blacklistUrl,
  fieldErrors,
  flagsUrl,
  mergeQueue,
  prescreenBody,
  rememberExplanations,
  route,
  usedThresholds,
} from "./state.js";

const TABS = ["queue", "blacklist", "prescreen"];
const PLOT_CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false };

const config = readJson("screening-config", {});
const initial = readJson("screening-state", {});
const t = translator(readJson("screening-i18n", {}));

const page = {
  config,
  t,
  initial,
  api: (method, url, body) => api(method, url, body),
  problem: (status) => problem(status),
  proposals: null,
  thresholds: { ...(config.thresholds || {}) },
  explanations: rememberExplanations(new Map(), initial.queue || []),
  selected: null,
  ringController: null,
  refreshing: false,
  queueSeq: 0,
  timer: null,
  state: {
    status: initial.status || "open",
    queue: Array.isArray(initial.queue) ? initial.queue : [],
    queueCount: Number.isFinite(initial.queueCount) ? initial.queueCount : 0,
    blacklist: Array.isArray(initial.blacklist) ? initial.blacklist : [],
    blacklistCount: Number.isFinite(initial.blacklistCount) ? initial.blacklistCount : 0,
    blacklistFilters: { type: "", active: "" },
  },
};

function api(method, url, body) {
  return apiFetch(url, {
    method,
    body: method === "GET" ? undefined : body || {},
    csrfScope: document.getElementById("screening-page"),
  });
}

/** GET with the X-Total-Count header (the lists answer their total there). */
async function getList(url) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    return { status: 0, data: null, total: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const total = Number(response.headers.get("X-Total-Count"));
  return { status: response.status, data, total: Number.isFinite(total) ? total : null };
}

function problem(status) {
  if (status === 0) return t("network");
  if (status === 401) return t("signedOut");
  if (status === 403) return t("forbidden");
  if (status === 404) return t("notFound");
  return t("unexpected", { status });
}

function clock() {
  return new Intl.DateTimeFormat(config.locale || "en-US", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone: config.timeZone || undefined,
  }).format(new Date());
}

// ---- The queue ------------------------------------------------------------------------------

async function refreshQueue({ quiet = false } = {}) {
  const seq = ++page.queueSeq; // the latest call wins (a filter chosen meanwhile)
  page.refreshing = true;
  const button = document.getElementById("queue-refresh");
  const note = document.getElementById("queue-updated");
  const error = document.getElementById("queue-error");
  if (button) button.disabled = true;
  document.getElementById("queue-list")?.classList.add("is-loading");
  const status = page.state.status;
  try {
    const { status: code, data, total } = await getList(flagsUrl(status, config.queueLimit || 200));
    if (seq !== page.queueSeq || status !== page.state.status) return;
    if (code !== 200 || !Array.isArray(data)) {
      if (error) {
        error.textContent = t("refreshFailed", { why: problem(code) });
        error.hidden = false;
      }
      return;
    }
    if (error) error.hidden = true;
    const { rows, added, changed } = mergeQueue(page.state.queue, data);
    page.state = { ...page.state, queue: rows, queueCount: total ?? rows.length };
    page.explanations = rememberExplanations(page.explanations, rows);
    paintQueue(page, { flash: quiet ? [...added, ...changed] : [] });
    if (status === "open") {
      // The open flags are counted on the tab and in the figures too.
      for (const node of [document.querySelector("[data-tab-count=queue]"), document.getElementById("fig-open")]) {
        if (node) node.textContent = num(page, page.state.queueCount);
      }
    }
    if (note) note.textContent = t("updatedAt", { time: clock() });
    if (page.selected && changed.includes(page.selected)) openApplication(page.selected, { keepScroll: true });
  } finally {
    if (seq === page.queueSeq) {
      page.refreshing = false;
      if (button) button.disabled = false;
      document.getElementById("queue-list")?.classList.remove("is-loading");
    }
  }
}

function startTimer() {
  clearInterval(page.timer);
  const seconds = Number(config.refreshSeconds) || 30;
  page.timer = setInterval(() => {
    if (document.visibilityState !== "visible") return;
    const tab = route(window.location.hash, TABS).tab;
    if (tab === "blacklist") page.proposals?.refresh();
    if (page.refreshing || tab !== "queue") return;
    refreshQueue({ quiet: true });
  }, seconds * 1000);
}

// ---- An application -------------------------------------------------------------------------

/** The queue's CSV and XLSX downloads hold the flags of the status shown. */
function exportStatus(status) {
  for (const link of document.querySelectorAll("a[id^='flags-export-']")) {
    const url = new URL(link.getAttribute("href"), window.location.href);
    url.searchParams.set("status", status);
    link.setAttribute("href", `${url.pathname}${url.search}`);
  }
}

async function openApplication(id, { keepScroll = false } = {}) {
  page.selected = id;
  markSelected(page);
  page.ringController?.abort();
  const controller = new AbortController();
  page.ringController = controller;
  if (!keepScroll) paintDetail(page, null, { loading: true });
  let answer;
  try {
    answer = await apiFetch(`/api/risk/applications/${encodeURIComponent(id)}/ring/`, {
      signal: controller.signal,
    });
  } catch {
    return; // replaced by a later choice
  }
  if (page.selected !== id) return;
  const { status, data } = answer;
  if (status !== 200 || !data) {
    paintDetail(page, null, {
      error: status === 404 ? t("noSuchApplication", { id }) : problem(status),
    });
    return;
  }
  page.explanations = rememberExplanations(page.explanations, [data.application]);
  const chart = paintDetail(page, data);
  if (chart && data.figure && window.Plotly) {
    newPlot(chart, data.figure.data, data.figure.layout, PLOT_CONFIG).then(() => {
      chart.dataset.drawn = "1";
      chart.on("plotly_click", (event) => {
        const point = event && event.points && event.points[0];
        const target = point && point.customdata;
        if (typeof target === "string" && target !== page.selected) {
          window.location.hash = `application-${encodeURIComponent(target)}`;
        }
      });
    });
  }
  // The queue's explanations of this application are now exact.
  if (page.state.queue.some((row) => row.application_id === id)) paintQueue(page);
  const pane = document.getElementById("app-detail");
  if (!keepScroll && pane && pane.getBoundingClientRect().top < 0) pane.scrollIntoView({ block: "start" });
}

// ---- The blacklist --------------------------------------------------------------------------

async function loadBlacklist({ append = false } = {}) {
  const filters = page.state.blacklistFilters;
  const offset = append ? page.state.blacklist.length : 0;
  const error = document.getElementById("blacklist-error");
  const { status, data, total } = await getList(blacklistUrl(filters, { limit: 100, offset }));
  if (filters !== page.state.blacklistFilters) return; // changed meanwhile
  if (status !== 200 || !Array.isArray(data)) {
    if (error) {
      error.textContent = problem(status);
      error.hidden = false;
    }
    return;
  }
  if (error) error.hidden = true;
  page.state = {
    ...page.state,
    blacklist: append ? [...page.state.blacklist, ...data] : data,
    blacklistCount: total ?? data.length,
  };
  if (append) {
    const body = document.getElementById("blacklist-body");
    body?.append(...data.map((entry) => blacklistRow(page, entry)));
    paintBlacklistCount();
  } else {
    paintBlacklist(page);
  }
}

/** The figure "Blacklist entries in force", read again (X-Total-Count of the active entries). */
async function countInForce() {
  const { status, total } = await getList(blacklistUrl({ active: "true" }, { limit: 1 }));
  const figure = document.getElementById("fig-blacklist");
  if (status === 200 && total !== null && figure) figure.textContent = num(page, total);
}

function paintBlacklistCount() {
  const count = document.getElementById("blacklist-count");
  if (count) count.textContent = entriesText(page);
  const more = document.getElementById("blacklist-more");
  if (more) more.hidden = page.state.blacklist.length >= page.state.blacklistCount;
}

// ---- The pre-screen -------------------------------------------------------------------------

function showFieldErrors(form, byField) {
  for (const holder of form.querySelectorAll("[data-error-for]")) {
    const messages = byField[holder.dataset.errorFor] || [];
    holder.replaceChildren(...messages.map((m) => el("p", { cls: "field__error", txt: m })));
    holder.closest(".field")?.classList.toggle("field--error", messages.length > 0);
  }
}

async function prescreen(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const result = document.getElementById("prescreen-result");
  const values = Object.fromEntries(new FormData(form).entries());
  const { body, errors } = prescreenBody(values);
  const local = Object.fromEntries(
    Object.entries(errors).map(([name, kind]) => [name, [t(kind === "required" ? "fieldRequired" : `range_${name}`)]]),
  );
  showFieldErrors(form, local);
  if (Object.keys(local).length) return;
  const submit = form.querySelector("button[type=submit]");
  if (submit) submit.disabled = true;
  result.classList.add("is-loading");
  try {
    const answer = await api("POST", "/api/leads/prescreen/", body);
    if (answer.status === 400) {
      const { byField, general } = fieldErrors(answer.data);
      showFieldErrors(form, byField);
      result.replaceChildren(...general.map((m) => el("p", { cls: "notice notice--error", txt: m })));
      return;
    }
    if (answer.status !== 200 || !answer.data) {
      result.replaceChildren(el("p", { cls: "notice notice--error", txt: problem(answer.status) }));
      return;
    }
    // The answer names the live thresholds it used: the page's copy follows them.
    Object.assign(page.thresholds, answer.data.thresholds || {});
    paintPrescreen(page, answer.data, usedThresholds(answer.data, page.thresholds));
  } finally {
    if (submit) submit.disabled = false;
    result.classList.remove("is-loading");
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
}

function onRoute() {
  const { tab, application } = route(window.location.hash, TABS);
  showTab(tab);
  if (application && application !== page.selected) openApplication(application);
  else if (application && !document.querySelector(`[data-application-detail="${CSS.escape(application)}"]`)) {
    openApplication(application);
  }
}

// ---- Start ----------------------------------------------------------------------------------

function start() {
  paintQueue(page);
  paintDetail(page, null);
  paintBlacklist(page);
  page.proposals = startProposals(page, {
    onListed: () => {
      // A confirmed change lists, changes or removes an entry and re-checks its holders.
      loadBlacklist();
      refreshQueue({ quiet: true });
      countInForce();
    },
  });

  for (const chip of document.querySelectorAll("[data-status-filter]")) {
    chip.addEventListener("click", () => {
      if (page.state.status === chip.dataset.statusFilter) return;
      page.state = { ...page.state, status: chip.dataset.statusFilter, queue: [], queueCount: 0 };
      exportStatus(page.state.status);
      paintQueue(page);
      refreshQueue();
    });
  }
  document.getElementById("queue-refresh")?.addEventListener("click", () => refreshQueue());
  for (const name of ["type", "active"]) {
    document.getElementById(`blacklist-${name}`)?.addEventListener("change", (event) => {
      page.state = {
        ...page.state,
        blacklistFilters: { ...page.state.blacklistFilters, [name]: event.target.value },
      };
      loadBlacklist();
    });
  }
  document.getElementById("blacklist-more")?.addEventListener("click", () => loadBlacklist({ append: true }));
  document.getElementById("prescreen-form")?.addEventListener("submit", prescreen);
  const tabs = document.querySelector(".scr-tabs[role=tablist]");
  tabs?.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const current = TABS.indexOf(route(window.location.hash, TABS).tab);
    const next = TABS[(current + (event.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    window.location.hash = next;
    document.querySelector(`[data-tab="${next}"]`)?.focus();
  });
  window.addEventListener("hashchange", onRoute);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && route(window.location.hash, TABS).tab === "queue") {
      refreshQueue({ quiet: true });
    }
  });
  onRoute();
  const note = document.getElementById("queue-updated");
  if (note) note.textContent = t("updatedAt", { time: clock() });
  startTimer();
}

start();
