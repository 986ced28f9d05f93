// The live dashboard (/): fourteen panels of one region on one day, and the open alerts.
//
// The server renders everything first (templates/dashboard.html) and hands the data, the
// sparkline figures (built in Python, metrics/charts.py) and the translated words over in the
// #dashboard-data json_script. This module draws the sparklines with the local plotly.js and keeps
// the page live over /ws/metrics/ through live.js:
//   - panels.snapshot (on connect and every reconnect): replace every panel and the alert list;
//   - panel.updated (for this region and day): redraw that panel in place, with a brief highlight;
//   - alert.raised / alert.resolved: update the grouped alert list.
// The region and date pickers change the view without reloading: the URL follows
// (history.replaceState) and the socket is told with {"type": "view", region, date}.

import { apiFetch, el, readJson, translate } from "./common.js";
import { connectLive } from "./live.js";
import { react } from "./plot_theme.js";
import { periodSearch, summaryQuery, wirePeriodPicker } from "./period.js";
import {
  silenceOf,
  acknowledgeControl,
  alertGroups,
  alertItem,
  formatDelta,
  formatTime,
  formatValue,
  sparkFigure,
  tone,
  arrow,
} from "./metric_common.js";

const data = readJson("dashboard-data", {});
const t = (key, values) => translate(data.text || {}, key, values);
const ALL = "all";

const state = {
  region: data.region || ALL,
  date: data.date,
  explicitDate: Boolean(data.explicitDate),
  panels: new Map((data.panels || []).map((p) => [p.key, p])),
  alerts: new Map((data.alerts || []).map((a) => [a.id, a])),
  silences: data.silences || [],
};

const regionPicker = document.getElementById("pick-region");
const datePicker = document.getElementById("pick-date");
const todayButton = document.getElementById("pick-today");
const panelsBox = document.getElementById("dash-panels");
const alertList = document.getElementById("alert-list");
const alertCount = document.getElementById("alerts-count");
const elsewhere = document.getElementById("alerts-elsewhere");
const updatedAt = document.getElementById("updated-at");

// ---- Sparklines ---------------------------------------------------------------------------------

function plotly() {
  return window.Plotly;
}

function drawSpark(key, figure) {
  const host = document.querySelector(`#panel-${CSS.escape(key)} [data-role=spark]`);
  if (!host || !plotly() || !figure) return;
  react(host, figure.data, figure.layout, figure.config);
}

// ---- Panels -------------------------------------------------------------------------------------

function linkQuery() {
  const params = new URLSearchParams();
  if (state.region !== ALL) params.set("region", state.region);
  if (state.explicitDate) params.set("date", state.date);
  return periodSearch(params.toString(), period);
}

// ---- The period (GET /api/metrics/summary/), when one is chosen ---------------------------------

const period = data.period || {};
const summaryBox = document.getElementById("period-summary");
let summaryTimer = null;
let summaryAbort = null;

function renderSummaryRow(panel) {
  const row = summaryBox && summaryBox.querySelector(`[data-key="${CSS.escape(panel.key)}"]`);
  const meta = (data.names || {})[panel.key];
  if (!row || !meta) return;
  const text = (value) => formatValue(value, meta.unit, data.units).join(" ").trim();
  const set = (role, value) => {
    const cell = row.querySelector(`[data-role=${role}]`);
    if (cell && cell.textContent.trim() !== value) {
      cell.textContent = value;
      row.classList.add("is-updated");
    }
  };
  set("value", text(panel.value));
  set("compare", text(panel.compare_value));
  set("delta", `${arrow(panel.delta_pct)} ${formatDelta(panel.delta_pct)}`.trim());
  const delta = row.querySelector("[data-role=delta]");
  if (delta) delta.className = `num delta delta--${tone(panel.delta_pct, meta.direction)}`;
  const link = row.querySelector("a");
  if (link) link.href = `/metrics/${panel.key}/${linkQuery()}`;
}

async function refreshSummary() {
  if (!summaryBox || !period.start) return;
  if (summaryAbort) summaryAbort.abort();
  summaryAbort = new AbortController();
  let answer;
  try {
    answer = await apiFetch(`/api/metrics/summary/?${summaryQuery(period, state.region)}`, {
      signal: summaryAbort.signal,
    });
  } catch {
    return; // superseded by a newer request
  }
  summaryBox.classList.remove("is-loading");
  if (!answer.ok || !answer.data) return;
  const scope = document.getElementById("period-region");
  if (scope) scope.textContent = state.region === ALL ? data.allRegions : state.region;
  for (const panel of answer.data.panels || []) renderSummaryRow(panel);
}

/** The period's figures follow the data: fetched again a moment after values change. */
function scheduleSummary(delay = 1500) {
  if (!summaryBox || !period.start) return;
  clearTimeout(summaryTimer);
  summaryTimer = setTimeout(refreshSummary, delay);
}

function renderPanel(panel, flash) {
  const card = document.getElementById(`panel-${panel.key}`);
  if (!card) return;
  const before = state.panels.get(panel.key);
  state.panels.set(panel.key, panel);
  const [number, unit] = formatValue(panel.value, panel.unit, data.units);
  card.className = `kpi kpi--${panel.status}`;
  card.dataset.status = panel.status;
  card.href = `/metrics/${panel.key}/${linkQuery()}`;
  const set = (role, text) => {
    const node = card.querySelector(`[data-role=${role}]`);
    if (node) node.textContent = text;
  };
  set("value", number);
  set("unit", unit);
  const status = card.querySelector("[data-role=status]");
  status.className = `status-pill status-pill--${panel.status}`;
  status.textContent = (data.statuses || {})[panel.status] || panel.status;
  const delta = card.querySelector("[data-role=delta]");
  const toneName = tone(panel.delta_pct, panel.direction);
  delta.className = `kpi__delta delta delta--${toneName}`;
  delta.querySelector(".kpi__arrow").textContent = arrow(panel.delta_pct);
  let deltaText = formatDelta(panel.delta_pct);
  if (panel.value === null) deltaText = t("noValue");
  else if (toneName === "none") deltaText = t("noBaseline");
  set("delta-text", deltaText);
  const [baseNumber, baseUnit] = formatValue(panel.baseline, panel.unit, data.units);
  set("baseline", panel.baseline === null ? "–" : `${baseNumber} ${baseUnit}`.trim());
  const template = (data.sparklines || {})[panel.key];
  if (template) drawSpark(panel.key, sparkFigure(template, panel, data.colors));
  if (flash && before && (before.value !== panel.value || before.status !== panel.status)) {
    card.classList.remove("is-updated");
    void card.offsetWidth; // restart the animation
    card.classList.add("is-updated");
  }
}

function renderSummary() {
  const counts = { ok: 0, warn: 0, critical: 0, no_data: 0 };
  for (const panel of state.panels.values()) counts[panel.status] = (counts[panel.status] || 0) + 1;
  for (const node of document.querySelectorAll("[data-count]")) {
    node.textContent = String(counts[node.dataset.count] || 0);
  }
  const moments = [...state.panels.values()]
    .map((p) => (p.computed_at ? new Date(p.computed_at).getTime() : NaN))
    .filter((n) => !Number.isNaN(n));
  if (moments.length) {
    const newest = new Date(Math.max(...moments));
    updatedAt.textContent = t("updatedAt", { time: formatTime(newest, data.timeZone) });
    updatedAt.dataset.computedAt = newest.toISOString();
  } else {
    updatedAt.textContent = t("notComputed");
  }
}

// ---- Alerts -------------------------------------------------------------------------------------

/** An acknowledge answered (200, or 409 with the alert as it stands): show who took it. */
function onAcknowledged(alert) {
  if (state.alerts.has(alert.id)) state.alerts.set(alert.id, alert);
  renderAlerts(new Set([`${alert.metric}|${alert.region}`]));
}

function renderAlerts(changedGroups = new Set()) {
  const all = alertGroups([...state.alerts.values()]);
  const shown = all.filter((g) => state.region === ALL || g.region === state.region);
  alertList.replaceChildren();
  for (const group of shown) {
    const meta = (data.names || {})[group.metric];
    if (!meta) continue;
    const li = alertItem(group, meta, data, t);
    li.dataset.group = `${group.metric}|${group.region}`;
    li.append(acknowledgeControl(group, data, t, onAcknowledged));
    const silence = silenceOf(group, state.silences);
    if (silence) {
      const until = formatTime(new Date(silence.until), data.timeZone).slice(0, 16);
      li.append(el("span", { cls: "alert-item__silenced", txt: t("silencedUntil", { until }), attrs: { title: silence.reason } }));
    }
    if (changedGroups.has(li.dataset.group)) li.classList.add("is-updated");
    alertList.append(li);
  }
  if (!shown.length) {
    alertList.append(
      el("li", { cls: "alert-list__empty", txt: state.region === ALL ? t("noAlerts") : t("noAlertsRegion") }),
    );
  }
  alertCount.textContent = String(shown.length);
  const others = all.length - shown.length;
  elsewhere.hidden = others <= 0;
  const more = elsewhere.querySelector("a");
  if (more) more.textContent = t("moreElsewhere", { n: others });
}

// ---- The view (region, date) --------------------------------------------------------------------

function renderScope() {
  const regionLabel = document.getElementById("scope-region");
  const dateLabel = document.getElementById("scope-date");
  const todayBadge = document.getElementById("scope-today");
  regionLabel.textContent = state.region === ALL ? data.allRegions : state.region;
  dateLabel.textContent = state.date;
  dateLabel.setAttribute("datetime", state.date);
  todayBadge.hidden = state.date !== data.today;
  regionPicker.value = state.region;
  datePicker.value = state.date;
}

function socketPath() {
  const params = new URLSearchParams({ region: state.region });
  if (state.explicitDate) params.set("date", state.date);
  return `/ws/metrics/?${params}`;
}

function changeView(region, date, explicitDate) {
  const presetMoves = period.period && period.period !== "custom" && date !== state.date;
  state.region = region;
  state.date = date;
  state.explicitDate = explicitDate;
  if (presetMoves) {
    // A preset's days end on the day shown ("last 30 days" of that date): the server
    // resolves them again, with the period's table.
    window.location.assign(`${window.location.pathname}${linkQuery() || "?home=1"}`);
    return;
  }
  // A bare "/" would open the person's pinned start page on reload: the dashboard says so.
  window.history.replaceState(null, "", `${window.location.pathname}${linkQuery() || "?home=1"}`);
  renderScope();
  renderAlerts();
  panelsBox.classList.add("is-loading");
  if (summaryBox && period.start) {
    summaryBox.classList.add("is-loading");
    scheduleSummary(0);
  }
  const message = { type: "view", region: state.region };
  if (state.explicitDate) message.date = state.date;
  // Not connected: the next connection's snapshot is checked against the view and corrected.
  live.send(message);
}

regionPicker.addEventListener("change", () => {
  changeView(regionPicker.value, state.date, state.explicitDate);
});
datePicker.addEventListener("change", () => {
  if (!datePicker.value) return;
  changeView(state.region, datePicker.value, datePicker.value !== data.today);
});
todayButton.addEventListener("click", () => {
  changeView(state.region, data.today, false);
});
const allRegionsLink = elsewhere && elsewhere.querySelector("a");
if (allRegionsLink) {
  allRegionsLink.addEventListener("click", (event) => {
    event.preventDefault();
    changeView(ALL, state.date, state.explicitDate);
  });
}

// ---- Live ---------------------------------------------------------------------------------------

function onSnapshot(msg) {
  if (msg.type === "error") return;
  const wantedDate = state.explicitDate ? state.date : msg.date;
  if (msg.region !== state.region || msg.date !== wantedDate) {
    // A reconnect opens the socket on the page's first view: ask for the current one.
    const message = { type: "view", region: state.region };
    if (state.explicitDate) message.date = state.date;
    live.send(message);
    return;
  }
  if (!state.explicitDate && msg.date !== state.date) {
    // Left open past midnight: "today" moved on.
    state.date = msg.date;
    data.today = msg.date;
    datePicker.max = msg.date;
    renderScope();
  }
  for (const panel of msg.panels || []) renderPanel(panel, false);
  state.alerts = new Map((msg.alerts || []).map((a) => [a.id, a]));
  renderAlerts();
  renderSummary();
  scheduleSummary(); // a reconnect may have missed changes
  panelsBox.classList.remove("is-loading");
}

function onEvent(msg) {
  if (msg.type === "panel.updated") {
    if (msg.region !== state.region || msg.date !== state.date) return;
    renderPanel(msg.panel, true);
    renderSummary();
    scheduleSummary();
  } else if (msg.type === "silence.changed") {
    state.silences = msg.silences || [];
    renderAlerts();
  } else if (msg.type === "alert.acknowledged" || msg.type === "alert.escalated") {
    const alert = msg.alert;
    if (state.alerts.has(alert.id)) {
      state.alerts.set(alert.id, alert);
      renderAlerts(new Set([`${alert.metric}|${alert.region}`]));
    }
  } else if (msg.type === "alert.raised" || msg.type === "alert.resolved") {
    const alert = msg.alert;
    if (msg.type === "alert.raised" && alert.status === "open") state.alerts.set(alert.id, alert);
    else state.alerts.delete(alert.id);
    renderAlerts(new Set([`${alert.metric}|${alert.region}`]));
  } else if (msg.type === "error") {
    panelsBox.classList.remove("is-loading");
  }
}

// ---- Start --------------------------------------------------------------------------------------

function start() {
  for (const [key, figure] of Object.entries(data.sparklines || {})) drawSpark(key, figure);
  renderSummary();
  wirePeriodPicker(document);
  // Changes to earlier days of the period send no event for the day shown: look again each
  // minute (a cached period costs the server a cache read).
  if (summaryBox && period.start) setInterval(() => scheduleSummary(0), 60_000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

const live = connectLive(socketPath(), { onSnapshot, onEvent });
