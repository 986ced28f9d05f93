// Drawing the shared board (/kanban/) from its state: the grid of lanes × columns with their WIP
// counts, the headline numbers, each card, and the sparklines of alert cards. Cells render at
// most a page of cards (Done: the latest few) with "show more", so a board of 2,000 cards keeps
// a small DOM; a repaint touches only the cells it is given and re-uses card elements.

import { el } from "../common.js";
import { newPlot } from "../plot_theme.js";
import {
  applyAnswer,
  ageOf,
  cellCount,
  cellKey,
  columnCount,
  filtering,
  PAGE,
  removeCard,
  summarize,
  visibleCards,
  wipState,
} from "./state.js";
import {
  api,
  CAN_EDIT,
  columnName,
  config,
  departmentName,
  formatDay,
  laneName,
  metricName,
  number1,
  S,
  t,
  text,
  typeName,
} from "./page.js";

export const boardEl = document.getElementById("kb-board");

// The elements on the page (the state holds none of them).
export const view = {
  nodes: new Map(), // id → rendered card element (made when first shown)
  cells: new Map(), // "lane:column" → {cell, list, count, more}
  columnHeads: new Map(),
  laneHeads: new Map(),
};

// ---- icons --------------------------------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  calendar: "M3 5h14v12H3zM3 8h14M7 3v4M13 3v4",
  check: "M4 10l4 4 8-8",
  comment: "M3 4h14v9H8l-4 3v-3H3z",
  handoff: "M3 7h11l-3-3M17 13H6l3 3",
  grip: "M7 4h.01M13 4h.01M7 10h.01M13 10h.01M7 16h.01M13 16h.01",
  alert: "M10 3l8 14H2zM10 8v4M10 14.5v.01",
  link: "M8 12l4-4M6 10l-2 2a3 3 0 004 4l2-2M14 10l2-2a3 3 0 00-4-4l-2 2",
  plus: "M10 4v12M4 10h12",
};

function icon(name, cls = "kb-icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

// ---- WIP limits ---------------------------------------------------------------------------------

function wipTitle(column, count) {
  const state = wipState(column, count);
  if (state === "full") return t("wipHardFull", { limit: column.wip_limit });
  if (state === "over") return t("wipSoftOver", { limit: column.wip_limit });
  if (state === "none") return t("wipNone");
  return column.wip_scope === "board"
    ? t("wipBoard", { limit: column.wip_limit })
    : t("wipPerLane", { limit: column.wip_limit });
}

// ---- the board ----------------------------------------------------------------------------------

function buildGrid() {
  boardEl.textContent = "";
  view.cells.clear();
  view.columnHeads.clear();
  view.laneHeads.clear();
  boardEl.style.gridTemplateColumns = `minmax(7.5rem, 9rem) repeat(${S.columns.length}, minmax(15.5rem, 1fr))`;
  const fragment = document.createDocumentFragment();
  fragment.append(el("div", { cls: "kb-corner" }));
  for (const column of S.columns) {
    const count = el("span", { cls: "kb-wip" });
    const head = el("div", { cls: `kb-colhead${column.is_done ? " kb-colhead--done" : ""}`, attrs: { "data-column": column.id } }, [
      el("span", { cls: "kb-colhead__name", txt: columnName(column) }),
      count,
    ]);
    if (column.wip_limit !== null && column.wip_limit !== undefined) {
      head.append(
        el("span", {
          cls: `kb-colhead__limit${column.wip_policy === "hard" ? " is-hard" : ""}`,
          txt: `${column.wip_scope === "board" ? "≤" : "≤"} ${column.wip_limit}${column.wip_scope === "board" ? "" : " / " + t("lane").toLowerCase()} · ${t(column.wip_policy)}`,
        }),
      );
    }
    view.columnHeads.set(column.id, { head, count });
    fragment.append(head);
  }
  for (const lane of S.lanes) {
    const stats = el("span", { cls: "kb-lanehead__stats" });
    const laneHead = el("div", { cls: `kb-lanehead kb-lanehead--${lane.department}`, attrs: { "data-lane": lane.id } }, [
      el("span", { cls: "kb-lanehead__name", txt: laneName(lane) }),
      stats,
    ]);
    view.laneHeads.set(lane.id, { head: laneHead, stats });
    fragment.append(laneHead);
    for (const column of S.columns) {
      const key = cellKey(lane.id, column.id);
      const list = el("div", {
        cls: "kb-cell__cards",
        attrs: { role: "list", "aria-label": `${laneName(lane)} · ${columnName(column)}` },
      });
      const count = el("span", { cls: "kb-cell__count" });
      const headBits = [count];
      if (CAN_EDIT && column.position === S.columns[0].position) {
        headBits.unshift(
          el("button", {
            cls: "kb-cell__add",
            attrs: { type: "button", "data-new-lane": lane.id, "data-new-column": column.id, title: t("addCard"), "aria-label": `${laneName(lane)}: +` },
          }, [icon("plus")]),
        );
      }
      const more = el("button", { cls: "kb-cell__more", attrs: { type: "button", "data-more": key, hidden: "" } });
      const cell = el("div", {
        cls: `kb-cell kb-cell--${lane.department}${column.is_done ? " kb-cell--done" : ""}`,
        attrs: { "data-lane": lane.id, "data-column": column.id, "data-cell": key },
      }, [el("div", { cls: "kb-cell__head" }, headBits), list, more]);
      view.cells.set(key, { cell, list, count, more });
      fragment.append(cell);
    }
  }
  boardEl.append(fragment);
}

/** Draw the board after a snapshot (state.applySnapshot): the grid again when its shape
 * changed, else only the cards. */
export function paintSnapshot(reshape) {
  view.nodes.clear();
  if (reshape || !view.cells.size) buildGrid();
  else for (const parts of view.cells.values()) parts.list.textContent = "";
  paintAll();
  boardEl.setAttribute("aria-busy", "false");
}

/** Show the cell's cards (those matching the filters, up to its limit) in order; re-using
 * elements, moving only those out of place. */
export function paintCell(key) {
  const parts = view.cells.get(key);
  if (!parts) return;
  const { ids, want, hidden } = visibleCards(S, key);
  const list = parts.list;
  let child = list.firstElementChild;
  for (const id of want) {
    const old = view.nodes.get(id);
    const node = nodeFor(id);
    if (old && old === child && node !== old) child = node; // rebuilt in place
    if (child === node) {
      child = child.nextElementSibling;
      continue;
    }
    list.insertBefore(node, child);
  }
  while (child) {
    const next = child.nextElementSibling;
    if (!child.classList.contains("kb-placeholder")) child.remove();
    child = next;
  }
  if (!want.length) {
    list.dataset.empty = filtering(S.filters) && ids.length ? t("noMatch") : t("emptyCell");
  } else {
    delete list.dataset.empty;
  }
  parts.more.hidden = hidden <= 0 && !S.limits.has(key);
  parts.more.textContent = hidden > 0 ? t("showMore", { n: Math.min(hidden, PAGE) }) : t("showLess");
  paintCellCount(key);
}

function paintCellCount(key) {
  const parts = view.cells.get(key);
  const column = S.columnById.get(Number(key.split(":")[1]));
  const count = cellCount(S, key);
  const perLane = column.wip_scope !== "board" && column.wip_limit !== null;
  const state = perLane ? wipState(column, count) : "none";
  parts.count.textContent = perLane ? t("wipOf", { count, limit: column.wip_limit }) : String(count);
  parts.count.title = perLane ? wipTitle(column, count) : "";
  parts.count.dataset.state = state;
  parts.cell.dataset.wip = state;
}

function paintHeads() {
  for (const column of S.columns) {
    const parts = view.columnHeads.get(column.id);
    if (!parts) continue;
    const count = columnCount(S, column.id);
    const boardScope = column.wip_scope === "board" && column.wip_limit !== null;
    const state = boardScope ? wipState(column, count) : "none";
    parts.count.textContent = boardScope ? t("wipOf", { count, limit: column.wip_limit }) : String(count);
    parts.count.dataset.state = state;
    parts.count.title = wipTitle(column, count);
    parts.head.dataset.wip = state;
    if (boardScope) {
      for (const lane of S.lanes) view.cells.get(cellKey(lane.id, column.id)).cell.dataset.wip = state;
    }
  }
  paintSummary();
}

export function paintAll() {
  for (const key of view.cells.keys()) paintCell(key);
  paintHeads();
}

/** Repaint the cells touched (and the heads and headline numbers, which count them all). */
export function repaint(keys) {
  for (const key of new Set(keys)) paintCell(key);
  paintHeads();
}

/** Headline numbers; overdue and alerts double as filter toggles (wired in main.js). */
function paintSummary() {
  const box = document.getElementById("kb-summary");
  if (!box) return;
  const { total, shown, overdue, ageing, alerts, elsewhere, perLane } = summarize(S);
  box.textContent = "";
  const chip = (label, value, { cls = "", filter } = {}) => {
    const node = el(filter ? "button" : "span", {
      cls: `kb-stat${cls ? ` ${cls}` : ""}`,
      attrs: filter ? { type: "button", "data-toggle-filter": filter, "aria-pressed": filter && S.filters[filter.split("=")[0]] ? "true" : "false" } : {},
    }, [el("strong", { txt: value }), el("span", { txt: label })]);
    box.append(node);
  };
  chip(filtering(S.filters) ? t("showing", { shown, total }) : t("total", { total }), "", { cls: "kb-stat--plain" });
  chip(text.statOverdue || "overdue", overdue, { cls: overdue ? "kb-stat--bad" : "", filter: "overdue=1" });
  chip(text.statAgeing || "ageing", ageing, { cls: ageing ? "kb-stat--warn" : "" });
  chip(text.statAlerts || "alerts", alerts, { cls: alerts ? "kb-stat--bad" : "", filter: "type=alert" });
  chip(text.statElsewhere || "in another department's lane", elsewhere);
  for (const lane of S.lanes) {
    const parts = view.laneHeads.get(lane.id);
    const stats = perLane.get(lane.id) || { open: 0, overdue: 0 };
    if (parts) {
      parts.stats.textContent = "";
      parts.stats.append(el("span", { txt: `${stats.open} ${text.open || "open"}` }));
      if (stats.overdue) {
        parts.stats.append(el("span", { cls: "is-bad", txt: `${stats.overdue} ${text.statOverdue || "overdue"}` }));
      }
    }
  }
}

// ---- cards in and out ---------------------------------------------------------------------------

/** Take a card's element off the page (the state no longer has the card). */
export function forgetNode(id) {
  const node = view.nodes.get(id);
  if (node) node.remove();
  view.nodes.delete(id);
}

/** Take a card off the board (state and page). Returns the cells touched. */
export function dropCard(id) {
  const keys = removeCard(S, id);
  forgetNode(id);
  return keys;
}

/** An HTTP answer with a card: shown when newer than what the board shows (or `force`d). */
export function showAnswer(card, { force = false } = {}) {
  const keys = applyAnswer(S, card, { force });
  if (!keys) return false;
  repaint(keys);
  return true;
}

export function flash(id) {
  const node = view.nodes.get(id);
  if (!node || !node.isConnected) return;
  node.classList.remove("is-flash");
  void node.offsetWidth; // restart the animation
  node.classList.add("is-flash");
}

// ---- one card -----------------------------------------------------------------------------------

function nodeFor(id) {
  let node = view.nodes.get(id);
  if (!node || S.stale.has(id)) {
    const fresh = renderCard(S.cards.get(id));
    if (node && node.isConnected) {
      const focused = document.activeElement === node;
      node.replaceWith(fresh);
      if (focused) fresh.focus({ preventScroll: true });
    }
    node = fresh;
    view.nodes.set(id, node);
    S.stale.delete(id);
  }
  return node;
}

function initials(name) {
  return (name || "?").slice(0, 2).toUpperCase();
}

/** A card's age against its column's median: the bar's width and level, and its title. */
export function ageing(card) {
  const { days, median, width, level } = ageOf(card);
  const title = median
    ? t("ageing", { days: number1.format(days), median: t("days", { n: number1.format(median) }) })
    : t("ageNoMedian", { days: number1.format(days) });
  return { width, level, title };
}

function renderCard(card) {
  const lane = S.laneById.get(card.lane);
  const column = S.columnById.get(card.column);
  const done = column && column.is_done;
  const age = ageing(card);
  const classes = ["kb-card", `kb-card--${card.type}`];
  if (card.overdue) classes.push("is-overdue");
  if (!done && card.ageing) classes.push("is-ageing");
  if (lane && lane.department !== card.department) classes.push("is-visiting");
  if (S.pending.has(card.id)) classes.push("is-saving");
  const ids = S.order.get(S.where.get(card.id)) || [];
  const node = el("article", {
    cls: classes.join(" "),
    attrs: {
      "data-id": card.id,
      tabindex: "0",
      role: "listitem",
      "aria-roledescription": "card",
      draggable: CAN_EDIT ? "true" : null,
      "aria-label": t("cardLabel", {
        type: typeName(card.type),
        id: card.id,
        title: card.title,
        department: departmentName(card.department),
        column: columnName(column),
        position: ids.indexOf(card.id) + 1,
        count: ids.length,
      }),
    },
  });
  const top = el("div", { cls: "kb-card__top" }, [
    el("span", { cls: `kb-type kb-type--${card.type}`, txt: typeName(card.type) }),
    el("span", { cls: "kb-card__id", txt: `#${card.id}` }),
    card.pillar
      ? el("span", {
          cls: `kb-pillar kb-pillar--${card.pillar}`,
          txt: (config.pillarShort || {})[card.pillar] || card.pillar,
          attrs: { title: `${text.pillarLabel || "Strategy pillar"}: ${(config.pillars || {})[card.pillar] || card.pillar}` },
        })
      : null,
    el("span", {
      cls: `kb-dept kb-dept--${card.department}`,
      txt: departmentName(card.department),
      attrs: { title: t("owner", { department: departmentName(card.department) }) },
    }),
  ]);
  if (CAN_EDIT) top.prepend(el("span", { cls: "kb-card__grip" }, [icon("grip")]));
  node.append(top, el("h3", { cls: "kb-card__title", txt: card.title }));
  if (card.type === "alert" && card.metric) {
    const region = card.region || "all";
    node.append(
      el("div", { cls: "kb-card__alert" }, [
        el("span", { cls: "kb-card__metric", txt: `${metricName(card.metric)} · ${card.region || t("allRegions")}` }),
        el("div", {
          cls: "kb-spark",
          attrs: { "data-metric": card.metric, "data-region": region, role: "img", "aria-label": t("sparkline", { metric: metricName(card.metric) }) },
        }),
      ]),
    );
  }
  if (card.labels.length) {
    node.append(el("ul", { cls: "kb-labels" }, card.labels.map((label) => el("li", { cls: "kb-label", txt: label }))));
  }
  const meta = el("div", { cls: "kb-card__meta" });
  if (card.due_date) {
    meta.append(
      el("span", {
        cls: `kb-due${card.overdue ? " is-overdue" : ""}`,
        attrs: { title: card.overdue ? t("overdue", { date: formatDay(card.due_date) }) : t("due", { date: formatDay(card.due_date) }) },
      }, [icon("calendar"), formatDay(card.due_date)]),
    );
  }
  if (card.checklist.length) {
    const doneItems = card.checklist.filter((item) => item.done).length;
    meta.append(
      el("span", {
        cls: `kb-meta${doneItems === card.checklist.length ? " is-complete" : ""}`,
        attrs: { title: t("checklist", { done: doneItems, total: card.checklist.length }) },
      }, [icon("check"), `${doneItems}/${card.checklist.length}`]),
    );
  }
  if (card.comment_count) {
    meta.append(el("span", { cls: "kb-meta", attrs: { title: t("comments", { n: card.comment_count }) } }, [icon("comment"), String(card.comment_count)]));
  }
  if (card.handoff_count) {
    meta.append(el("span", { cls: "kb-meta kb-meta--handoff", attrs: { title: t("handoffs", { n: card.handoff_count }) } }, [icon("handoff"), String(card.handoff_count)]));
  }
  if (card.links.length) {
    meta.append(el("span", { cls: "kb-meta", attrs: { title: t("links") } }, [icon("link"), String(card.links.length)]));
  }
  const people = el("span", { cls: "kb-avatars" });
  for (const person of card.assignees.slice(0, 3)) {
    people.append(el("span", { cls: "kb-avatar", txt: initials(person.username), attrs: { title: person.username } }));
  }
  if (card.assignees.length > 3) people.append(el("span", { cls: "kb-avatar kb-avatar--more", txt: `+${card.assignees.length - 3}` }));
  meta.append(people);
  node.append(meta);
  if (!done) {
    const bar = el("span", { cls: "kb-age__bar" });
    bar.style.width = `${age.width}%`;
    node.append(el("div", { cls: `kb-age kb-age--${age.level}`, attrs: { title: age.title } }, [
      el("span", { cls: "kb-age__track" }, [bar]),
      el("span", { cls: "kb-age__text", txt: t("days", { n: number1.format(card.age_days || 0) }) }),
    ]));
  }
  const spark = node.querySelector(".kb-spark");
  if (spark) sparkObserver.observe(spark);
  return node;
}

// ---- sparklines of alert cards ------------------------------------------------------------------

const seriesCache = new Map();

function isoDaysBefore(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d - days));
  return date.toISOString().slice(0, 10);
}

function series(metric, region) {
  const key = `${metric}|${region}`;
  if (!seriesCache.has(key)) {
    const end = config.today;
    const start = isoDaysBefore(end, 29);
    const query = new URLSearchParams({ metric, region, start, end });
    seriesCache.set(
      key,
      api("GET", `/api/metrics/values/?${query}`).then(({ status, data }) =>
        status === 200 && Array.isArray(data) ? data : [],
      ),
    );
  }
  return seriesCache.get(key);
}

let plotlyLoading = null;

/** plotly.js (served by this server) is loaded the first time a sparkline is drawn: the board
 * itself does not wait for it. */
function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = config.plotlyUrl;
      script.addEventListener("load", () => resolve(window.Plotly || null));
      script.addEventListener("error", () => resolve(null));
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

/** Draw a metric's last 30 days into `target` (its data-metric, data-region): small and bare on
 * a card, with axes in the drawer. */
export async function drawSpark(target, { height = 30, axes = false } = {}) {
  const [points] = await Promise.all([series(target.dataset.metric, target.dataset.region), plotly()]);
  if (!target.isConnected) return;
  const values = points.filter((p) => p.value !== null);
  if (!values.length || !window.Plotly) {
    target.dataset.empty = t("noData");
    return;
  }
  const trace = {
    type: "scatter",
    mode: "lines",
    x: points.map((p) => p.date),
    y: points.map((p) => p.value),
    line: { color: "#b42318", width: 1.5, shape: "spline", smoothing: 0.6 },
    fill: "tozeroy",
    fillcolor: "rgba(180, 35, 24, 0.08)",
    hovertemplate: "%{x}: %{y:.3~g}<extra></extra>",
    connectgaps: true,
  };
  const last = values[values.length - 1];
  const marker = { type: "scatter", mode: "markers", x: [last.date], y: [last.value], marker: { color: "#b42318", size: 5 }, hoverinfo: "skip" };
  const layout = {
    height,
    margin: axes ? { l: 40, r: 8, t: 8, b: 28 } : { l: 0, r: 0, t: 2, b: 2 },
    showlegend: false,
    xaxis: { visible: axes, fixedrange: true, tickformat: "%m-%d" },
    yaxis: { visible: axes, fixedrange: true },
    font: { size: 11 },
  }; // backgrounds, grid and text colours: the mode's template (plot_theme.js)
  newPlot(target, [trace, marker], layout, { staticPlot: !axes, displayModeBar: false, responsive: true });
  target.dataset.drawn = "1";
}

// A card's sparkline is drawn when it first comes near the viewport, not for every card at once.
const sparkObserver = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      sparkObserver.unobserve(entry.target);
      drawSpark(entry.target);
    }
  },
  { rootMargin: "200px" },
);
