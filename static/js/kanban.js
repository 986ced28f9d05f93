// The shared board (/kanban/): lanes × columns, live for everyone, moved and edited by
// department heads and managers.
//
// - The board is built ONCE from the socket's `board.snapshot` (/ws/kanban/<id>/, through the
//   one socket module live.js, which checks `seq` and asks for a resync on a gap); each event
//   (`card.created|updated|moved|deleted`, carrying the whole card) then changes only the cell
//   or cells it touches. Cells render at most a page of cards (Done: the latest few) with
//   "show more", so a board of 2,000 cards keeps a small DOM.
// - Moves are optimistic: the card moves at once, then POST /api/kanban/cards/<id>/move/
//   {lane, column, position, version} → 200 (warnings, handoff) | 400 (hard WIP limit: the card
//   goes back and the server's reason is shown) | 409 (someone moved it first: the card is
//   shown as it is now, and who changed it).
// - Changes by others never clobber what the viewer is doing: while a card is being dragged
//   (mouse or keyboard) events wait and apply on drop; an open card keeps the fields being
//   edited and says who changed what; saving sends only the edited fields with the version
//   each was seen at (field-level locking on the server merges the rest).
// - Filters (department, assignee, label, type, overdue, search) live in the URL.

import { apiFetch, button, el, readJson, translator } from "./common.js";
import { connectLive } from "./live.js";

const config = readJson("kanban-config", {});
const text = readJson("kanban-i18n", {});
const t = translator(text);
const root = document.getElementById("kb-page");
const CAN_EDIT = Boolean(config.canEdit);
const ME = config.username || "";
const LOCALE = config.locale || "en-GB";
const PAGE = 60; // cards a cell shows before "show more"
const DONE_SHOWN = config.doneShown || 8;
const EDITABLE = ["title", "description", "type", "pillar", "department", "assignees", "due_date", "labels"];
const MAX_TOASTS = 4;
const SNAPSHOT_GRACE_MS = 5000;

const S = {
  board: null,
  lanes: [],
  columns: [],
  laneById: new Map(),
  columnById: new Map(),
  cards: new Map(), // id → card (as the API shows it)
  order: new Map(), // "lane:column" → [card ids] in position order
  where: new Map(), // id → "lane:column"
  nodes: new Map(), // id → rendered element (made when first shown)
  stale: new Set(), // ids whose element must be rebuilt
  cells: new Map(), // "lane:column" → {cell, list, count, more}
  columnHeads: new Map(),
  laneHeads: new Map(),
  limits: new Map(), // "lane:column" → cards shown
  pending: new Map(), // id → {touched} while a move is on its way
  lastBy: new Map(), // id → who made the last change we heard of
  busy: null, // {kind: "drag" | "keys", id, version, from, to}
  queue: [], // events that arrived while busy
  snapshotSeen: false,
  drawer: null, // {id, seen: {field: version}, dirty: Set}
  filters: {},
};

// ---- small helpers ------------------------------------------------------------------------------

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

const cellKey = (lane, column) => `${lane}:${column}`;
const departmentName = (key) => (config.departments && config.departments[key]) || key;
const typeName = (key) => (config.types && config.types[key]) || key;
const columnName = (column) =>
  column ? (config.columns && config.columns[column.name]) || column.name : "";
const laneName = (lane) => (lane ? departmentName(lane.department) : "");
const metricName = (key) => (config.metrics && config.metrics[key]) || key;
const number1 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(LOCALE, { month: "short", day: "numeric" });
const timeFormat = new Intl.DateTimeFormat(LOCALE, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

function formatDay(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return dayFormat.format(new Date(y, m - 1, d));
}

function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/** Call the API: {status, data}; status 0 when the server could not be reached. */
function api(method, path, body) {
  return apiFetch(path, { method, body: method === "GET" ? undefined : body, csrfScope: root });
}

/** Acknowledge the card's alert (the same as on the dashboard): who took it shows in place. */
function acknowledgeButton(alertId) {
  const note = el("span", { cls: "kb-ack__note", attrs: { "aria-live": "polite" } });
  const button = el("button", {
    cls: "button button--secondary button--small",
    txt: t("acknowledgeAlert"),
    attrs: { type: "button", "data-acknowledge": String(alertId) },
  });
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { status, data } = await api("POST", `/api/alerts/${alertId}/acknowledge/`, {});
    const alert = status === 200 ? data : status === 409 && data ? data.current : null;
    if (alert && alert.acknowledged_by) {
      button.hidden = true;
      note.textContent = t("alertTakenBy", { who: alert.acknowledged_by });
    } else {
      button.disabled = false;
      note.textContent = failure(status, data);
    }
  });
  return el("p", { cls: "kb-ack" }, [button, " ", note]);
}

/** The first message of an error answer: field errors, detail, or the status. */
function failure(status, data) {
  if (status === 0) return t("network");
  if (status === 401) return t("signedOut");
  if (status === 403) return (data && data.detail) || t("forbidden");
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return data.detail;
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
      if (typeof value === "string") return value;
    }
  }
  return t("unexpected", { status });
}

// ---- toasts and announcements -------------------------------------------------------------------

const toasts = document.getElementById("kb-toasts");
let overflowToast = null;
let overflowCount = 0;

function toast(message, kind = "info", { ms = 6000 } = {}) {
  if (!toasts) return;
  if (toasts.children.length >= MAX_TOASTS && kind === "live") {
    overflowCount += 1;
    if (!overflowToast || !overflowToast.isConnected) {
      overflowToast = el("div", { cls: "kb-toast kb-toast--live" });
      toasts.append(overflowToast);
      setTimeout(() => {
        overflowToast.remove();
        overflowCount = 0;
      }, ms);
    }
    overflowToast.textContent = `+${overflowCount}`;
    return;
  }
  const node = el("div", { cls: `kb-toast kb-toast--${kind}`, txt: message });
  const close = el("button", { cls: "kb-toast__close", txt: "×", attrs: { type: "button", "aria-label": t("close") } });
  close.addEventListener("click", () => node.remove());
  node.append(close);
  toasts.append(node);
  setTimeout(() => node.remove(), kind === "error" ? ms * 2 : ms);
}

const announcer = document.getElementById("kb-announce");
function announce(message) {
  if (!announcer) return;
  announcer.textContent = "";
  // A fresh text node each time, so screen readers repeat identical messages.
  requestAnimationFrame(() => {
    announcer.textContent = message;
  });
}

// ---- filters (kept in the URL) ------------------------------------------------------------------

const filterForm = document.getElementById("kb-filters");
const FILTER_NAMES = ["department", "assignee", "label", "type", "overdue", "q"];

function readFilters() {
  const filters = {};
  if (!filterForm) return filters;
  for (const name of FILTER_NAMES) {
    const field = filterForm.elements.namedItem(name);
    if (!field) continue;
    filters[name] = field.type === "checkbox" ? (field.checked ? "1" : "") : field.value.trim();
  }
  return filters;
}

function filtersToUrl() {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTER_NAMES) {
    if (S.filters[name]) params.set(name, S.filters[name]);
    else params.delete(name);
  }
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
  const clear = document.getElementById("kb-clear");
  if (clear) clear.hidden = !FILTER_NAMES.some((name) => S.filters[name]);
}

function filtering() {
  return FILTER_NAMES.some((name) => S.filters[name]);
}

function matches(card) {
  const f = S.filters;
  if (f.department && card.department !== f.department) return false;
  if (f.type && card.type !== f.type) return false;
  if (f.overdue && !card.overdue) return false;
  if (f.label && !card.labels.includes(f.label)) return false;
  if (f.assignee) {
    if (f.assignee === "-") {
      if (card.assignees.length) return false;
    } else if (!card.assignees.some((a) => a.username === f.assignee)) return false;
  }
  if (f.q) {
    const q = f.q.toLowerCase();
    const byId = q.startsWith("#") ? q.slice(1) : q;
    if (!card.title.toLowerCase().includes(q) && String(card.id) !== byId) return false;
  }
  return true;
}

function onFiltersChanged() {
  S.filters = readFilters();
  filtersToUrl();
  paintAll();
}

if (filterForm) {
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    onFiltersChanged();
  });
  filterForm.addEventListener("change", onFiltersChanged);
  let searchTimer = null;
  const search = filterForm.elements.namedItem("q");
  if (search) {
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(onFiltersChanged, 200);
    });
  }
  const clear = document.getElementById("kb-clear");
  if (clear) {
    clear.addEventListener("click", (event) => {
      event.preventDefault();
      for (const name of FILTER_NAMES) {
        const field = filterForm.elements.namedItem(name);
        if (!field) continue;
        if (field.type === "checkbox") field.checked = false;
        else field.value = "";
      }
      onFiltersChanged();
    });
  }
}

for (const select of document.querySelectorAll("[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}

// ---- WIP limits ---------------------------------------------------------------------------------

function cellCount(key) {
  return (S.order.get(key) || []).length;
}

function columnCount(columnId) {
  let n = 0;
  for (const lane of S.lanes) n += cellCount(cellKey(lane.id, columnId));
  return n;
}

/** "ok" | "at" | "over" (soft, above the limit) | "full" (hard, at or above) for a count. */
function wipState(column, count) {
  if (column.wip_limit === null || column.wip_limit === undefined) return "none";
  if (column.wip_policy === "hard") {
    if (count >= column.wip_limit) return "full";
    return count >= column.wip_limit - 1 && column.wip_limit > 1 ? "near" : "ok";
  }
  if (count > column.wip_limit) return "over";
  return count === column.wip_limit ? "at" : "ok";
}

function wipTitle(column, count) {
  const state = wipState(column, count);
  if (state === "full") return t("wipHardFull", { limit: column.wip_limit });
  if (state === "over") return t("wipSoftOver", { limit: column.wip_limit });
  if (state === "none") return t("wipNone");
  return column.wip_scope === "board"
    ? t("wipBoard", { limit: column.wip_limit })
    : t("wipPerLane", { limit: column.wip_limit });
}

/** True when dropping card `id` into the cell would meet a full hard limit. */
function wouldRefuse(id, laneId, columnId) {
  const column = S.columnById.get(columnId);
  if (!column || column.wip_policy !== "hard" || column.wip_limit === null) return false;
  const from = S.where.get(id);
  const [fromLane, fromColumn] = from ? from.split(":").map(Number) : [null, null];
  if (column.wip_scope === "board") {
    if (fromColumn === columnId) return false;
    return columnCount(columnId) >= column.wip_limit;
  }
  if (fromColumn === columnId && fromLane === laneId) return false;
  return cellCount(cellKey(laneId, columnId)) >= column.wip_limit;
}

// ---- the board ----------------------------------------------------------------------------------

const boardEl = document.getElementById("kb-board");

function buildGrid() {
  boardEl.textContent = "";
  S.cells.clear();
  S.columnHeads.clear();
  S.laneHeads.clear();
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
    S.columnHeads.set(column.id, { head, count });
    fragment.append(head);
  }
  for (const lane of S.lanes) {
    const stats = el("span", { cls: "kb-lanehead__stats" });
    const laneHead = el("div", { cls: `kb-lanehead kb-lanehead--${lane.department}`, attrs: { "data-lane": lane.id } }, [
      el("span", { cls: "kb-lanehead__name", txt: laneName(lane) }),
      stats,
    ]);
    S.laneHeads.set(lane.id, { head: laneHead, stats });
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
      S.cells.set(key, { cell, list, count, more });
      fragment.append(cell);
    }
  }
  boardEl.append(fragment);
}

function cellLimit(key) {
  if (S.limits.has(key)) return S.limits.get(key);
  const column = S.columnById.get(Number(key.split(":")[1]));
  return column && column.is_done ? DONE_SHOWN : PAGE;
}

/** Show the cell's cards (those matching the filters, up to its limit) in order; re-using
 * elements, moving only those out of place. */
function paintCell(key) {
  const parts = S.cells.get(key);
  if (!parts) return;
  let ids = S.order.get(key) || [];
  const column = S.columnById.get(Number(key.split(":")[1]));
  if (column && column.is_done) {
    // Done: the latest first, whatever their places.
    ids = [...ids].sort((a, b) => (S.cards.get(b).done_at || "").localeCompare(S.cards.get(a).done_at || "") || b - a);
  }
  const limit = cellLimit(key);
  const want = [];
  let matching = 0;
  for (const id of ids) {
    if (!matches(S.cards.get(id))) continue;
    matching += 1;
    if (want.length < limit) want.push(id);
  }
  const list = parts.list;
  let child = list.firstElementChild;
  for (const id of want) {
    const old = S.nodes.get(id);
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
    list.dataset.empty = filtering() && ids.length ? t("noMatch") : t("emptyCell");
  } else {
    delete list.dataset.empty;
  }
  const hidden = matching - want.length;
  parts.more.hidden = hidden <= 0 && !S.limits.has(key);
  parts.more.textContent = hidden > 0 ? t("showMore", { n: Math.min(hidden, PAGE) }) : t("showLess");
  paintCellCount(key);
}

function paintCellCount(key) {
  const parts = S.cells.get(key);
  const column = S.columnById.get(Number(key.split(":")[1]));
  const count = cellCount(key);
  const perLane = column.wip_scope !== "board" && column.wip_limit !== null;
  const state = perLane ? wipState(column, count) : "none";
  parts.count.textContent = perLane ? t("wipOf", { count, limit: column.wip_limit }) : String(count);
  parts.count.title = perLane ? wipTitle(column, count) : "";
  parts.count.dataset.state = state;
  parts.cell.dataset.wip = state;
}

function paintHeads() {
  for (const column of S.columns) {
    const parts = S.columnHeads.get(column.id);
    if (!parts) continue;
    const count = columnCount(column.id);
    const boardScope = column.wip_scope === "board" && column.wip_limit !== null;
    const state = boardScope ? wipState(column, count) : "none";
    parts.count.textContent = boardScope ? t("wipOf", { count, limit: column.wip_limit }) : String(count);
    parts.count.dataset.state = state;
    parts.count.title = wipTitle(column, count);
    parts.head.dataset.wip = state;
    if (boardScope) {
      for (const lane of S.lanes) S.cells.get(cellKey(lane.id, column.id)).cell.dataset.wip = state;
    }
  }
  paintSummary();
}

function paintAll() {
  for (const key of S.cells.keys()) paintCell(key);
  paintHeads();
}

/** Headline numbers; overdue and alerts double as filter toggles. */
function paintSummary() {
  const box = document.getElementById("kb-summary");
  if (!box) return;
  let total = 0;
  let shown = 0;
  let overdue = 0;
  let ageing = 0;
  let alerts = 0;
  let elsewhere = 0;
  const perLane = new Map();
  for (const card of S.cards.values()) {
    total += 1;
    if (matches(card)) shown += 1;
    const column = S.columnById.get(card.column);
    const open = column && !column.is_done;
    if (card.overdue) overdue += 1;
    if (open && card.ageing) ageing += 1;
    if (open && card.type === "alert") alerts += 1;
    const lane = S.laneById.get(card.lane);
    if (open && lane && lane.department !== card.department) elsewhere += 1;
    if (open) {
      const stats = perLane.get(card.lane) || { open: 0, overdue: 0 };
      stats.open += 1;
      if (card.overdue) stats.overdue += 1;
      perLane.set(card.lane, stats);
    }
  }
  box.textContent = "";
  const chip = (label, value, { cls = "", filter } = {}) => {
    const node = el(filter ? "button" : "span", {
      cls: `kb-stat${cls ? ` ${cls}` : ""}`,
      attrs: filter ? { type: "button", "data-toggle-filter": filter, "aria-pressed": filter && S.filters[filter.split("=")[0]] ? "true" : "false" } : {},
    }, [el("strong", { txt: value }), el("span", { txt: label })]);
    box.append(node);
  };
  chip(filtering() ? t("showing", { shown, total }) : t("total", { total }), "", { cls: "kb-stat--plain" });
  chip(text.statOverdue || "overdue", overdue, { cls: overdue ? "kb-stat--bad" : "", filter: "overdue=1" });
  chip(text.statAgeing || "ageing", ageing, { cls: ageing ? "kb-stat--warn" : "" });
  chip(text.statAlerts || "alerts", alerts, { cls: alerts ? "kb-stat--bad" : "", filter: "type=alert" });
  chip(text.statElsewhere || "in another department's lane", elsewhere);
  for (const lane of S.lanes) {
    const parts = S.laneHeads.get(lane.id);
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

document.getElementById("kb-summary")?.addEventListener("click", (event) => {
  const target = event.target.closest("[data-toggle-filter]");
  if (!target || !filterForm) return;
  const [name, value] = target.dataset.toggleFilter.split("=");
  const field = filterForm.elements.namedItem(name);
  if (!field) return;
  if (field.type === "checkbox") field.checked = !field.checked;
  else field.value = field.value === value ? "" : value;
  onFiltersChanged();
});

// ---- one card -----------------------------------------------------------------------------------

function nodeFor(id) {
  let node = S.nodes.get(id);
  if (!node || S.stale.has(id)) {
    const fresh = renderCard(S.cards.get(id));
    if (node && node.isConnected) {
      const focused = document.activeElement === node;
      node.replaceWith(fresh);
      if (focused) fresh.focus({ preventScroll: true });
    }
    node = fresh;
    S.nodes.set(id, node);
    S.stale.delete(id);
  }
  return node;
}

function initials(name) {
  return (name || "?").slice(0, 2).toUpperCase();
}

function ageing(card) {
  const days = card.age_days || 0;
  const median = card.column_median_days;
  const ratio = median ? days / median : days / 7;
  const width = Math.max(4, Math.min(100, (ratio / 2) * 100));
  let level = "fresh";
  if (median) {
    if (ratio > 2) level = "late";
    else if (ratio > 1) level = "old";
    else if (ratio > 0.6) level = "due";
  }
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

async function drawSpark(target, { height = 30, axes = false } = {}) {
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
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    showlegend: false,
    xaxis: { visible: axes, fixedrange: true, tickformat: "%m-%d" },
    yaxis: { visible: axes, fixedrange: true, gridcolor: "#eef2f6" },
    font: { size: 11 },
  };
  window.Plotly.newPlot(target, [trace, marker], layout, { staticPlot: !axes, displayModeBar: false, responsive: true });
  target.dataset.drawn = "1";
}

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

// ---- the model: snapshot and events -------------------------------------------------------------

function indexBoard(board) {
  S.board = board;
  S.lanes = [...board.lanes].sort((a, b) => a.position - b.position || a.id - b.id);
  S.columns = [...board.columns].sort((a, b) => a.position - b.position || a.id - b.id);
  S.laneById = new Map(S.lanes.map((lane) => [lane.id, lane]));
  S.columnById = new Map(S.columns.map((column) => [column.id, column]));
}

function sameShape(board) {
  if (!S.board) return false;
  const ids = (list) => list.map((x) => `${x.id}:${x.position}:${x.wip_limit ?? ""}:${x.wip_policy ?? ""}:${x.wip_scope ?? ""}`).join(",");
  return ids(board.lanes) === ids(S.board.lanes) && ids(board.columns) === ids(S.board.columns);
}

function loadSnapshot(snapshot) {
  const reshape = !sameShape(snapshot);
  indexBoard(snapshot);
  S.cards.clear();
  S.order.clear();
  S.where.clear();
  S.nodes.clear();
  S.stale.clear();
  const cards = [...snapshot.cards].sort(
    (a, b) => a.lane - b.lane || a.column - b.column || a.position - b.position || a.id - b.id,
  );
  for (const card of cards) {
    const key = cellKey(card.lane, card.column);
    S.cards.set(card.id, card);
    S.where.set(card.id, key);
    if (!S.order.has(key)) S.order.set(key, []);
    S.order.get(key).push(card.id);
  }
  if (reshape || !S.cells.size) buildGrid();
  else for (const parts of S.cells.values()) parts.list.textContent = "";
  paintAll();
  boardEl.setAttribute("aria-busy", "false");
  if (S.drawer) {
    const card = S.cards.get(S.drawer.id);
    if (card) syncDrawer(card, null, []);
    else drawerGone(null);
  }
  if (!S.snapshotSeen) {
    S.snapshotSeen = true;
    const wanted = Number(new URLSearchParams(window.location.search).get("card"));
    if (wanted && S.cards.has(wanted)) openDrawer(wanted);
  }
}

/** Put a card's new state in the model: its data, its cell and place. Returns the cells touched. */
function placeCard(card, position = card.position) {
  const oldKey = S.where.get(card.id);
  const newKey = cellKey(card.lane, card.column);
  S.cards.set(card.id, card);
  S.stale.add(card.id);
  if (oldKey) {
    const ids = S.order.get(oldKey);
    const at = ids.indexOf(card.id);
    if (at >= 0) ids.splice(at, 1);
  }
  if (!S.order.has(newKey)) S.order.set(newKey, []);
  const ids = S.order.get(newKey);
  ids.splice(Math.max(0, Math.min(position, ids.length)), 0, card.id);
  S.where.set(card.id, newKey);
  return oldKey && oldKey !== newKey ? [oldKey, newKey] : [newKey];
}

function removeCard(id) {
  const key = S.where.get(id);
  if (key) {
    const ids = S.order.get(key);
    const at = ids.indexOf(id);
    if (at >= 0) ids.splice(at, 1);
  }
  S.cards.delete(id);
  S.where.delete(id);
  const node = S.nodes.get(id);
  if (node) node.remove();
  S.nodes.delete(id);
  return key ? [key] : [];
}

function repaint(keys) {
  for (const key of new Set(keys)) paintCell(key);
  paintHeads();
}

function flash(id) {
  const node = S.nodes.get(id);
  if (!node || !node.isConnected) return;
  node.classList.remove("is-flash");
  void node.offsetWidth; // restart the animation
  node.classList.add("is-flash");
}

function onSnapshot(snapshot) {
  if (S.busy) {
    S.queue.push(snapshot);
    return;
  }
  performance.mark("kanban-snapshot");
  loadSnapshot(snapshot);
  performance.measure("kanban-build", "kanban-snapshot"); // the board built from a snapshot
}

function onEvent(msg) {
  if (!msg.card || !S.board) return;
  if (S.busy) {
    S.queue.push(msg);
    noteQueued();
    return;
  }
  applyEvent(msg);
}

function noteQueued() {
  const others = S.queue.filter((m) => m.by !== ME).length;
  if (others === 1) toast(t("queued", { n: others }), "info", { ms: 4000 });
}

function flushQueue() {
  const queue = S.queue;
  S.queue = [];
  for (const msg of queue) {
    if (msg.type === "board.snapshot") loadSnapshot(msg);
    else applyEvent(msg);
  }
}

function applyEvent(msg) {
  const card = msg.card;
  S.lastBy.set(card.id, msg.by);
  const mine = msg.by === ME;
  const pending = S.pending.get(card.id);
  if (pending && !mine) pending.touched = true;
  if (msg.type === "card.deleted" || card.archived) {
    const title = (S.cards.get(card.id) || card).title;
    repaint(removeCard(card.id));
    if (S.drawer && S.drawer.id === card.id) drawerGone(msg.by);
    if (!mine) toast(t("liveDeleted", { who: who(msg.by), title }), "live");
    return;
  }
  const known = S.cards.get(card.id);
  if (known && card.version < known.version) return; // older than what the card shows
  const keys = placeCard(card);
  repaint(keys);
  if (!mine) {
    flash(card.id);
    const lane = S.laneById.get(card.lane);
    const column = S.columnById.get(card.column);
    const values = { who: who(msg.by), title: card.title, lane: laneName(lane), column: columnName(column) };
    if (msg.type === "card.moved") toast(t(msg.handoff ? "liveHandoff" : "liveMoved", values), "live");
    else if (msg.type === "card.created") toast(t("liveCreated", values), "live");
    else toast(t("liveUpdated", values), "live");
  }
  if (S.drawer && S.drawer.id === card.id) syncDrawer(card, msg.by, msg.changed || (msg.type === "card.moved" ? ["lane", "column"] : []), mine);
}

function who(by) {
  return by || t("system");
}

/** An HTTP answer with a card: applied when newer than what the board shows. */
function applyAnswer(card, { force = false } = {}) {
  const known = S.cards.get(card.id);
  if (known && !force && card.version <= known.version) return false;
  repaint(placeCard(card));
  return true;
}

// ---- moving ---------------------------------------------------------------------------------------

function cellOf(id) {
  return S.where.get(id);
}

/** Move card `id` to (lane, column, position) at once, then ask the server. */
async function moveCard(id, laneId, columnId, position, version) {
  const card = S.cards.get(id);
  if (!card) return;
  const fromKey = cellOf(id);
  const fromIndex = S.order.get(fromKey).indexOf(id);
  const toKey = cellKey(laneId, columnId);
  if (fromKey === toKey && fromIndex === position) {
    repaint([fromKey]);
    return;
  }
  S.pending.set(id, { touched: false });
  // Optimistic: the order changes now; the data (and version) when the server agrees.
  const ids = S.order.get(fromKey);
  ids.splice(fromIndex, 1);
  if (!S.order.has(toKey)) S.order.set(toKey, []);
  const target = S.order.get(toKey);
  target.splice(Math.max(0, Math.min(position, target.length)), 0, id);
  S.where.set(id, toKey);
  S.stale.add(id);
  repaint([fromKey, toKey]);
  const { status, data } = await api("POST", `/api/kanban/cards/${id}/move/`, {
    lane: laneId,
    column: columnId,
    position,
    version: version ?? card.version,
  });
  const pending = S.pending.get(id);
  S.pending.delete(id);
  S.stale.add(id);
  if (status === 200) {
    const { warnings = [], handoff = false, rebalanced, ...answer } = data;
    void rebalanced;
    if (!applyAnswer(answer)) repaint([toKey]);
    for (const warning of warnings) toast(t("softWarning", { message: warning }), "warn", { ms: 9000 });
    if (handoff) toast(t("handedOff", { id, department: departmentName(S.laneById.get(laneId).department) }), "ok");
    announce(t("dropped", { id, lane: laneName(S.laneById.get(laneId)), column: columnName(S.columnById.get(columnId)), position: position + 1 }));
    return;
  }
  // Refused: back to where it was (unless someone else moved it meanwhile: then it is there).
  const rollback = () => {
    if (pending && pending.touched) {
      repaint([fromKey, toKey]);
      return;
    }
    const now = S.order.get(S.where.get(id));
    now.splice(now.indexOf(id), 1);
    const back = S.order.get(fromKey);
    back.splice(Math.min(fromIndex, back.length), 0, id);
    S.where.set(id, fromKey);
    repaint([fromKey, toKey]);
  };
  if (status === 409 && data && data.card) {
    rollback();
    applyAnswer(data.card, { force: true });
    const by = await whoChanged(id);
    toast(t("moveConflict", { who: by, id }), "error");
    flash(id);
    return;
  }
  rollback();
  const message = status === 400 ? failure(status, data) : failure(status, data);
  toast(status === 400 ? t("moveRefused", { message }) : message, "error");
  announce(t("moveRefused", { message }));
  flash(id);
}

async function whoChanged(id) {
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/history/`);
  if (status === 200 && data && data.items && data.items.length) {
    const last = data.items[data.items.length - 1];
    return last.by || t("system");
  }
  return S.lastBy.get(id) || t("someone");
}

// Mouse: HTML5 drag and drop. A placeholder shows where the card will land.
let placeholder = null;
let dropTarget = null;

function startBusy(kind, id) {
  const card = S.cards.get(id);
  S.busy = { kind, id, version: card.version, fromKey: cellOf(id) };
}

function endBusy() {
  S.busy = null;
  flushQueue();
}

function clearDragMarks() {
  if (placeholder) placeholder.remove();
  placeholder = null;
  dropTarget = null;
  for (const cell of boardEl.querySelectorAll(".kb-cell.is-over, .kb-cell.is-refusing")) {
    cell.classList.remove("is-over", "is-refusing");
  }
}

if (CAN_EDIT && boardEl) {
  boardEl.addEventListener("dragstart", (event) => {
    const node = event.target.closest && event.target.closest(".kb-card");
    if (!node || S.busy) return;
    const id = Number(node.dataset.id);
    if (S.pending.has(id)) {
      event.preventDefault();
      return;
    }
    startBusy("drag", id);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", String(id));
    placeholder = el("div", { cls: "kb-placeholder", attrs: { "aria-hidden": "true" } });
    placeholder.style.height = `${node.offsetHeight}px`;
    requestAnimationFrame(() => node.classList.add("is-dragging"));
  });

  boardEl.addEventListener("dragover", (event) => {
    if (!S.busy || S.busy.kind !== "drag") return;
    const cell = event.target.closest && event.target.closest(".kb-cell");
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    const laneId = Number(cell.dataset.lane);
    const columnId = Number(cell.dataset.column);
    if (!dropTarget || dropTarget.cell !== cell) {
      for (const other of boardEl.querySelectorAll(".kb-cell.is-over, .kb-cell.is-refusing")) {
        other.classList.remove("is-over", "is-refusing");
      }
      cell.classList.add(wouldRefuse(S.busy.id, laneId, columnId) ? "is-refusing" : "is-over");
    }
    dropTarget = { cell, laneId, columnId };
    const list = cell.querySelector(".kb-cell__cards");
    // Reads first (card middles), then one write (the placeholder).
    let before = null;
    for (const node of list.children) {
      if (node === placeholder || node.classList.contains("is-dragging")) continue;
      const box = node.getBoundingClientRect();
      if (event.clientY < box.top + box.height / 2) {
        before = node;
        break;
      }
    }
    if (placeholder.parentNode !== list || placeholder.nextSibling !== before) list.insertBefore(placeholder, before);
  });

  boardEl.addEventListener("drop", (event) => {
    if (!S.busy || S.busy.kind !== "drag" || !dropTarget) return;
    event.preventDefault();
    const { id, version } = S.busy;
    const { laneId, columnId } = dropTarget;
    const position = dropPosition(id, laneId, columnId, placeholder);
    clearDragMarks();
    const node = S.nodes.get(id);
    if (node) node.classList.remove("is-dragging");
    endBusy();
    moveCard(id, laneId, columnId, position, version);
  });

  boardEl.addEventListener("dragend", (event) => {
    const node = event.target.closest && event.target.closest(".kb-card");
    if (node) node.classList.remove("is-dragging");
    if (S.busy && S.busy.kind === "drag") {
      clearDragMarks();
      endBusy();
    }
  });
}

/** The position (0-based, in the whole cell without the card) of a drop before `marker`'s next
 * card; cards hidden by filters or "show more" keep their places. */
function dropPosition(id, laneId, columnId, marker) {
  const ids = (S.order.get(cellKey(laneId, columnId)) || []).filter((x) => x !== id);
  let next = marker ? marker.nextElementSibling : null;
  while (next && (!next.dataset.id || Number(next.dataset.id) === id)) next = next.nextElementSibling;
  if (next) {
    const at = ids.indexOf(Number(next.dataset.id));
    if (at >= 0) return at;
  }
  let prev = marker ? marker.previousElementSibling : null;
  while (prev && (!prev.dataset.id || Number(prev.dataset.id) === id)) prev = prev.previousElementSibling;
  if (prev) {
    const at = ids.indexOf(Number(prev.dataset.id));
    if (at >= 0) return at + 1;
  }
  return marker && marker.parentNode && !prev ? 0 : ids.length;
}

// Keyboard: Space picks up, arrows move, Space drops, Escape cancels.
function keyTarget() {
  const busy = S.busy;
  const lane = S.laneById.get(busy.laneId);
  const column = S.columnById.get(busy.columnId);
  const count = (S.order.get(cellKey(busy.laneId, busy.columnId)) || []).filter((x) => x !== busy.id).length + 1;
  return { lane, column, count };
}

function previewKeys() {
  const busy = S.busy;
  const node = S.nodes.get(busy.id);
  const key = cellKey(busy.laneId, busy.columnId);
  const parts = S.cells.get(key);
  const ids = (S.order.get(key) || []).filter((x) => x !== busy.id);
  const nextId = ids[busy.index];
  const nextNode = nextId !== undefined ? S.nodes.get(nextId) : null;
  if (nextNode && nextNode.parentNode === parts.list) parts.list.insertBefore(node, nextNode);
  else parts.list.append(node);
  delete parts.list.dataset.empty;
  for (const cell of boardEl.querySelectorAll(".kb-cell.is-over, .kb-cell.is-refusing")) cell.classList.remove("is-over", "is-refusing");
  parts.cell.classList.add(wouldRefuse(busy.id, busy.laneId, busy.columnId) ? "is-refusing" : "is-over");
  node.focus({ preventScroll: false });
  node.scrollIntoView({ block: "nearest", inline: "nearest" });
  const { lane, column, count } = keyTarget();
  announce(t("movedTo", { lane: laneName(lane), column: columnName(column), position: busy.index + 1, count }));
}

function laneIndex(laneId) {
  return S.lanes.findIndex((lane) => lane.id === laneId);
}

function columnIndex(columnId) {
  return S.columns.findIndex((column) => column.id === columnId);
}

function keyMove(dx, dy) {
  const busy = S.busy;
  const sizeOf = (laneId, columnId) => (S.order.get(cellKey(laneId, columnId)) || []).filter((x) => x !== busy.id).length;
  if (dx) {
    const c = columnIndex(busy.columnId) + dx;
    if (c < 0 || c >= S.columns.length) return;
    busy.columnId = S.columns[c].id;
    busy.index = Math.min(busy.index, sizeOf(busy.laneId, busy.columnId));
  } else if (dy < 0) {
    if (busy.index > 0) busy.index -= 1;
    else {
      const l = laneIndex(busy.laneId) - 1;
      if (l < 0) return;
      busy.laneId = S.lanes[l].id;
      busy.index = sizeOf(busy.laneId, busy.columnId);
    }
  } else if (dy > 0) {
    if (busy.index < sizeOf(busy.laneId, busy.columnId)) busy.index += 1;
    else {
      const l = laneIndex(busy.laneId) + 1;
      if (l >= S.lanes.length) return;
      busy.laneId = S.lanes[l].id;
      busy.index = 0;
    }
  }
  previewKeys();
}

function keyCancel() {
  const busy = S.busy;
  const node = S.nodes.get(busy.id);
  if (node) node.classList.remove("is-lifted");
  clearDragMarks();
  S.busy = null;
  repaint([busy.fromKey, cellKey(busy.laneId, busy.columnId)]);
  announce(t("cancelled", { id: busy.id }));
  flushQueue();
  const again = S.nodes.get(busy.id);
  if (again && again.isConnected) again.focus();
}

function keyDrop() {
  const busy = S.busy;
  const node = S.nodes.get(busy.id);
  if (node) node.classList.remove("is-lifted");
  clearDragMarks();
  S.busy = null;
  flushQueue();
  moveCard(busy.id, busy.laneId, busy.columnId, busy.index, busy.version).then(() => {
    const again = S.nodes.get(busy.id);
    if (again && again.isConnected) again.focus({ preventScroll: true });
  });
}

if (boardEl) {
  boardEl.addEventListener("keydown", (event) => {
    const node = event.target.closest && event.target.closest(".kb-card");
    if (!node) return;
    const id = Number(node.dataset.id);
    const lifted = S.busy && S.busy.kind === "keys" && S.busy.id === id;
    if (lifted) {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (moves[event.key]) {
        event.preventDefault();
        keyMove(...moves[event.key]);
      } else if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        keyDrop();
      } else if (event.key === "Escape") {
        event.preventDefault();
        keyCancel();
      } else if (event.key === "Tab") {
        keyCancel();
      }
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      openDrawer(id);
    } else if (event.key === " " && CAN_EDIT && !S.busy && !S.pending.has(id)) {
      event.preventDefault();
      startBusy("keys", id);
      const key = cellOf(id);
      const [laneId, columnId] = key.split(":").map(Number);
      Object.assign(S.busy, { laneId, columnId, index: S.order.get(key).indexOf(id) });
      node.classList.add("is-lifted");
      const card = S.cards.get(id);
      announce(t("pickedUp", { id, title: card.title }));
    }
  });

  boardEl.addEventListener("click", (event) => {
    const more = event.target.closest("[data-more]");
    if (more) {
      const key = more.dataset.more;
      const ids = S.order.get(key) || [];
      const matching = ids.filter((id) => matches(S.cards.get(id))).length;
      const shown = cellLimit(key);
      if (shown >= matching) S.limits.delete(key);
      else S.limits.set(key, shown + PAGE);
      paintCell(key);
      return;
    }
    const add = event.target.closest("[data-new-lane]");
    if (add) {
      openNewCard(Number(add.dataset.newLane), Number(add.dataset.newColumn));
      return;
    }
    const node = event.target.closest(".kb-card");
    if (node && !(S.busy && S.busy.kind === "keys")) openDrawer(Number(node.dataset.id));
  });
}

// ---- new card ------------------------------------------------------------------------------------

const newDialog = document.getElementById("kb-new");
const newForm = document.getElementById("kb-new-form");

function openNewCard(laneId, columnId) {
  if (!newDialog || !S.board) return;
  const laneSelect = newForm.elements.namedItem("lane");
  const columnSelect = newForm.elements.namedItem("column");
  if (laneId) laneSelect.value = String(laneId);
  else {
    const mine = S.lanes.find((lane) => lane.department === config.department);
    if (mine) laneSelect.value = String(mine.id);
  }
  columnSelect.value = String(columnId || S.columns[0].id);
  document.getElementById("kb-new-error").hidden = true;
  newDialog.showModal();
  newForm.elements.namedItem("title").focus();
}

document.getElementById("kb-new-open")?.addEventListener("click", () => openNewCard());
newDialog?.querySelector("[data-close]")?.addEventListener("click", () => newDialog.close());

function splitLabels(raw) {
  return raw.split(/[,，]/).map((x) => x.trim()).filter(Boolean);
}

newForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = newForm.elements;
  const error = document.getElementById("kb-new-error");
  const title = f.namedItem("title").value.trim();
  if (!title) {
    error.textContent = t("badInput", { message: t("fieldTitle") });
    error.hidden = false;
    return;
  }
  const lane = Number(f.namedItem("lane").value);
  const body = {
    board: S.board.id,
    title,
    lane,
    column: Number(f.namedItem("column").value),
    position: 0, // on top of its cell, where it is seen
    type: f.namedItem("type").value,
    department: S.laneById.get(lane).department,
    description: f.namedItem("description").value,
    labels: splitLabels(f.namedItem("labels").value),
    assignees: [...f.namedItem("assignees").selectedOptions].map((o) => Number(o.value)),
  };
  if (f.namedItem("due_date").value) body.due_date = f.namedItem("due_date").value;
  const submit = document.getElementById("kb-new-submit");
  submit.disabled = true;
  const { status, data } = await api("POST", "/api/kanban/cards/", body);
  submit.disabled = false;
  if (status === 201) {
    applyAnswer(data);
    newForm.reset();
    newDialog.close();
    toast(t("created", { id: data.id }), "ok");
    flash(data.id);
    const node = S.nodes.get(data.id);
    if (node && node.isConnected) {
      node.scrollIntoView({ block: "nearest" });
      node.focus({ preventScroll: true });
    }
    return;
  }
  error.textContent = t("badInput", { message: failure(status, data) });
  error.hidden = false;
});

// ---- the card drawer ------------------------------------------------------------------------------

const drawer = document.getElementById("kb-drawer");
const backdrop = document.getElementById("kb-backdrop");
const drawerBody = document.getElementById("kb-drawer-body");
const drawerNotice = document.getElementById("kb-drawer-notice");

function setCardParam(id) {
  const params = new URLSearchParams(window.location.search);
  if (id) params.set("card", id);
  else params.delete("card");
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
}

function openDrawer(id) {
  const card = S.cards.get(id);
  if (!card) return;
  const seen = {};
  for (const field of [...EDITABLE, "checklist"]) seen[field] = card.version;
  S.drawer = { id, seen, dirty: new Set(), returnFocus: document.activeElement };
  drawerNotice.textContent = "";
  drawer.hidden = false;
  backdrop.hidden = false;
  renderDrawer(card);
  loadComments(id);
  loadHistory(id);
  setCardParam(id);
  drawer.focus();
}

function closeDrawer() {
  if (!S.drawer) return;
  const back = S.drawer.returnFocus;
  S.drawer = null;
  drawer.hidden = true;
  backdrop.hidden = true;
  drawerBody.textContent = "";
  setCardParam(null);
  if (back && back.isConnected) back.focus({ preventScroll: true });
}

document.getElementById("kb-drawer-close")?.addEventListener("click", closeDrawer);
backdrop?.addEventListener("click", closeDrawer);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && S.drawer && !(S.busy && S.busy.kind === "keys") && !(newDialog && newDialog.open)) {
    closeDrawer();
  }
});

function drawerHead(card) {
  const lane = S.laneById.get(card.lane);
  const column = S.columnById.get(card.column);
  const type = document.getElementById("kb-drawer-type");
  type.textContent = "";
  type.append(el("span", { cls: `kb-type kb-type--${card.type}`, txt: typeName(card.type) }));
  document.getElementById("kb-drawer-id").textContent = `#${card.id} · ${t("version", { n: card.version })}`;
  document.getElementById("kb-drawer-place").textContent = `${laneName(lane)} · ${columnName(column)}`;
  document.getElementById("kb-drawer-title").textContent = card.title;
}

function section(title, children, { cls = "" } = {}) {
  return el("section", { cls: `kb-section ${cls}` }, [el("h3", { txt: title }), ...children]);
}

function fieldRow(label, control, name) {
  const id = `d-${name}`;
  control.id = id;
  return el("div", { cls: "field kb-field", attrs: { "data-field": name } }, [el("label", { txt: label, attrs: { for: id } }), control]);
}

function fieldValue(card, name) {
  if (name === "assignees") return card.assignees.map((a) => a.id).sort((a, b) => a - b);
  if (name === "labels") return card.labels.join(", ");
  if (name === "due_date") return card.due_date || "";
  return card[name] ?? "";
}

function editorFor(name, card) {
  if (name === "description") {
    const area = el("textarea", { attrs: { name, rows: "5" } });
    area.value = card.description;
    return area;
  }
  if (name === "pillar") {
    // The strategy pillar the work builds (the budget split of the parameters); none by default.
    const options = [["", text.noPillar || "—"], ...Object.entries(config.pillars || {})];
    const select = el("select", { attrs: { name } }, options.map(([key, label]) => el("option", { txt: label, attrs: { value: key } })));
    select.value = card.pillar || "";
    return select;
  }
  if (name === "type" || name === "department") {
    const options = name === "type" ? config.types : config.departments;
    const select = el("select", { attrs: { name } }, Object.entries(options).map(([key, label]) => el("option", { txt: label, attrs: { value: key } })));
    select.value = card[name];
    return select;
  }
  if (name === "assignees") {
    const box = el("div", { cls: "kb-people", attrs: { role: "group", "data-name": "assignees" } });
    const chosen = new Set(card.assignees.map((a) => a.id));
    for (const user of config.users || []) {
      const input = el("input", { attrs: { type: "checkbox", value: user.id, name: "assignees" } });
      input.checked = chosen.has(user.id);
      box.append(el("label", { cls: "kb-person" }, [input, el("span", { txt: user.username })]));
    }
    return box;
  }
  const input = el("input", { attrs: { type: name === "due_date" ? "date" : "text", name, autocomplete: "off" } });
  input.value = fieldValue(card, name);
  return input;
}

function formValue(name) {
  const form = document.getElementById("kb-edit");
  if (!form) return undefined;
  if (name === "assignees") {
    return [...form.querySelectorAll("input[name=assignees]:checked")].map((i) => Number(i.value)).sort((a, b) => a - b);
  }
  const field = form.elements.namedItem(name);
  if (!field) return undefined;
  if (name === "labels") return splitLabels(field.value);
  if (name === "due_date") return field.value || null;
  return field.value;
}

function setFormValue(name, card) {
  const form = document.getElementById("kb-edit");
  if (!form) return;
  if (name === "assignees") {
    const chosen = new Set(card.assignees.map((a) => a.id));
    for (const input of form.querySelectorAll("input[name=assignees]")) input.checked = chosen.has(Number(input.value));
    return;
  }
  const field = form.elements.namedItem(name);
  if (field) field.value = fieldValue(card, name);
}

function renderDrawer(card) {
  drawerHead(card);
  drawerBody.textContent = "";
  const lane = S.laneById.get(card.lane);
  const facts = el("dl", { cls: "kb-facts" });
  const fact = (label, value, cls = "") => {
    if (value === null || value === undefined || value === "") return;
    facts.append(el("dt", { txt: label }), el("dd", { cls, txt: value }));
  };
  const age = ageing(card);
  fact(text.owner_ || "Owner", departmentName(card.department));
  fact(text.laneLabel || t("lane"), laneName(lane));
  fact(text.dueLabel || "Due", card.due_date ? formatDay(card.due_date) : "", card.overdue ? "is-overdue" : "");
  fact(text.ageLabel || "Age", age.title, card.ageing ? "is-ageing" : "");
  fact(text.createdLabel || "Created", t("createdBy", { who: card.created_by || t("system"), date: formatTime(card.created_at) }));
  drawerBody.append(facts);

  if (card.metric) {
    const spark = el("div", { cls: "kb-spark kb-spark--large", attrs: { "data-metric": card.metric, "data-region": card.region || "all", role: "img", "aria-label": t("sparkline", { metric: metricName(card.metric) }) } });
    const link = el("a", { txt: `${metricName(card.metric)} · ${card.region || t("allRegions")}`, attrs: { href: `/metrics/${encodeURIComponent(card.metric)}/` } });
    const take = card.alert && CAN_EDIT ? acknowledgeButton(card.alert) : null;
    drawerBody.append(section(card.alert ? t("alertOf", { id: card.alert, metric: metricName(card.metric) }) : metricName(card.metric), [link, spark, take], { cls: "kb-section--alert" }));
    drawSpark(spark, { height: 140, axes: true });
  }

  if (CAN_EDIT) {
    const form = el("form", { cls: "form kb-edit", attrs: { id: "kb-edit", novalidate: "" } });
    const labels = {
      title: text.titleLabel || "Title",
      type: text.typeLabel || "Type",
      pillar: text.pillarLabel || "Strategy pillar",
      department: text.departmentLabel || "Owning department",
      due_date: text.dueLabel || "Due date",
      labels: text.labelsLabel || "Labels",
      assignees: text.assigneesLabel || "Assignees",
      description: text.descriptionLabel || "Description",
    };
    const grid = el("div", { cls: "kb-form-grid" });
    form.append(fieldRow(labels.title, editorFor("title", card), "title"));
    for (const name of ["type", "pillar", "department", "due_date", "labels"]) grid.append(fieldRow(labels[name], editorFor(name, card), name));
    form.append(grid, fieldRow(labels.description, editorFor("description", card), "description"));
    form.append(fieldRow(labels.assignees, editorFor("assignees", card), "assignees"));
    const conflict = el("div", { attrs: { id: "kb-conflict" } });
    const save = el("button", { cls: "button button--primary", txt: t("save"), attrs: { type: "submit", id: "kb-save", disabled: "" } });
    const revert = button(t("cancel"), { cls: "button--quiet button--small", attrs: { id: "kb-revert" }, onClick: () => revertEdits() });
    form.append(conflict, el("div", { cls: "form__actions" }, [save, revert]));
    const markDirty = (event) => {
      const name = event.target.name;
      if (!name || !EDITABLE.includes(name) || !S.drawer) return;
      S.drawer.dirty.add(name);
      save.disabled = false;
    };
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveEdits();
    });
    drawerBody.append(section(text.detailsLabel || "Details", [form]));
  } else {
    if (card.description) drawerBody.append(section(text.descriptionLabel || "Description", [el("p", { cls: "kb-description", txt: card.description })]));
    const people = card.assignees.map((a) => a.username).join(t("listJoin")) || t("unassigned");
    drawerBody.append(section(text.assigneesLabel || "Assignees", [el("p", { txt: people })]));
    if (card.labels.length) drawerBody.append(section(text.labelsLabel || "Labels", [el("ul", { cls: "kb-labels" }, card.labels.map((l) => el("li", { cls: "kb-label", txt: l })))]));
  }

  drawerBody.append(section(text.checklistLabel || t("fieldChecklist"), [el("div", { attrs: { id: "kb-checklist" } })]));
  renderChecklist(card);
  drawerBody.append(section(t("links"), [el("div", { attrs: { id: "kb-links" } })]));
  renderLinks(card);
  drawerBody.append(section(t("comments_"), [el("div", { attrs: { id: "kb-comments" } })]));
  drawerBody.append(section(t("history"), [el("div", { attrs: { id: "kb-history" } })]));
  if (CAN_EDIT) {
    drawerBody.append(
      el("div", { cls: "kb-drawer__footer" }, [
        button(t("archive"), { cls: "button--danger button--small", attrs: { id: "kb-archive" }, onClick: () => archiveCard(card.id) }),
      ]),
    );
  }
}

function renderChecklist(card) {
  const box = document.getElementById("kb-checklist");
  if (!box) return;
  box.textContent = "";
  const list = el("ul", { cls: "kb-checklist" });
  card.checklist.forEach((item, index) => {
    const input = el("input", { attrs: { type: "checkbox", disabled: CAN_EDIT ? null : "", "data-index": index } });
    input.checked = Boolean(item.done);
    input.addEventListener("change", () => changeChecklist((items) => {
      const same = items.find((x) => x.text === item.text);
      if (same) same.done = input.checked;
      return items;
    }));
    const row = el("li", { cls: item.done ? "is-done" : "" }, [el("label", {}, [input, el("span", { txt: item.text })])]);
    if (CAN_EDIT) {
      row.append(el("button", { cls: "kb-x", txt: "×", attrs: { type: "button", "aria-label": `${t("removeLink")}: ${item.text}` } }));
      row.lastChild.addEventListener("click", () => changeChecklist((items) => items.filter((x) => x.text !== item.text)));
    }
    list.append(row);
  });
  if (!card.checklist.length) box.append(el("p", { cls: "muted small", txt: t("checklistEmpty") }));
  const done = card.checklist.filter((x) => x.done).length;
  if (card.checklist.length) {
    const progress = el("div", { cls: "kb-progress", attrs: { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": card.checklist.length, "aria-valuenow": done } }, [el("span")]);
    progress.firstChild.style.width = `${(done / card.checklist.length) * 100}%`;
    box.append(progress);
  }
  box.append(list);
  if (CAN_EDIT) {
    const input = el("input", { attrs: { type: "text", placeholder: t("checklistAdd"), "aria-label": t("checklistAdd"), maxlength: "200" } });
    const add = button(t("checklistAdd"), {
      onClick: () => {
        const value = input.value.trim();
        if (!value) return;
        changeChecklist((items) => (items.some((x) => x.text === value) ? items : [...items, { text: value, done: false }]));
        input.value = "";
      },
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        add.click();
      }
    });
    box.append(el("div", { cls: "kb-inline" }, [input, add]));
  }
}

/** Change the checklist with `edit(items)`; a 409 (someone else changed it) re-applies the same
 * edit to their list and tries again once. */
async function changeChecklist(edit) {
  if (!S.drawer) return;
  const id = S.drawer.id;
  let card = S.cards.get(id);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const items = edit(card.checklist.map((x) => ({ ...x })));
    const { status, data } = await api("PATCH", `/api/kanban/cards/${id}/`, { checklist: items, version: card.version });
    if (status === 200) {
      applyAnswer(data);
      if (S.drawer && S.drawer.id === id) renderChecklist(S.cards.get(id));
      if (attempt) toast(t("merged"), "ok");
      return;
    }
    if (status === 409 && data && data.card) {
      applyAnswer(data.card, { force: true });
      card = data.card;
      continue;
    }
    toast(failure(status, data), "error");
    break;
  }
  if (S.drawer && S.drawer.id === id) renderChecklist(S.cards.get(id));
}

function renderLinks(card) {
  const box = document.getElementById("kb-links");
  if (!box) return;
  box.textContent = "";
  if (!card.links.length) box.append(el("p", { cls: "muted small", txt: t("noLinks") }));
  const list = el("ul", { cls: "kb-links" });
  for (const link of card.links) {
    const other = S.cards.get(link.to);
    const label = other ? `#${other.id} ${other.title}` : t("unknownCard", { id: link.to });
    const target = el("a", { txt: label, attrs: { href: `?card=${link.to}` } });
    target.addEventListener("click", (event) => {
      if (!other) return;
      event.preventDefault();
      openDrawer(other.id);
    });
    const row = el("li", {}, [el("span", { cls: `kb-link-kind kb-link-kind--${link.kind}`, txt: t(link.kind) }), target]);
    if (CAN_EDIT) {
      row.append(button(t("removeLink"), {
        cls: "button--quiet button--small",
        onClick: async () => {
          const { status, data } = await api("DELETE", `/api/kanban/cards/${card.id}/links/${link.id}/`);
          if (status !== 204) toast(failure(status, data), "error");
          else refreshCard(card.id);
        },
      }));
    }
    list.append(row);
  }
  box.append(list);
  if (CAN_EDIT) {
    const kind = el("select", { attrs: { "aria-label": t("links") } }, [
      el("option", { txt: t("blocks"), attrs: { value: "blocks" } }),
      el("option", { txt: t("relates"), attrs: { value: "relates" } }),
    ]);
    const to = el("input", { attrs: { type: "number", min: "1", placeholder: t("linkTo"), "aria-label": t("linkTo") } });
    const add = button(t("addLink"), {
      onClick: async () => {
        const target = Number(to.value);
        if (!target) return;
        const { status, data } = await api("POST", `/api/kanban/cards/${card.id}/links/`, { to: target, kind: kind.value });
        if (status !== 201) toast(failure(status, data), "error");
        else {
          to.value = "";
          refreshCard(card.id);
        }
      },
    });
    box.append(el("div", { cls: "kb-inline" }, [kind, to, add]));
  }
}

async function refreshCard(id) {
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/`);
  if (status !== 200) return;
  const known = S.cards.get(id);
  repaint(placeCard(data, known ? S.order.get(S.where.get(id)).indexOf(id) : data.position));
  if (S.drawer && S.drawer.id === id) {
    renderLinks(data);
    drawerHead(data);
  }
}

async function loadComments(id) {
  const box = document.getElementById("kb-comments");
  if (!box) return;
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/comments/`);
  if (!S.drawer || S.drawer.id !== id) return;
  const typed = box.querySelector("textarea");
  const draft = typed ? typed.value : "";
  const hadFocus = typed && document.activeElement === typed;
  box.textContent = "";
  const list = el("ol", { cls: "kb-comments" });
  for (const comment of status === 200 ? data : []) {
    list.append(el("li", {}, [
      el("div", { cls: "kb-comment__head" }, [el("strong", { txt: comment.author || t("system") }), el("time", { txt: formatTime(comment.created_at), attrs: { datetime: comment.created_at } })]),
      el("p", { txt: comment.text }),
    ]));
  }
  if (!list.children.length) box.append(el("p", { cls: "muted small", txt: t("noComments") }));
  box.append(list);
  if (CAN_EDIT) {
    const area = el("textarea", { attrs: { rows: "2", placeholder: t("commentPlaceholder"), "aria-label": t("addComment"), maxlength: "5000" } });
    area.value = draft; // a comment being typed survives a refresh
    const add = button(t("addComment"), {
      cls: "button--primary button--small",
      onClick: async () => {
        const value = area.value.trim();
        if (!value) return;
        add.disabled = true;
        const answer = await api("POST", `/api/kanban/cards/${id}/comments/`, { text: value });
        add.disabled = false;
        if (answer.status === 201) {
          area.value = "";
          loadComments(id);
        } else toast(failure(answer.status, answer.data), "error");
      },
    });
    box.append(el("div", { cls: "kb-comment-form" }, [area, add]));
    if (hadFocus) area.focus();
  }
}

function historyLine(item) {
  const place = (laneId, columnId) => `${laneName(S.laneById.get(laneId))} · ${columnName(S.columnById.get(columnId))}`;
  if (item.kind === "created") return t("created_", { lane: laneName(S.laneById.get(item.to_lane)), column: columnName(S.columnById.get(item.to_column)) });
  if (item.kind === "moved") return t("moved", { from: place(item.from_lane, item.from_column), to: place(item.to_lane, item.to_column) });
  if (item.kind === "deleted") return t("deleted");
  const fields = Object.keys(item.changes || {}).map((name) => t(`field${name[0].toUpperCase()}${name.slice(1)}`)).join(t("listJoin"));
  return t("edited", { fields });
}

async function loadHistory(id) {
  const box = document.getElementById("kb-history");
  if (!box) return;
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/history/`);
  if (!S.drawer || S.drawer.id !== id || status !== 200) return;
  box.textContent = "";
  if (data.time_in_columns && data.time_in_columns.length) {
    const total = data.time_in_columns.reduce((sum, x) => sum + x.hours, 0) || 1;
    const bar = el("div", { cls: "kb-timebar", attrs: { "aria-label": t("timeInColumns") } });
    data.time_in_columns.forEach((part, index) => {
      const seg = el("span", { cls: `kb-timebar__seg kb-timebar__seg--${index % 5}`, attrs: { title: `${columnName(S.columnById.get(part.column) || { name: part.name })}: ${part.hours >= 48 ? t("days", { n: number1.format(part.hours / 24) }) : t("hours", { n: number1.format(part.hours) })}` } });
      seg.style.flexGrow = String(Math.max(part.hours / total, 0.02));
      bar.append(seg);
    });
    const legend = el("ul", { cls: "kb-timebar__legend" }, data.time_in_columns.map((part, index) => el("li", {}, [
      el("span", { cls: `kb-timebar__key kb-timebar__seg--${index % 5}`, attrs: { "aria-hidden": "true" } }),
      `${columnName(S.columnById.get(part.column) || { name: part.name })} ${part.hours >= 48 ? t("days", { n: number1.format(part.hours / 24) }) : t("hours", { n: number1.format(part.hours) })}`,
    ])));
    box.append(el("h4", { txt: t("timeInColumns") }), bar, legend);
  }
  if (data.cycle_time_days !== null && data.cycle_time_days !== undefined) {
    box.append(el("p", { cls: "small", txt: t("cycleTime", { n: number1.format(data.cycle_time_days) }) }));
  }
  const list = el("ol", { cls: "kb-history" });
  for (const item of [...data.items].reverse()) {
    const row = el("li", { cls: item.is_handoff ? "is-handoff" : "" }, [
      el("span", { cls: "kb-history__what", txt: historyLine(item) }),
      item.is_handoff ? el("span", { cls: "kb-handoff-badge", txt: t("handoff") }) : null,
      el("span", { cls: "kb-history__meta", txt: `${formatTime(item.at)} · ${t("by", { who: item.by || t("system") })}` }),
    ]);
    list.append(row);
  }
  if (!data.items.length) box.append(el("p", { cls: "muted small", txt: t("historyEmpty") }));
  box.append(list);
}

/** A live change of the open card: what is not being edited follows it; what is, stays, with
 * a notice. */
function syncDrawer(card, by, changed, mine = false) {
  const drawerState = S.drawer;
  if (!mine && by !== null) drawerState.othersChanged = true;
  drawerHead(card);
  const edited = changed.filter((name) => EDITABLE.includes(name));
  const clashing = edited.filter((name) => drawerState.dirty.has(name));
  for (const name of edited) {
    if (drawerState.dirty.has(name)) continue;
    setFormValue(name, card);
    drawerState.seen[name] = card.version;
  }
  if (changed.includes("checklist")) {
    drawerState.seen.checklist = card.version;
    renderChecklist(card);
  }
  if (changed.includes("links")) renderLinks(card);
  if (changed.includes("comments")) loadComments(card.id);
  if (!CAN_EDIT && edited.length) {
    // Read-only view: nothing is being edited, show the card as it is.
    renderDrawer(card);
    loadComments(card.id);
  }
  loadHistory(card.id);
  if (!mine && clashing.length) {
    drawerNotice.textContent = "";
    const names = clashing.map((name) => t(`field${name[0].toUpperCase()}${name.slice(1)}`)).join(t("listJoin"));
    drawerNotice.append(el("div", { cls: "notice notice--warn kb-notice" }, [el("p", { txt: t("changedWhileEditing", { who: who(by), fields: names }) })]));
  }
}

function drawerGone(by) {
  drawerNotice.textContent = "";
  drawerNotice.append(el("p", { cls: "notice notice--error", txt: t("deletedWhileOpen", { who: who(by) }) }));
  for (const control of drawerBody.querySelectorAll("input, select, textarea, button")) control.disabled = true;
}

function revertEdits() {
  if (!S.drawer) return;
  const card = S.cards.get(S.drawer.id);
  for (const name of S.drawer.dirty) {
    setFormValue(name, card);
    S.drawer.seen[name] = card.version;
  }
  S.drawer.dirty.clear();
  document.getElementById("kb-save").disabled = true;
  document.getElementById("kb-conflict").textContent = "";
  drawerNotice.textContent = "";
}

async function saveEdits({ over = false } = {}) {
  const state = S.drawer;
  if (!state || !state.dirty.size) return;
  const id = state.id;
  const body = {};
  const dirty = [...state.dirty];
  for (const name of dirty) body[name] = formValue(name);
  // The oldest version any edited field was seen at: the server merges what nobody touched.
  body.version = Math.min(...dirty.map((name) => state.seen[name]));
  const save = document.getElementById("kb-save");
  save.disabled = true;
  save.textContent = t("saving");
  const { status, data } = await api("PATCH", `/api/kanban/cards/${id}/`, body);
  save.textContent = t("save");
  if (!S.drawer || S.drawer.id !== id) return;
  const conflictBox = document.getElementById("kb-conflict");
  conflictBox.textContent = "";
  if (status === 200) {
    const merged = Boolean(state.othersChanged);
    state.othersChanged = false;
    applyAnswer(data);
    state.dirty.clear();
    for (const name of [...EDITABLE, "checklist"]) {
      setFormValue(name, data);
      state.seen[name] = data.version;
    }
    drawerHead(data);
    drawerNotice.textContent = "";
    toast(merged || over ? t("merged") : t("saved"), "ok");
    loadHistory(id);
    return;
  }
  save.disabled = false;
  if (status === 409 && data && data.card) {
    applyAnswer(data.card, { force: true });
    drawerHead(data.card);
    const fields = (data.fields || []).filter((name) => state.dirty.has(name));
    const by = await whoChanged(id);
    const names = fields.map((name) => t(`field${name[0].toUpperCase()}${name.slice(1)}`)).join(t("listJoin"));
    const list = el("ul", { cls: "kb-conflict__list" });
    for (const name of fields) {
      const theirs = fieldValue(data.card, name);
      const mineValue = body[name];
      const show = (value) => (Array.isArray(value) ? (name === "assignees" ? value.map((uid) => (config.users.find((u) => u.id === uid) || { username: uid }).username).join(", ") : value.join(", ")) : String(value ?? "")) || "–";
      const theirsShown = name === "assignees" ? show(theirs) : show(theirs);
      list.append(el("li", {}, [el("strong", { txt: `${t(`field${name[0].toUpperCase()}${name.slice(1)}`)}: ` }), el("span", { txt: theirsShown }), el("span", { cls: "muted", txt: ` — ${t("yourValue", { value: show(mineValue) })}` })]));
    }
    conflictBox.append(el("div", { cls: "kb-conflict", attrs: { role: "alert" } }, [
      el("strong", { cls: "kb-conflict__title", txt: t("conflictTitle") }),
      el("p", { txt: t("conflictBody", { who: by, fields: names }) }),
      list,
      el("div", { cls: "kb-conflict__actions" }, [
        button(t("keepTheirs"), {
          onClick: () => {
            for (const name of fields) {
              state.dirty.delete(name);
              setFormValue(name, data.card);
              state.seen[name] = data.card.version;
            }
            conflictBox.textContent = "";
            if (state.dirty.size) saveEdits();
            else document.getElementById("kb-save").disabled = true;
          },
        }),
        button(t("applyMine"), {
          cls: "button--primary button--small",
          onClick: () => {
            for (const name of state.dirty) state.seen[name] = data.card.version;
            saveEdits({ over: true });
          },
        }),
      ]),
    ]));
    return;
  }
  conflictBox.append(el("p", { cls: "notice notice--error", txt: t("badInput", { message: failure(status, data) }) }));
}

async function archiveCard(id) {
  const card = S.cards.get(id);
  if (!card || !window.confirm(t("archiveConfirm"))) return;
  const { status, data } = await api("DELETE", `/api/kanban/cards/${id}/?version=${card.version}`);
  if (status === 200) {
    repaint(removeCard(id));
    closeDrawer();
    toast(t("archived", { id }), "ok");
  } else if (status === 409 && data && data.card) {
    applyAnswer(data.card, { force: true });
    toast(t("moveConflict", { who: await whoChanged(id), id }), "error");
  } else toast(failure(status, data), "error");
}

// ---- start ----------------------------------------------------------------------------------------

async function loadOnce() {
  if (S.snapshotSeen) return;
  const { status, data } = await api("GET", `/api/kanban/boards/${config.board}/`);
  if (status === 200 && !S.snapshotSeen) {
    loadSnapshot({ type: "board.snapshot", ...data });
    toast(t("offlineFallback"), "info");
  }
}

if (root && config.board && boardEl) {
  S.filters = readFilters();
  connectLive(`/ws/kanban/${config.board}/`, {
    onSnapshot,
    onEvent,
    onStatus(state) {
      root.dataset.live = state;
    },
  });
  setTimeout(loadOnce, SNAPSHOT_GRACE_MS);
}
