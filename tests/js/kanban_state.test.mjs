// Unit tests of the shared board's pure logic (static/js/kanban/state.js): snapshots, live
// events, moves, WIP limits, filters and the open card's field-level merging. With node's
// built-in runner: `node --test tests/js/` (tests/test_js_units.py runs it under pytest).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  admit,
  ageOf,
  applyAnswer,
  applyEvent,
  applySnapshot,
  cellKey,
  cellLimit,
  createState,
  editBody,
  fieldValue,
  filtering,
  followChange,
  keyStep,
  keyTarget,
  lift,
  matches,
  moveOptimistically,
  openCard,
  PAGE,
  placeCard,
  queuedFromOthers,
  rollbackMove,
  settleMove,
  splitLabels,
  summarize,
  takeQueue,
  toggleMore,
  visibleCards,
  wipState,
  wouldRefuse,
} from "../../static/js/kanban/state.js";

// Lanes 1 (marketing), 2 (risk); columns 10 Backlog, 20 Review (hard, 1 per lane), 30 Done.
const LANES = [
  { id: 2, position: 1, department: "risk" },
  { id: 1, position: 0, department: "marketing" },
];
const COLUMNS = [
  { id: 30, position: 2, name: "Done", is_done: true, wip_limit: null, wip_policy: "soft", wip_scope: "per_lane" },
  { id: 10, position: 0, name: "Backlog", is_done: false, wip_limit: null, wip_policy: "soft", wip_scope: "per_lane" },
  { id: 20, position: 1, name: "Review", is_done: false, wip_limit: 1, wip_policy: "hard", wip_scope: "per_lane" },
];

const card = (id, lane, column, position, extra = {}) => ({
  id,
  lane,
  column,
  position,
  version: 1,
  title: `Card ${id}`,
  type: "task",
  department: lane === 1 ? "marketing" : "risk",
  labels: [],
  assignees: [],
  checklist: [],
  links: [],
  overdue: false,
  ageing: false,
  due_date: null,
  ...extra,
});

const snapshot = (cards, { lanes = LANES, columns = COLUMNS, seq = 7 } = {}) => ({
  type: "board.snapshot",
  id: 1,
  seq,
  lanes,
  columns,
  cards,
});

/** A board with cards 1, 2, 3 in marketing's Backlog (in that order), 4 in risk's Review. */
function board() {
  const state = createState();
  applySnapshot(state, snapshot([card(2, 1, 10, 1), card(3, 1, 10, 2), card(1, 1, 10, 0), card(4, 2, 20, 0)]));
  return state;
}

const cell = (state, lane, column) => state.order.get(cellKey(lane, column)) || [];

describe("applySnapshot builds the board and replaces it", () => {
  test("lanes and columns in position order, cards in their cells by position", () => {
    const state = board();
    assert.deepEqual(state.lanes.map((l) => l.id), [1, 2]);
    assert.deepEqual(state.columns.map((c) => c.name), ["Backlog", "Review", "Done"]);
    assert.deepEqual(cell(state, 1, 10), [1, 2, 3]);
    assert.deepEqual(cell(state, 2, 20), [4]);
    assert.equal(state.where.get(4), "2:20");
    assert.equal(state.cards.get(3).title, "Card 3");
    assert.equal(state.laneById.get(2).department, "risk");
  });

  test("the first snapshot builds the grid; the same shape again does not, a new WIP limit does", () => {
    const state = createState();
    assert.equal(applySnapshot(state, snapshot([])).reshape, true);
    assert.equal(applySnapshot(state, snapshot([card(1, 1, 10, 0)])).reshape, false);
    const tighter = COLUMNS.map((c) => (c.id === 10 ? { ...c, wip_limit: 5 } : c));
    assert.equal(applySnapshot(state, snapshot([], { columns: tighter })).reshape, true);
  });

  test("a later snapshot replaces: cards it does not have are gone, moved ones are where it says", () => {
    const state = board();
    state.stale.add(2);
    applySnapshot(state, snapshot([card(2, 2, 30, 0, { version: 3 })]));
    assert.deepEqual([...state.cards.keys()], [2]);
    assert.deepEqual(cell(state, 1, 10), []);
    assert.deepEqual(cell(state, 2, 30), [2]);
    assert.equal(state.where.has(1), false);
    assert.equal(state.stale.size, 0);
  });
});

describe("applyEvent: each live event changes only the cells it touches", () => {
  test("card.created goes into its cell at its position", () => {
    const state = board();
    const out = applyEvent(state, { type: "card.created", by: "mia", card: card(9, 1, 10, 1) }, "me");
    assert.equal(out.kind, "placed");
    assert.deepEqual(out.keys, ["1:10"]);
    assert.equal(out.mine, false);
    assert.deepEqual(cell(state, 1, 10), [1, 9, 2, 3]);
    assert.ok(state.stale.has(9), "its element is built");
  });

  test("card.moved leaves its old cell for the new one; an open card follows lane and column", () => {
    const state = board();
    const out = applyEvent(state, { type: "card.moved", by: "rick", card: card(2, 2, 20, 0, { version: 2 }) }, "me");
    assert.deepEqual(out.keys, ["1:10", "2:20"]);
    assert.deepEqual(out.changed, ["lane", "column"]);
    assert.deepEqual(cell(state, 1, 10), [1, 3]);
    assert.deepEqual(cell(state, 2, 20), [2, 4]);
    assert.equal(state.where.get(2), "2:20");
    assert.equal(state.lastBy.get(2), "rick");
  });

  test("card.updated changes the card in place and names the fields changed", () => {
    const state = board();
    const updated = card(3, 1, 10, 2, { version: 2, title: "Renamed" });
    const out = applyEvent(state, { type: "card.updated", by: "me", card: updated, changed: ["title"] }, "me");
    assert.deepEqual(out.keys, ["1:10"]);
    assert.equal(out.mine, true);
    assert.deepEqual(out.changed, ["title"]);
    assert.equal(state.cards.get(3).title, "Renamed");
    assert.deepEqual(cell(state, 1, 10), [1, 2, 3]);
  });

  test("card.deleted (or an archived card) leaves the board; the title is the one shown", () => {
    const state = board();
    const out = applyEvent(state, { type: "card.deleted", by: "mia", card: { id: 2, title: "?" } }, "me");
    assert.deepEqual(out, { kind: "removed", keys: ["1:10"], mine: false, title: "Card 2", changed: [] });
    assert.equal(state.cards.has(2), false);
    assert.equal(state.where.has(2), false);
    assert.deepEqual(cell(state, 1, 10), [1, 3]);

    const archived = applyEvent(state, { type: "card.updated", by: "mia", card: card(4, 2, 20, 0, { version: 2, archived: true }) }, "me");
    assert.equal(archived.kind, "removed");
    assert.deepEqual(cell(state, 2, 20), []);
  });

  test("an event older than the card the board shows is ignored", () => {
    const state = board();
    applyEvent(state, { type: "card.updated", by: "a", card: card(2, 1, 10, 1, { version: 5, title: "Five" }) }, "me");
    const out = applyEvent(state, { type: "card.moved", by: "b", card: card(2, 2, 30, 0, { version: 4 }) }, "me");
    assert.equal(out.kind, "stale");
    assert.deepEqual(out.keys, []);
    assert.equal(state.cards.get(2).title, "Five");
    assert.equal(state.where.get(2), "1:10");
    assert.deepEqual(cell(state, 2, 30), []);
  });

  test("the same event twice leaves the board as once", () => {
    const state = board();
    const msg = { type: "card.moved", by: "b", card: card(1, 1, 20, 0, { version: 2 }) };
    applyEvent(state, msg, "me");
    const once = JSON.stringify([...state.order]);
    applyEvent(state, msg, "me");
    assert.equal(JSON.stringify([...state.order]), once);
    assert.deepEqual(cell(state, 1, 20), [1]);
  });

  test("someone else's change to a card being moved marks the move touched; mine does not", () => {
    const state = board();
    state.pending.set(1, { touched: false });
    applyEvent(state, { type: "card.updated", by: "me", card: card(1, 1, 10, 0, { version: 2 }) }, "me");
    assert.equal(state.pending.get(1).touched, false);
    applyEvent(state, { type: "card.updated", by: "rick", card: card(1, 1, 10, 0, { version: 3 }) }, "me");
    assert.equal(state.pending.get(1).touched, true);
  });
});

describe("admit: events wait while a card is being moved", () => {
  test("no card, or no board yet: ignored", () => {
    assert.equal(admit(createState(), { type: "card.created", card: card(1, 1, 10, 0) }), "ignore");
    assert.equal(admit(board(), { type: "card.created" }), "ignore");
  });

  test("while busy they queue in order; the queue empties once taken", () => {
    const state = board();
    assert.equal(admit(state, { type: "card.created", by: "a", card: card(8, 1, 10, 0) }), "apply");
    lift(state, "drag", 1);
    assert.equal(admit(state, { type: "card.created", by: "me", card: card(8, 1, 10, 0) }), "queue");
    assert.equal(admit(state, { type: "card.created", by: "rick", card: card(9, 1, 10, 0) }), "queue");
    assert.equal(queuedFromOthers(state, "me"), 1);
    assert.deepEqual(takeQueue(state).map((m) => m.card.id), [8, 9]);
    assert.deepEqual(state.queue, []);
  });
});

describe("HTTP answers and moves", () => {
  test("an answer applies when newer than the board's card, or when forced", () => {
    const state = board();
    assert.equal(applyAnswer(state, card(2, 1, 10, 1, { version: 1, title: "Same" })), null);
    assert.equal(state.cards.get(2).title, "Card 2");
    assert.deepEqual(applyAnswer(state, card(2, 1, 10, 1, { version: 1, title: "Forced" }), { force: true }), ["1:10"]);
    assert.equal(state.cards.get(2).title, "Forced");
    assert.deepEqual(applyAnswer(state, card(2, 2, 20, 0, { version: 2 })), ["1:10", "2:20"]);
  });

  test("placeCard keeps the position in range", () => {
    const state = board();
    placeCard(state, card(7, 1, 10, 99));
    placeCard(state, card(6, 1, 10, -3));
    assert.deepEqual(cell(state, 1, 10), [6, 1, 2, 3, 7]);
  });

  test("an optimistic move changes the order at once and is pending; back where it was is no move", () => {
    const state = board();
    assert.deepEqual(moveOptimistically(state, 2, 1, 10, 1), { fromKey: "1:10", fromIndex: 1, toKey: "1:10", same: true });
    assert.equal(state.pending.size, 0);
    const move = moveOptimistically(state, 2, 2, 20, 5);
    assert.deepEqual(move, { fromKey: "1:10", fromIndex: 1, toKey: "2:20", same: false });
    assert.deepEqual(cell(state, 1, 10), [1, 3]);
    assert.deepEqual(cell(state, 2, 20), [4, 2]);
    assert.equal(state.where.get(2), "2:20");
    assert.deepEqual(state.pending.get(2), { touched: false });
  });

  test("a refused move goes back to its place, unless someone else moved the card meanwhile", () => {
    const state = board();
    const move = moveOptimistically(state, 2, 2, 20, 0);
    rollbackMove(state, 2, move.fromKey, move.fromIndex, settleMove(state, 2));
    assert.deepEqual(cell(state, 1, 10), [1, 2, 3]);
    assert.deepEqual(cell(state, 2, 20), [4]);
    assert.equal(state.pending.has(2), false);

    const again = moveOptimistically(state, 3, 2, 20, 0);
    applyEvent(state, { type: "card.moved", by: "rick", card: card(3, 2, 30, 0, { version: 2 }) }, "me");
    rollbackMove(state, 3, again.fromKey, again.fromIndex, settleMove(state, 3));
    assert.equal(state.where.get(3), "2:30", "it stays where the other person put it");
    assert.deepEqual(cell(state, 1, 10), [1, 2]);
  });

  test("keyboard steps: arrows move between columns and lanes, not off the board", () => {
    const state = board();
    const busy = lift(state, "keys", 3);
    Object.assign(busy, { laneId: 1, columnId: 10, index: 2 });
    assert.equal(keyStep(state, -1, 0), false, "no column left of Backlog");
    assert.equal(keyStep(state, 1, 0), true);
    assert.deepEqual([busy.laneId, busy.columnId, busy.index], [1, 20, 0]);
    assert.equal(keyStep(state, 0, 1), true); // past the end of an empty cell: next lane, on top
    assert.deepEqual([busy.laneId, busy.columnId, busy.index], [2, 20, 0]);
    assert.equal(keyStep(state, 0, 1), true);
    assert.equal(busy.index, 1);
    assert.equal(keyStep(state, 0, 1), false, "no lane below risk");
    assert.deepEqual(keyTarget(state).count, 2);
    assert.equal(keyTarget(state).column.name, "Review");
  });
});

describe("WIP limits", () => {
  test("soft and hard states by count", () => {
    const soft = { wip_limit: 3, wip_policy: "soft" };
    const hard = { wip_limit: 3, wip_policy: "hard" };
    assert.deepEqual([2, 3, 4].map((n) => wipState(soft, n)), ["ok", "at", "over"]);
    assert.deepEqual([1, 2, 3].map((n) => wipState(hard, n)), ["ok", "near", "full"]);
    assert.equal(wipState({ wip_limit: null }, 10), "none");
  });

  test("a drop into a full hard cell would be refused, unless the card is already there", () => {
    const state = board();
    assert.equal(wouldRefuse(state, 1, 2, 20), true);
    assert.equal(wouldRefuse(state, 1, 1, 20), false, "marketing's Review is empty");
    assert.equal(wouldRefuse(state, 4, 2, 20), false);
    assert.equal(wouldRefuse(state, 1, 2, 10), false, "Backlog has no limit");
  });

  test("a board-wide hard limit counts every lane", () => {
    const columns = COLUMNS.map((c) => (c.id === 20 ? { ...c, wip_limit: 2, wip_scope: "board" } : c));
    const state = createState();
    applySnapshot(state, snapshot([card(1, 1, 10, 0), card(4, 2, 20, 0), card(5, 1, 20, 0)], { columns }));
    assert.equal(wouldRefuse(state, 1, 1, 20), true);
    assert.equal(wouldRefuse(state, 5, 2, 20), false, "moving within the column");
  });
});

describe("filters and what a cell shows", () => {
  const tagged = card(12, 1, 10, 0, {
    title: "Dealer audit",
    type: "alert",
    labels: ["leads"],
    assignees: [{ id: 3, username: "tina" }],
    overdue: true,
  });

  test("each filter narrows: department, type, overdue, label, assignee, search by title or #id", () => {
    assert.equal(matches({}, tagged), true);
    assert.equal(matches({ department: "marketing" }, tagged), true);
    assert.equal(matches({ department: "risk" }, tagged), false);
    assert.equal(matches({ type: "task" }, tagged), false);
    assert.equal(matches({ overdue: "1" }, tagged), true);
    assert.equal(matches({ overdue: "1" }, card(1, 1, 10, 0)), false);
    assert.equal(matches({ label: "leads" }, tagged), true);
    assert.equal(matches({ label: "ops" }, tagged), false);
    assert.equal(matches({ assignee: "tina" }, tagged), true);
    assert.equal(matches({ assignee: "rick" }, tagged), false);
    assert.equal(matches({ assignee: "-" }, tagged), false, "'-' is unassigned");
    assert.equal(matches({ assignee: "-" }, card(1, 1, 10, 0)), true);
    assert.equal(matches({ q: "AUDIT" }, tagged), true);
    assert.equal(matches({ q: "#12" }, tagged), true);
    assert.equal(matches({ q: "12" }, tagged), true);
    assert.equal(matches({ q: "#1" }, tagged), false);
    assert.equal(matches({ department: "marketing", type: "task" }, tagged), false);
  });

  test("filtering is on when any filter has a value", () => {
    assert.equal(filtering({}), false);
    assert.equal(filtering({ department: "", q: "" }), false);
    assert.equal(filtering({ q: "x" }), true);
  });

  test("a cell shows matching cards up to a page; show more adds a page, then back", () => {
    const state = createState();
    const many = Array.from({ length: PAGE + 5 }, (_, i) => card(i + 1, 1, 10, i, { type: i % 2 ? "alert" : "task" }));
    applySnapshot(state, snapshot(many));
    let shown = visibleCards(state, "1:10");
    assert.equal(shown.want.length, PAGE);
    assert.equal(shown.hidden, 5);
    assert.deepEqual(shown.want.slice(0, 3), [1, 2, 3]);
    toggleMore(state, "1:10");
    assert.equal(cellLimit(state, "1:10"), 2 * PAGE);
    shown = visibleCards(state, "1:10");
    assert.equal(shown.want.length, PAGE + 5);
    assert.equal(shown.hidden, 0);
    toggleMore(state, "1:10");
    assert.equal(state.limits.has("1:10"), false);

    state.filters = { type: "alert" };
    shown = visibleCards(state, "1:10");
    assert.equal(shown.matching, 32);
    assert.equal(shown.ids.length, PAGE + 5);
    assert.ok(shown.want.every((id) => id % 2 === 0));
  });

  test("Done shows the latest few first (the newer card first on a tie), whatever their places", () => {
    const state = createState({ doneShown: 3 });
    applySnapshot(state, snapshot([
      card(1, 1, 30, 0, { done_at: "2026-03-01T10:00:00Z" }),
      card(2, 1, 30, 1, { done_at: "2026-03-03T10:00:00Z" }),
      card(3, 1, 30, 2, { done_at: "2026-03-02T10:00:00Z" }),
      card(4, 1, 30, 3, { done_at: "2026-03-03T10:00:00Z" }),
    ]));
    const shown = visibleCards(state, "1:30");
    assert.deepEqual(shown.want, [4, 2, 3]);
    assert.equal(shown.hidden, 1);
    assert.deepEqual(cell(state, 1, 30), [1, 2, 3, 4], "the order itself is untouched");
  });

  test("the headline numbers count open cards; shown follows the filters", () => {
    const state = createState();
    applySnapshot(state, snapshot([
      card(1, 1, 10, 0, { overdue: true, ageing: true }),
      card(2, 1, 20, 0, { type: "alert", department: "risk" }),
      card(3, 2, 30, 0, { overdue: true, ageing: true, type: "alert" }),
    ]));
    state.filters = { overdue: "1" };
    const numbers = summarize(state);
    assert.equal(numbers.total, 3);
    assert.equal(numbers.shown, 2);
    assert.equal(numbers.overdue, 2, "overdue counts Done cards too");
    assert.equal(numbers.ageing, 1);
    assert.equal(numbers.alerts, 1);
    assert.equal(numbers.elsewhere, 1);
    assert.deepEqual(numbers.perLane.get(1), { open: 2, overdue: 1 });
    assert.equal(numbers.perLane.has(2), false);
  });

  test("age against the column's median", () => {
    assert.deepEqual(ageOf({ age_days: 1, column_median_days: 4 }), { days: 1, median: 4, width: 12.5, level: "fresh" });
    assert.equal(ageOf({ age_days: 3, column_median_days: 4 }).level, "due");
    assert.equal(ageOf({ age_days: 6, column_median_days: 4 }).level, "old");
    assert.equal(ageOf({ age_days: 9, column_median_days: 4 }).level, "late");
    assert.equal(ageOf({ age_days: 30 }).level, "fresh", "no median: no level");
    assert.equal(ageOf({ age_days: 30 }).width, 100);
    assert.equal(ageOf({}).width, 4);
  });
});

describe("the open card: what is being edited stays", () => {
  test("a change by someone else follows the untouched fields and names the clashing ones", () => {
    const open = openCard(card(1, 1, 10, 0, { version: 3 }));
    assert.equal(open.seen.title, 3);
    assert.equal(open.seen.checklist, 3);
    open.dirty.add("title");
    const now = card(1, 1, 10, 0, { version: 4 });
    const result = followChange(open, now, "rick", ["title", "labels", "checklist", "comments"]);
    assert.deepEqual(result, { edited: ["title", "labels"], clashing: ["title"], follow: ["labels"] });
    assert.equal(open.seen.title, 3, "still the version the edit started from");
    assert.equal(open.seen.labels, 4);
    assert.equal(open.seen.checklist, 4);
    assert.equal(open.othersChanged, true);
  });

  test("my own change, or a snapshot, is not someone else's", () => {
    const open = openCard(card(1, 1, 10, 0));
    followChange(open, card(1, 1, 10, 0, { version: 2 }), "me", ["title"], true);
    followChange(open, card(1, 1, 10, 0, { version: 2 }), null, []);
    assert.equal(open.othersChanged, undefined);
  });

  test("saving sends the edited fields with the oldest version they were seen at", () => {
    const open = openCard(card(1, 1, 10, 0, { version: 3 }));
    open.dirty.add("title");
    open.dirty.add("labels");
    open.seen.labels = 5;
    const body = editBody(open, (name) => (name === "title" ? "New" : ["a", "b"]));
    assert.deepEqual(body, { title: "New", labels: ["a", "b"], version: 3 });
  });

  test("field values as the editor shows them; labels split at either comma", () => {
    const c = card(1, 1, 10, 0, { assignees: [{ id: 9 }, { id: 2 }], labels: ["a", "b"], description: null });
    assert.deepEqual(fieldValue(c, "assignees"), [2, 9]);
    assert.equal(fieldValue(c, "labels"), "a, b");
    assert.equal(fieldValue(c, "due_date"), "");
    assert.equal(fieldValue(c, "description"), "");
    assert.equal(fieldValue(c, "title"), "Card 1");
    assert.deepEqual(splitLabels(" leads, 风控，ops ,, "), ["leads", "风控", "ops"]);
  });
});
