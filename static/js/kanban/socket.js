// The shared board's live feed (/ws/kanban/<id>/), through the one socket module live.js: it
// connects and reconnects (with backoff), checks `seq` and asks for a resync on a gap (the
// server then sends a fresh `board.snapshot`), and drops repeats. Here: each snapshot replaces
// the board, each event changes the cells it touches and says who did what; while a card is
// being moved (mouse or keyboard) both wait in the queue and apply on drop (flushQueue). When no
// snapshot comes at all, the board is read once over HTTP.

import { connectLive } from "../live.js";
import { admit, applyEvent, applySnapshot, queuedFromOthers, takeQueue } from "./state.js";
import { api, columnName, config, laneName, ME, root, S, t, toast, who } from "./page.js";
import { flash, forgetNode, paintSnapshot, repaint } from "./render.js";
import { drawerGone, openDrawer, syncDrawer } from "./drawer.js";

const SNAPSHOT_GRACE_MS = 5000;

function loadSnapshot(snapshot) {
  const { reshape } = applySnapshot(S, snapshot);
  paintSnapshot(reshape);
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
  const verdict = admit(S, msg);
  if (verdict === "queue") noteQueued();
  else if (verdict === "apply") showEvent(msg);
}

/** Say once that others' changes wait for the drop (not for each one). */
function noteQueued() {
  const others = queuedFromOthers(S, ME);
  if (others === 1) toast(t("queued", { n: others }), "info", { ms: 4000 });
}

/** Apply what waited while a card was being moved, in the order it came. */
export function flushQueue() {
  for (const msg of takeQueue(S)) {
    if (msg.type === "board.snapshot") loadSnapshot(msg);
    else showEvent(msg);
  }
}

/** Apply one event to the board, then show it: the card flashes and a toast says who did what
 * (not for the viewer's own changes); an open card follows it. */
function showEvent(msg) {
  const card = msg.card;
  const outcome = applyEvent(S, msg, ME);
  const { mine } = outcome;
  if (outcome.kind === "removed") {
    forgetNode(card.id);
    repaint(outcome.keys);
    if (S.drawer && S.drawer.id === card.id) drawerGone(msg.by);
    if (!mine) toast(t("liveDeleted", { who: who(msg.by), title: outcome.title }), "live");
    return;
  }
  if (outcome.kind === "stale") return;
  repaint(outcome.keys);
  if (!mine) {
    flash(card.id);
    const lane = S.laneById.get(card.lane);
    const column = S.columnById.get(card.column);
    const values = { who: who(msg.by), title: card.title, lane: laneName(lane), column: columnName(column) };
    if (msg.type === "card.moved") toast(t(msg.handoff ? "liveHandoff" : "liveMoved", values), "live");
    else if (msg.type === "card.created") toast(t("liveCreated", values), "live");
    else toast(t("liveUpdated", values), "live");
  }
  if (S.drawer && S.drawer.id === card.id) syncDrawer(card, msg.by, outcome.changed, mine);
}

/** No snapshot after a grace period (the socket cannot connect): read the board once. */
async function loadOnce() {
  if (S.snapshotSeen) return;
  const { status, data } = await api("GET", `/api/kanban/boards/${config.board}/`);
  if (status === 200 && !S.snapshotSeen) {
    loadSnapshot({ type: "board.snapshot", ...data });
    toast(t("offlineFallback"), "info");
  }
}

export function connectBoard() {
  connectLive(`/ws/kanban/${config.board}/`, {
    onSnapshot,
    onEvent,
    onStatus(state) {
      root.dataset.live = state;
    },
  });
  setTimeout(loadOnce, SNAPSHOT_GRACE_MS);
}
