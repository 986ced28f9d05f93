// What the dashboard and the metric page share: number formats per unit, the tone of a change by
// the metric's direction, alert grouping and their list items, and the live update of a sparkline
// figure. The rules mirror metrics/charts.py (tested there).

import { apiFetch, el, formatDateTime } from "./common.js";

const DECIMALS = { "%": 2, CNY: 0, ms: 0, s: 2, h: 1, days: 1, "per 10k loans": 1 };
const FLAT_PCT = 0.05;
const LEVEL_RANK = { critical: 2, warn: 1 };
const ALL = "all";

const finite = (v) => typeof v === "number" && Number.isFinite(v);

function number(value, decimals) {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** [number, unit label]: ["3.42", "%"], ["¥1,234", ""]; ["–", ""] for no value. */
export function formatValue(value, unit, unitLabels = {}) {
  if (!finite(value)) return ["–", ""];
  const text = number(value, DECIMALS[unit] ?? 2);
  if (unit === "CNY") return [`${value < 0 ? "−" : ""}¥${text.replace("-", "")}`, ""];
  return [text.replace("-", "−"), unitLabels[unit] || unit];
}

export function formatDelta(delta) {
  if (!finite(delta)) return "–";
  if (Math.abs(delta) < FLAT_PCT) return "0.0 %";
  return `${delta > 0 ? "+" : "−"}${number(Math.abs(delta), 1)} %`;
}

/** "good" | "bad" | "flat" | "none": a rise is bad when lower is better, good otherwise. */
export function tone(delta, direction) {
  if (!finite(delta)) return "none";
  if (Math.abs(delta) < FLAT_PCT) return "flat";
  return delta > 0 === (direction === "lower_is_better") ? "bad" : "good";
}

export function arrow(delta) {
  if (!finite(delta)) return "";
  if (Math.abs(delta) < FLAT_PCT) return "▶";
  return delta > 0 ? "▲" : "▼";
}

/** [warn, critical] values on the adverse side of the baseline (null without a baseline). */
export function thresholdValues(baseline, warnPct, criticalPct, direction) {
  if (!finite(baseline) || baseline === 0) return [null, null];
  const sign = direction === "lower_is_better" ? 1 : -1;
  const scale = Math.abs(baseline) / 100;
  return [baseline + sign * warnPct * scale, baseline + sign * criticalPct * scale];
}

/** [warn, critical] of a panel in its threshold mode (metrics.charts.panel_levels). */
export function panelLevels(panel) {
  if (panel.threshold_mode === "absolute") return [panel.warn_at, panel.critical_at];
  return thresholdValues(panel.baseline, panel.warn_pct, panel.critical_pct, panel.direction);
}

/** "YYYY-MM-DD HH:MM:SS" in the business time zone. */
export function formatTime(moment, timeZone) {
  return formatDateTime(moment, timeZone, { seconds: true }) ?? moment.toISOString();
}

/** Open alerts grouped by (metric, region), as metrics.charts.alert_groups does. */
export function alertGroups(alerts) {
  const groups = new Map();
  for (const alert of alerts) {
    if ((alert.status || "open") !== "open") continue;
    const key = `${alert.metric}|${alert.region}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        metric: alert.metric,
        region: alert.region,
        since: alert.day,
        latest: alert.day,
        level: alert.level,
        delta_pct: alert.delta_pct,
        value: alert.value,
        count: 0,
        latestId: alert.id,
        acknowledgedBy: alert.acknowledged_by || null,
      };
      groups.set(key, group);
    }
    group.count += 1;
    if (alert.day < group.since) group.since = alert.day;
    const newer = alert.day > group.latest;
    const worse =
      alert.day === group.latest && (LEVEL_RANK[alert.level] || 0) > (LEVEL_RANK[group.level] || 0);
    if (newer || worse) {
      group.latest = alert.day;
      group.level = alert.level;
      group.delta_pct = alert.delta_pct;
      group.value = alert.value;
      group.latestId = alert.id;
      group.acknowledgedBy = alert.acknowledged_by || null;
    }
  }
  return [...groups.values()].sort(
    (a, b) =>
      (LEVEL_RANK[b.level] || 0) - (LEVEL_RANK[a.level] || 0) ||
      Math.abs(b.delta_pct || 0) - Math.abs(a.delta_pct || 0) ||
      a.metric.localeCompare(b.metric) ||
      a.region.localeCompare(b.region),
  );
}

/**
 * One open alert group as a list item linking to its metric's page, the same markup as the
 * server's (templates/partials/alert_item.html, less data-group: the caller adds what it needs).
 * `meta` is the metric's {name, direction}; `data` the page's json_script data; `t` its translator.
 */
export function alertItem(group, meta, data, t) {
  const sep = () => el("span", { cls: "alert-item__sep", txt: "·" });
  const query = new URLSearchParams({ date: group.latest });
  if (group.region !== ALL) query.set("region", group.region);
  const level = (data.levels || {})[group.level] || group.level;
  const link = el("a", { attrs: { href: `/metrics/${group.metric}/?${query}` } }, [
    el("span", { cls: "alert-item__title" }, [
      el("span", { cls: "alert-item__name", txt: meta.name }),
      " ",
      sep(),
      " ",
      el("span", { cls: "alert-item__region", txt: group.region === ALL ? data.allRegions : group.region }),
    ]),
    el("span", { cls: "alert-item__meta" }, [
      el("span", { cls: `level-pill level-pill--${group.level}`, txt: level }),
      sep(),
      el("span", { txt: t("since", { date: group.since }) }),
      sep(),
      el("span", { cls: `delta delta--${tone(group.delta_pct, meta.direction)}`, txt: formatDelta(group.delta_pct) }),
    ]),
  ]);
  return el("li", { cls: `alert-item alert-item--${group.level}` }, [link]);
}

function paddedRange(values) {
  const nums = values.filter(finite);
  if (!nums.length) return undefined;
  const lo = Math.min(...nums);
  const hi = Math.max(...nums);
  const pad = (hi - lo) * 0.12 || Math.abs(hi) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

/** The silence over an alert group (same metric; its region or all), or null. */
export function silenceOf(group, silences, now = new Date()) {
  return (
    (silences || []).find(
      (s) =>
        s.metric === group.metric &&
        (s.region === "all" || s.region === group.region) &&
        new Date(s.until) > now,
    ) || null
  );
}

/**
 * Who took a group's latest alert, or a button to take it (department heads and managers:
 * `data.canAcknowledge`). `onAnswer(alert)` gets the alert as it stands after a press (also when
 * someone was quicker: the 409 carries it).
 */
export function acknowledgeControl(group, data, t, onAnswer) {
  if (group.acknowledgedBy) {
    return el("span", { cls: "alert-item__ack", txt: t("acknowledgedBy", { who: group.acknowledgedBy }) });
  }
  if (!data.canAcknowledge) return el("span", { cls: "alert-item__ack alert-item__ack--none", txt: t("notAcknowledged") });
  const button = el("button", {
    cls: "button button--secondary button--small alert-item__ack-button",
    txt: t("acknowledge"),
    attrs: { type: "button", "data-acknowledge": String(group.latestId) },
  });
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { status, data: answer } = await apiFetch(`/api/alerts/${group.latestId}/acknowledge/`, {
      method: "POST",
      body: {},
    });
    const alert = status === 200 ? answer : status === 409 && answer ? answer.current : null;
    if (alert && alert.id) onAnswer(alert);
    else {
      button.disabled = false;
      button.title = (answer && answer.detail) || t("acknowledgeFailed");
    }
  });
  return button;
}

/** The server's sparkline figure (metrics.charts.sparkline_figure) with a panel's new data;
 * `colors`: by status, and the baseline's (the palette of carloan/charts.py). */
export function sparkFigure(template, panel, colors) {
  const figure = JSON.parse(JSON.stringify(template));
  const x = panel.series.map((p) => p.date);
  const y = panel.series.map((p) => p.value);
  const color = colors[panel.status] || colors.ok;
  figure.data[0].x = x;
  figure.data[0].y = y;
  figure.data[0].line.color = color;
  let last = -1;
  for (let i = y.length - 1; i >= 0; i -= 1) {
    if (finite(y[i])) {
      last = i;
      break;
    }
  }
  figure.data[1].x = last >= 0 ? [x[last]] : [];
  figure.data[1].y = last >= 0 ? [y[last]] : [];
  figure.data[1].marker.color = color;
  const [warn] = panelLevels(panel);
  const line = (value, lineColor, dash) => ({
    type: "line",
    xref: "paper",
    x0: 0,
    x1: 1,
    yref: "y",
    y0: value,
    y1: value,
    line: { color: lineColor, width: 1, dash },
    layer: "below",
  });
  figure.layout.shapes = [];
  const scale = [...y];
  if (finite(panel.baseline)) {
    scale.push(panel.baseline);
    figure.layout.shapes.push(line(panel.baseline, colors.baseline, "dash"));
  }
  if (finite(warn)) figure.layout.shapes.push(line(warn, colors.warn, "dot"));
  figure.layout.yaxis.range = paddedRange(scale);
  return figure;
}
