// One metric in depth (/metrics/<key>/): draws the history and region comparison figures (built
// in Python, metrics/charts.py, handed over in the #metric-data json_script) with the local
// plotly.js, submits the pickers on change, and keeps the headline value and the metric's open
// alerts live over /ws/metrics/ (through live.js).

import { el, readJson, translate } from "./common.js";
import { connectLive } from "./live.js";
import { newPlot } from "./plot_theme.js";
import { wirePeriodPicker } from "./period.js";
import {
  acknowledgeControl,
  alertGroups,
  alertItem,
  arrow,
  formatDelta,
  formatValue,
  tone,
} from "./metric_common.js";

const data = readJson("metric-data", {});
const t = (key, values) => translate(data.text || {}, key, values);
let alerts = new Map((data.alerts || []).map((a) => [a.id, a]));

function draw() {
  const Plotly = window.Plotly;
  const figures = data.figures || {};
  if (!Plotly) return;
  for (const [id, figure] of [
    ["chart-history", figures.history],
    ["chart-comparison", figures.comparison],
  ]) {
    const host = document.getElementById(id);
    if (host && figure) newPlot(host, figure.data, figure.layout, figure.config);
  }
}

// The pickers are a plain GET form: submitting on change is all it takes.
const form = document.getElementById("metric-controls");
for (const id of ["pick-region", "pick-date"]) {
  const input = document.getElementById(id);
  if (input && form) input.addEventListener("change", () => form.requestSubmit());
}
// The period: a preset or comparison applies at once, custom days once both are set.
wirePeriodPicker(document);

function renderCurrent(panel, flash) {
  const box = document.getElementById("metric-current");
  if (!box) return;
  const changed = data.panel && (data.panel.value !== panel.value || data.panel.status !== panel.status);
  data.panel = panel;
  const [number, unit] = formatValue(panel.value, panel.unit, data.units);
  box.querySelector("[data-role=value]").textContent = number;
  box.querySelector("[data-role=unit]").textContent = unit;
  box.className = `metric-stat metric-stat--main is-${panel.status}`;
  const status = box.querySelector("[data-role=status]");
  status.className = `status-pill status-pill--${panel.status}`;
  status.textContent = (data.statuses || {})[panel.status] || panel.status;
  const baseline = document.querySelector("[data-role=baseline]");
  const [baseNumber, baseUnit] = formatValue(panel.baseline, panel.unit, data.units);
  if (baseline) baseline.textContent = panel.baseline === null ? "–" : `${baseNumber} ${baseUnit}`.trim();
  const delta = document.querySelector("[data-role=delta]");
  if (delta) {
    delta.className = `metric-stat__value delta delta--${tone(panel.delta_pct, panel.direction)}`;
    delta.textContent = `${arrow(panel.delta_pct)} ${formatDelta(panel.delta_pct)}`.trim();
  }
  if (flash && changed) {
    box.classList.remove("is-updated");
    void box.offsetWidth;
    box.classList.add("is-updated");
  }
}

function renderAlerts() {
  const list = document.getElementById("alert-list");
  const count = document.getElementById("alerts-count");
  const groups = alertGroups([...alerts.values()].filter((a) => a.metric === data.key));
  const meta = (data.names || {})[data.key] || { name: data.key };
  list.replaceChildren();
  for (const group of groups) {
    const item = alertItem(group, meta, data, t);
    item.append(
      acknowledgeControl(group, data, t, (alert) => {
        if (alerts.has(alert.id)) alerts.set(alert.id, alert);
        renderAlerts();
      }),
    );
    list.append(item);
  }
  if (!groups.length) list.append(el("li", { cls: "alert-list__empty", txt: t("noAlertsMetric") }));
  if (count) count.textContent = String(groups.length);
}

function socketPath() {
  const params = new URLSearchParams({ region: data.region });
  if (data.explicitDate) params.set("date", data.date);
  return `/ws/metrics/?${params}`;
}

connectLive(socketPath(), {
  onSnapshot(msg) {
    if (msg.type === "error") return;
    const panel = (msg.panels || []).find((p) => p.key === data.key);
    if (panel && msg.region === data.region && msg.date === data.date) renderCurrent(panel, true);
    alerts = new Map((msg.alerts || []).map((a) => [a.id, a]));
    renderAlerts();
  },
  onEvent(msg) {
    if (msg.type === "panel.updated") {
      if (msg.panel.key === data.key && msg.region === data.region && msg.date === data.date) {
        renderCurrent(msg.panel, true);
      }
    } else if (msg.type === "alert.acknowledged" || msg.type === "alert.escalated") {
      if (alerts.has(msg.alert.id)) {
        alerts.set(msg.alert.id, msg.alert);
        renderAlerts();
      }
    } else if (msg.type === "alert.raised" || msg.type === "alert.resolved") {
      if (msg.alert.metric !== data.key) return;
      if (msg.type === "alert.raised" && msg.alert.status === "open") alerts.set(msg.alert.id, msg.alert);
      else alerts.delete(msg.alert.id);
      renderAlerts();
    }
  },
});

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
else draw();
