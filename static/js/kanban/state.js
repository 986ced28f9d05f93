// The shared board's state (/kanban/) and the pure functions that change it: no DOM, no
// window, so node imports it (unit-tested in tests/js/kanban_state.test.mjs).
//
// - The board is built ONCE from the socket's `board.snapshot` (applySnapshot: it replaces);
//   each event (`card.created|updated|moved|deleted`, carrying the whole card) then changes only
//   the cell or cells it touches (applyEvent returns them, for the view to repaint). An event
//   older than the card the board shows (a lower `version`) is ignored. The socket itself
//   (static/js/live.js) checks `seq`: a gap asks the server for a resync, a repeat is dropped.
// - Changes by others never clobber what the viewer is doing: while a card is being dragged
//   (mouse or keyboard, `busy`) events wait in `queue` and apply on drop; an open card
//   (`drawer`) keeps the fields being edited (`dirty`) and the version each was seen at.
// - Filters (department, assignee, label, type, overdue, search) decide what a cell shows.
//
// A cell is keyed "lane:column" (cellKey); `order` holds each cell's card ids in position order
// and `where` each card's cell. `stale` names the cards whose element must be rebuilt.

export const PAGE = 60; // cards a cell shows before "show more"
export const DONE_SHOWN = 8; // cards a Done cell shows (the latest), unless the page says
export const EDITABLE = ["title", "description", "type", "pillar", "department", "assignees", "due_date", "labels"];
export const FILTER_NAMES = ["department", "assignee", "label", "type", "overdue", "q"];

/** An empty board: filled by the first snapshot. */
export function createState({ doneShown = DONE_SHOWN } = {}) {
  return {
    board: null,
    lanes: [],
    columns: [],
    laneById: new Map(),
    columnById: new Map(),
    cards: new Map(), // id → card (as the API shows it)
    order: new Map(), // "lane:column" → [card ids] in position order
    where: new Map(), // id → "lane:column"
    stale: new Set(), // ids whose element must be rebuilt
    limits: new Map(), // "lane:column" → cards shown
    pending: new Map(), // id → {touched} while a move is on its way
    lastBy: new Map(), // id → who made the last change we heard of
    busy: null, // {kind: "drag" | "keys", id, version, fromKey[, laneId, columnId, index]}
    queue: [], // events (and snapshots) that arrived while busy
    snapshotSeen: false,
    drawer: null, // {id, seen: {field: version}, dirty: Set, returnFocus, othersChanged}
    filters: {},
    doneShown,
  };
}

export const cellKey = (lane, column) => `${lane}:${column}`;

const columnOfKey = (state, key) => state.columnById.get(Number(key.split(":")[1]));

// ---- the snapshot -------------------------------------------------------------------------------

export function indexBoard(state, board) {
  state.board = board;
  state.lanes = [...board.lanes].sort((a, b) => a.position - b.position || a.id - b.id);
  state.columns = [...board.columns].sort((a, b) => a.position - b.position || a.id - b.id);
  state.laneById = new Map(state.lanes.map((lane) => [lane.id, lane]));
  state.columnById = new Map(state.columns.map((column) => [column.id, column]));
}

/** True when `board` has the lanes and columns (and WIP limits) the state already shows: the
 * grid can then stay and only the cards be redrawn. */
export function sameShape(state, board) {
  if (!state.board) return false;
  const ids = (list) => list.map((x) => `${x.id}:${x.position}:${x.wip_limit ?? ""}:${x.wip_policy ?? ""}:${x.wip_scope ?? ""}`).join(",");
  return ids(board.lanes) === ids(state.board.lanes) && ids(board.columns) === ids(state.board.columns);
}

/** Replace the board with a snapshot (never merge: the socket sends one on every reconnect).
 * `reshape` says the grid of lanes × columns must be built again. */
export function applySnapshot(state, snapshot) {
  const reshape = !sameShape(state, snapshot);
  indexBoard(state, snapshot);
  state.cards.clear();
  state.order.clear();
  state.where.clear();
  state.stale.clear();
  const cards = [...snapshot.cards].sort(
    (a, b) => a.lane - b.lane || a.column - b.column || a.position - b.position || a.id - b.id,
  );
  for (const card of cards) {
    const key = cellKey(card.lane, card.column);
    state.cards.set(card.id, card);
    state.where.set(card.id, key);
    if (!state.order.has(key)) state.order.set(key, []);
    state.order.get(key).push(card.id);
  }
  return { reshape };
}

// ---- cards and events ---------------------------------------------------------------------------

/** Put a card's new state in the model: its data, its cell and place. Returns the cells touched. */
export function placeCard(state, card, position = card.position) {
  const oldKey = state.where.get(card.id);
  const newKey = cellKey(card.lane, card.column);
  state.cards.set(card.id, card);
  state.stale.add(card.id);
  if (oldKey) {
    const ids = state.order.get(oldKey);
    const at = ids.indexOf(card.id);
    if (at >= 0) ids.splice(at, 1);
  }
  if (!state.order.has(newKey)) state.order.set(newKey, []);
  const ids = state.order.get(newKey);
  ids.splice(Math.max(0, Math.min(position, ids.length)), 0, card.id);
  state.where.set(card.id, newKey);
  return oldKey && oldKey !== newKey ? [oldKey, newKey] : [newKey];
}

/** Take a card off the board. Returns the cells touched. */
export function removeCard(state, id) {
  const key = state.where.get(id);
  if (key) {
    const ids = state.order.get(key);
    const at = ids.indexOf(id);
    if (at >= 0) ids.splice(at, 1);
  }
  state.cards.delete(id);
  state.where.delete(id);
  return key ? [key] : [];
}

/** What to do with a live event now: "ignore" (no card, or no board yet), "queue" (a card is
 * being moved: it waits, and is kept in `queue`) or "apply". */
export function admit(state, msg) {
  if (!msg.card || !state.board) return "ignore";
  if (state.busy) {
    state.queue.push(msg);
    return "queue";
  }
  return "apply";
}

/** How many of the waiting events are someone else's. */
export function queuedFromOthers(state, me) {
  return state.queue.filter((m) => m.by !== me).length;
}

/** The waiting events (and snapshots), in the order they came; the queue is emptied. */
export function takeQueue(state) {
  const queue = state.queue;
  state.queue = [];
  return queue;
}

/**
 * Apply one `card.*` event. Returns what happened, for the view:
 *   {kind: "removed" | "placed" | "stale", keys (cells touched), mine (the viewer's own change),
 *    title (of a removed card), changed (the fields an open card must follow)}
 * "stale": the event is older than the card the board shows, nothing changed.
 */
export function applyEvent(state, msg, me) {
  const card = msg.card;
  state.lastBy.set(card.id, msg.by);
  const mine = msg.by === me;
  const pending = state.pending.get(card.id);
  if (pending && !mine) pending.touched = true;
  if (msg.type === "card.deleted" || card.archived) {
    const title = (state.cards.get(card.id) || card).title;
    return { kind: "removed", keys: removeCard(state, card.id), mine, title, changed: [] };
  }
  const known = state.cards.get(card.id);
  if (known && card.version < known.version) return { kind: "stale", keys: [], mine, changed: [] }; // older than what the card shows
  const keys = placeCard(state, card);
  const changed = msg.changed || (msg.type === "card.moved" ? ["lane", "column"] : []);
  return { kind: "placed", keys, mine, changed };
}

/** An HTTP answer with a card: applied when newer than what the board shows (or `force`d).
 * Returns the cells touched, or null when it was not applied. */
export function applyAnswer(state, card, { force = false } = {}) {
  const known = state.cards.get(card.id);
  if (known && !force && card.version <= known.version) return null;
  return placeCard(state, card);
}

// ---- moving -------------------------------------------------------------------------------------

/** Take a card up (mouse drag or keyboard): events wait until it is put down. */
export function lift(state, kind, id) {
  const card = state.cards.get(id);
  state.busy = { kind, id, version: card.version, fromKey: state.where.get(id) };
  return state.busy;
}

/**
 * Move card `id` to (lane, column, position) in the model at once, before the server answers
 * (optimistic: the order changes now; the data and version when the server agrees). Returns
 * {fromKey, fromIndex, toKey, same}; `same` (nothing changes) when it is put back where it was.
 */
export function moveOptimistically(state, id, laneId, columnId, position) {
  const fromKey = state.where.get(id);
  const fromIndex = state.order.get(fromKey).indexOf(id);
  const toKey = cellKey(laneId, columnId);
  if (fromKey === toKey && fromIndex === position) return { fromKey, fromIndex, toKey, same: true };
  state.pending.set(id, { touched: false });
  const ids = state.order.get(fromKey);
  ids.splice(fromIndex, 1);
  if (!state.order.has(toKey)) state.order.set(toKey, []);
  const target = state.order.get(toKey);
  target.splice(Math.max(0, Math.min(position, target.length)), 0, id);
  state.where.set(id, toKey);
  state.stale.add(id);
  return { fromKey, fromIndex, toKey, same: false };
}

/** The server answered a move: it is no longer pending. Returns the pending entry (its
 * `touched` says whether someone else changed the card meanwhile). */
export function settleMove(state, id) {
  const pending = state.pending.get(id);
  state.pending.delete(id);
  state.stale.add(id);
  return pending;
}

/** A refused move: the card goes back to where it was, unless someone else moved it meanwhile
 * (then it is there already). */
export function rollbackMove(state, id, fromKey, fromIndex, pending) {
  if (pending && pending.touched) return;
  const now = state.order.get(state.where.get(id));
  now.splice(now.indexOf(id), 1);
  const back = state.order.get(fromKey);
  back.splice(Math.min(fromIndex, back.length), 0, id);
  state.where.set(id, fromKey);
}

/** Keyboard moves: one step of the lifted card (`busy`) by arrows. False when it cannot go
 * further that way (nothing changed). */
export function keyStep(state, dx, dy) {
  const busy = state.busy;
  const sizeOf = (laneId, columnId) => (state.order.get(cellKey(laneId, columnId)) || []).filter((x) => x !== busy.id).length;
  if (dx) {
    const c = state.columns.findIndex((column) => column.id === busy.columnId) + dx;
    if (c < 0 || c >= state.columns.length) return false;
    busy.columnId = state.columns[c].id;
    busy.index = Math.min(busy.index, sizeOf(busy.laneId, busy.columnId));
  } else if (dy < 0) {
    if (busy.index > 0) busy.index -= 1;
    else {
      const l = state.lanes.findIndex((lane) => lane.id === busy.laneId) - 1;
      if (l < 0) return false;
      busy.laneId = state.lanes[l].id;
      busy.index = sizeOf(busy.laneId, busy.columnId);
    }
  } else if (dy > 0) {
    if (busy.index < sizeOf(busy.laneId, busy.columnId)) busy.index += 1;
    else {
      const l = state.lanes.findIndex((lane) => lane.id === busy.laneId) + 1;
      if (l >= state.lanes.length) return false;
      busy.laneId = state.lanes[l].id;
      busy.index = 0;
    }
  }
  return true;
}

/** Where the lifted card would land: its lane, column and the cell's count with it. */
export function keyTarget(state) {
  const busy = state.busy;
  const lane = state.laneById.get(busy.laneId);
  const column = state.columnById.get(busy.columnId);
  const count = (state.order.get(cellKey(busy.laneId, busy.columnId)) || []).filter((x) => x !== busy.id).length + 1;
  return { lane, column, count };
}

// ---- WIP limits ---------------------------------------------------------------------------------

export function cellCount(state, key) {
  return (state.order.get(key) || []).length;
}

export function columnCount(state, columnId) {
  let n = 0;
  for (const lane of state.lanes) n += cellCount(state, cellKey(lane.id, columnId));
  return n;
}

/** "ok" | "at" | "over" (soft, above the limit) | "near" | "full" (hard, at or above) | "none"
 * (no limit) for a count. */
export function wipState(column, count) {
  if (column.wip_limit === null || column.wip_limit === undefined) return "none";
  if (column.wip_policy === "hard") {
    if (count >= column.wip_limit) return "full";
    return count >= column.wip_limit - 1 && column.wip_limit > 1 ? "near" : "ok";
  }
  if (count > column.wip_limit) return "over";
  return count === column.wip_limit ? "at" : "ok";
}

/** True when dropping card `id` into the cell would meet a full hard limit. */
export function wouldRefuse(state, id, laneId, columnId) {
  const column = state.columnById.get(columnId);
  if (!column || column.wip_policy !== "hard" || column.wip_limit === null) return false;
  const from = state.where.get(id);
  const [fromLane, fromColumn] = from ? from.split(":").map(Number) : [null, null];
  if (column.wip_scope === "board") {
    if (fromColumn === columnId) return false;
    return columnCount(state, columnId) >= column.wip_limit;
  }
  if (fromColumn === columnId && fromLane === laneId) return false;
  return cellCount(state, cellKey(laneId, columnId)) >= column.wip_limit;
}

// ---- filters and what a cell shows --------------------------------------------------------------

export function filtering(filters) {
  return FILTER_NAMES.some((name) => filters[name]);
}

export function matches(filters, card) {
  const f = filters;
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

/** How many cards a cell shows: what "show more" chose, else a page (Done: the latest few). */
export function cellLimit(state, key) {
  if (state.limits.has(key)) return state.limits.get(key);
  const column = columnOfKey(state, key);
  return column && column.is_done ? state.doneShown : PAGE;
}

/**
 * The cards a cell shows: {ids (all of the cell's, in display order), want (those shown: matching
 * the filters, up to its limit), matching, hidden (matching but past the limit)}. Done shows the
 * latest first, whatever their places.
 */
export function visibleCards(state, key) {
  let ids = state.order.get(key) || [];
  const column = columnOfKey(state, key);
  if (column && column.is_done) {
    ids = [...ids].sort((a, b) => (state.cards.get(b).done_at || "").localeCompare(state.cards.get(a).done_at || "") || b - a);
  }
  const limit = cellLimit(state, key);
  const want = [];
  let matching = 0;
  for (const id of ids) {
    if (!matches(state.filters, state.cards.get(id))) continue;
    matching += 1;
    if (want.length < limit) want.push(id);
  }
  return { ids, want, matching, hidden: matching - want.length };
}

/** "Show more" of a cell: a page more, or back to the first page once all are shown. */
export function toggleMore(state, key) {
  const ids = state.order.get(key) || [];
  const matching = ids.filter((id) => matches(state.filters, state.cards.get(id))).length;
  const shown = cellLimit(state, key);
  if (shown >= matching) state.limits.delete(key);
  else state.limits.set(key, shown + PAGE);
}

/** The headline numbers: all cards and those shown, and of the open ones (not Done) how many
 * are overdue, ageing, alerts, in another department's lane; per lane, open and overdue. */
export function summarize(state) {
  let total = 0;
  let shown = 0;
  let overdue = 0;
  let ageing = 0;
  let alerts = 0;
  let elsewhere = 0;
  const perLane = new Map();
  for (const card of state.cards.values()) {
    total += 1;
    if (matches(state.filters, card)) shown += 1;
    const column = state.columnById.get(card.column);
    const open = column && !column.is_done;
    if (card.overdue) overdue += 1;
    if (open && card.ageing) ageing += 1;
    if (open && card.type === "alert") alerts += 1;
    const lane = state.laneById.get(card.lane);
    if (open && lane && lane.department !== card.department) elsewhere += 1;
    if (open) {
      const stats = perLane.get(card.lane) || { open: 0, overdue: 0 };
      stats.open += 1;
      if (card.overdue) stats.overdue += 1;
      perLane.set(card.lane, stats);
    }
  }
  return { total, shown, overdue, ageing, alerts, elsewhere, perLane };
}

/** How old a card is against its column's median: the bar's width (%) and level. */
export function ageOf(card) {
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
  return { days, median, width, level };
}

// ---- the open card ------------------------------------------------------------------------------

/** An open card: every field seen at the card's version, nothing edited yet. */
export function openCard(card, returnFocus = null) {
  const seen = {};
  for (const field of [...EDITABLE, "checklist"]) seen[field] = card.version;
  return { id: card.id, seen, dirty: new Set(), returnFocus };
}

/**
 * A live change of the open card: what is not being edited follows it (seen at the new version);
 * what is, stays. Returns {edited (the changed editable fields), clashing (those being edited),
 * follow (those the form must show as they are now)}.
 */
export function followChange(drawer, card, by, changed, mine = false) {
  if (!mine && by !== null) drawer.othersChanged = true;
  const edited = changed.filter((name) => EDITABLE.includes(name));
  const clashing = edited.filter((name) => drawer.dirty.has(name));
  const follow = edited.filter((name) => !drawer.dirty.has(name));
  for (const name of follow) drawer.seen[name] = card.version;
  if (changed.includes("checklist")) drawer.seen.checklist = card.version;
  return { edited, clashing, follow };
}

/** What saving sends: only the edited fields (their values from `valueOf(name)`) with the
 * oldest version any of them was seen at: the server merges what nobody touched. */
export function editBody(drawer, valueOf) {
  const body = {};
  const dirty = [...drawer.dirty];
  for (const name of dirty) body[name] = valueOf(name);
  body.version = Math.min(...dirty.map((name) => drawer.seen[name]));
  return body;
}

/** A field's value as the editor shows it (assignees: their sorted ids, labels: one line). */
export function fieldValue(card, name) {
  if (name === "assignees") return card.assignees.map((a) => a.id).sort((a, b) => a - b);
  if (name === "labels") return card.labels.join(", ");
  if (name === "due_date") return card.due_date || "";
  return card[name] ?? "";
}

/** Labels typed as one line, split at commas (ASCII or Chinese). */
export function splitLabels(raw) {
  return raw.split(/[,，]/).map((x) => x.trim()).filter(Boolean);
}
