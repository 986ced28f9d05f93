// The shared board's live feed as the page gets it: static/js/live.js (the one socket module,
// which static/js/kanban/socket.js connects through) checks each event's `seq`: a gap asks for a
// resync and the event is not applied, a repeat is dropped; the snapshot that answers replaces
// the board (static/js/kanban/state.js). live.js needs a browser, so this file gives it a fake
// window, document and WebSocket (node runs each test file in a process of its own).

import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";

const sockets = [];

class FakeSocket {
  static OPEN = 1;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.listeners = {};
    sockets.push(this);
  }
  addEventListener(type, handler) {
    (this.listeners[type] ||= []).push(handler);
  }
  send(data) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    for (const handler of this.listeners.open || []) handler({});
  }
  receive(msg) {
    for (const handler of this.listeners.message || []) handler({ data: JSON.stringify(msg) });
  }
}

globalThis.WebSocket = FakeSocket;
globalThis.window = {
  addEventListener() {},
  location: { protocol: "http:", host: "board.test", pathname: "/kanban/", search: "" },
};
globalThis.document = {
  getElementById: () => null,
  addEventListener() {},
  body: { dataset: {} },
  visibilityState: "visible",
};

const { connectLive } = await import("../../static/js/live.js");
const { applyEvent, applySnapshot, cellKey, createState } = await import("../../static/js/kanban/state.js");

const LANES = [{ id: 1, position: 0, department: "marketing" }];
const COLUMNS = [
  { id: 10, position: 0, name: "Backlog", is_done: false, wip_limit: null },
  { id: 20, position: 1, name: "Review", is_done: false, wip_limit: null },
];
const card = (id, column, position, version = 1) => ({
  id, lane: 1, column, position, version, title: `Card ${id}`, type: "task", department: "marketing",
  labels: [], assignees: [], checklist: [], links: [],
});
const snapshot = (seq, cards) => ({ type: "board.snapshot", seq, lanes: LANES, columns: COLUMNS, cards });
const moved = (seq, id, column, version) => ({ type: "card.moved", seq, by: "rick", card: card(id, column, 0, version) });

/** The board page's wiring: snapshots replace the state, events apply to it. */
function board() {
  const state = createState();
  const seen = [];
  const conn = connectLive("/ws/kanban/1/", {
    onSnapshot(msg) {
      seen.push(`snapshot ${msg.seq}`);
      applySnapshot(state, msg);
    },
    onEvent(msg) {
      seen.push(`event ${msg.seq}`);
      applyEvent(state, msg, "me");
    },
  });
  const socket = sockets[sockets.length - 1];
  socket.open();
  return { state, seen, conn, socket };
}

const open = [];
beforeEach(() => {
  sockets.length = 0;
});
after(() => {
  for (const conn of open) conn.close(); // stops the ping timers
});

describe("seq on the board's socket", () => {
  test("it connects to the board's path", () => {
    const { conn, socket } = board();
    open.push(conn);
    assert.equal(socket.url, "ws://board.test/ws/kanban/1/");
  });

  test("events in sequence after the snapshot are applied", () => {
    const { state, seen, conn, socket } = board();
    open.push(conn);
    socket.receive(snapshot(7, [card(1, 10, 0), card(2, 10, 1)]));
    socket.receive(moved(8, 1, 20, 2));
    socket.receive(moved(9, 2, 20, 2));
    assert.deepEqual(seen, ["snapshot 7", "event 8", "event 9"]);
    assert.deepEqual(state.order.get(cellKey(1, 20)), [2, 1]);
    assert.deepEqual(socket.sent.filter((m) => m.type === "resync"), []);
  });

  test("a gap asks for a resync and skips the event; the snapshot that answers repairs the board", () => {
    const { state, seen, conn, socket } = board();
    open.push(conn);
    socket.receive(snapshot(7, [card(1, 10, 0), card(2, 10, 1)]));
    socket.receive(moved(9, 2, 20, 3)); // 8 was missed
    assert.deepEqual(socket.sent, [{ type: "resync" }]);
    assert.deepEqual(seen, ["snapshot 7"], "the event after the gap is not applied");
    assert.deepEqual(state.order.get(cellKey(1, 10)), [1, 2]);

    socket.receive(snapshot(9, [card(1, 20, 0, 2), card(2, 20, 1, 3)]));
    socket.receive(moved(10, 1, 10, 3));
    assert.deepEqual(seen, ["snapshot 7", "snapshot 9", "event 10"]);
    assert.deepEqual(state.order.get(cellKey(1, 10)), [1]);
    assert.deepEqual(state.order.get(cellKey(1, 20)), [2]);
    assert.equal(socket.sent.length, 1, "one resync only");
  });

  test("a repeat (or an older seq) is dropped without a resync", () => {
    const { state, seen, conn, socket } = board();
    open.push(conn);
    socket.receive(snapshot(7, [card(1, 10, 0)]));
    socket.receive(moved(8, 1, 20, 2));
    socket.receive(moved(8, 1, 20, 2));
    socket.receive(moved(6, 1, 10, 1));
    assert.deepEqual(seen, ["snapshot 7", "event 8"]);
    assert.equal(state.where.get(1), cellKey(1, 20));
    assert.deepEqual(socket.sent, []);
  });

  test("a snapshot resets the count: the next event follows the snapshot's seq, not the last event's", () => {
    const { seen, conn, socket } = board();
    open.push(conn);
    socket.receive(snapshot(7, [card(1, 10, 0)]));
    socket.receive(moved(8, 1, 20, 2));
    socket.receive(snapshot(3, [card(1, 20, 0, 2)])); // e.g. the board was reset
    socket.receive(moved(4, 1, 10, 3));
    assert.deepEqual(seen, ["snapshot 7", "event 8", "snapshot 3", "event 4"]);
    assert.deepEqual(socket.sent, []);
  });
});
