// Moving cards on the shared board (/kanban/): with the mouse (HTML5 drag and drop, a
// placeholder shows where the card will land), a finger or a pen (pointer events, the same
// placeholder; drag_geometry.js has the pure parts) or the keyboard (Space picks up, arrows move,
// Space drops, Escape cancels); and the board's clicks (open a card, "show more", a cell's "+").
//
// Moves are optimistic: the card moves at once, then POST /api/kanban/cards/<id>/move/
// {lane, column, position, version} → 200 (warnings, handoff) | 400 (hard WIP limit: the card
// goes back and the server's reason is shown) | 409 (someone moved it first: the card is shown
// as it is now, and who changed it). While a card is lifted, live events wait (state.busy) and
// apply on drop.

import { el } from "../common.js";
import {
  cellKey,
  keyStep,
  keyTarget,
  lift,
  moveOptimistically,
  rollbackMove,
  settleMove,
  toggleMore,
  wouldRefuse,
} from "./state.js";
import {
  announce,
  api,
  CAN_EDIT,
  columnName,
  departmentName,
  failure,
  laneName,
  S,
  t,
  toast,
  whoChanged,
} from "./page.js";
import { boardEl, flash, paintCell, repaint, showAnswer, view } from "./render.js";
import { openDrawer } from "./drawer.js";
import { openNewCard } from "./new_card.js";
import { flushQueue } from "./socket.js";
import { edgeSpeed, insertionIndex, passedThreshold } from "./drag_geometry.js";

/** Move card `id` to (lane, column, position) at once, then ask the server. */
async function moveCard(id, laneId, columnId, position, version) {
  const card = S.cards.get(id);
  if (!card) return;
  const { fromKey, fromIndex, toKey, same } = moveOptimistically(S, id, laneId, columnId, position);
  if (same) {
    repaint([fromKey]);
    return;
  }
  repaint([fromKey, toKey]);
  const { status, data } = await api("POST", `/api/kanban/cards/${id}/move/`, {
    lane: laneId,
    column: columnId,
    position,
    version: version ?? card.version,
  });
  const pending = settleMove(S, id);
  if (status === 200) {
    const { warnings = [], handoff = false, rebalanced, ...answer } = data;
    void rebalanced;
    if (!showAnswer(answer)) repaint([toKey]);
    for (const warning of warnings) toast(t("softWarning", { message: warning }), "warn", { ms: 9000 });
    if (handoff) toast(t("handedOff", { id, department: departmentName(S.laneById.get(laneId).department) }), "ok");
    announce(t("dropped", { id, lane: laneName(S.laneById.get(laneId)), column: columnName(S.columnById.get(columnId)), position: position + 1 }));
    return;
  }
  // Refused: back to where it was (unless someone else moved it meanwhile: then it is there).
  const rollback = () => {
    rollbackMove(S, id, fromKey, fromIndex, pending);
    repaint([fromKey, toKey]);
  };
  if (status === 409 && data && data.card) {
    rollback();
    showAnswer(data.card, { force: true });
    const by = await whoChanged(id);
    toast(t("moveConflict", { who: by, id }), "error");
    flash(id);
    return;
  }
  rollback();
  const message = failure(status, data);
  toast(status === 400 ? t("moveRefused", { message }) : message, "error");
  announce(t("moveRefused", { message }));
  flash(id);
}

// ---- mouse, finger and pen: what both ways of dragging share -----------------------------------

let placeholder = null;
let dropTarget = null;

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

/** Lift card `node` for dragging: the model knows, and a placeholder its height is made. */
function liftForDrag(node, id) {
  lift(S, "drag", id);
  placeholder = el("div", { cls: "kb-placeholder", attrs: { "aria-hidden": "true" } });
  placeholder.style.height = `${node.offsetHeight}px`;
}

/** The dragged card is over `cell` at height `clientY`: mark the cell (would the server refuse?)
 * and put the placeholder where the card would land. */
function hoverCell(cell, clientY) {
  const laneId = Number(cell.dataset.lane);
  const columnId = Number(cell.dataset.column);
  if (!dropTarget || dropTarget.cell !== cell) {
    for (const other of boardEl.querySelectorAll(".kb-cell.is-over, .kb-cell.is-refusing")) {
      other.classList.remove("is-over", "is-refusing");
    }
    cell.classList.add(wouldRefuse(S, S.busy.id, laneId, columnId) ? "is-refusing" : "is-over");
  }
  dropTarget = { cell, laneId, columnId };
  const list = cell.querySelector(".kb-cell__cards");
  // Reads first (card middles), then one write (the placeholder).
  const others = [...list.children].filter((node) => node !== placeholder && !node.classList.contains("is-dragging"));
  const middles = others.map((node) => {
    const box = node.getBoundingClientRect();
    return box.top + box.height / 2;
  });
  const before = others[insertionIndex(middles, clientY)] || null;
  if (placeholder.parentNode !== list || placeholder.nextSibling !== before) list.insertBefore(placeholder, before);
}

/** The dragged card is over no cell: a drop now would put it back. */
function hoverNowhere() {
  if (!dropTarget) return;
  for (const cell of boardEl.querySelectorAll(".kb-cell.is-over, .kb-cell.is-refusing")) {
    cell.classList.remove("is-over", "is-refusing");
  }
  if (placeholder) placeholder.remove();
  dropTarget = null;
}

/** Drop the dragged card where the placeholder is: the one move call of every way of moving. */
function dropOnTarget() {
  const { id, version } = S.busy;
  const { laneId, columnId } = dropTarget;
  const position = dropPosition(id, laneId, columnId, placeholder);
  clearDragMarks();
  const node = view.nodes.get(id);
  if (node) node.classList.remove("is-dragging");
  endBusy();
  moveCard(id, laneId, columnId, position, version);
}

/** The drag ended without a drop: nothing moves. */
function cancelDrag(id) {
  clearDragMarks();
  const node = view.nodes.get(id);
  if (node) node.classList.remove("is-dragging");
  endBusy();
}

// ---- mouse (HTML5 drag and drop) ----------------------------------------------------------------

function setupMouse() {
  boardEl.addEventListener("dragstart", (event) => {
    const node = event.target.closest && event.target.closest(".kb-card");
    if (!node) return;
    // A finger or pen drags with pointer events (below): no native drag on a long press.
    if (touch || S.busy) {
      event.preventDefault();
      return;
    }
    const id = Number(node.dataset.id);
    if (S.pending.has(id)) {
      event.preventDefault();
      return;
    }
    liftForDrag(node, id);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", String(id));
    requestAnimationFrame(() => node.classList.add("is-dragging"));
  });

  boardEl.addEventListener("dragover", (event) => {
    if (!S.busy || S.busy.kind !== "drag" || touch) return;
    const cell = event.target.closest && event.target.closest(".kb-cell");
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    hoverCell(cell, event.clientY);
  });

  boardEl.addEventListener("drop", (event) => {
    if (!S.busy || S.busy.kind !== "drag" || !dropTarget || touch) return;
    event.preventDefault();
    dropOnTarget();
  });

  boardEl.addEventListener("dragend", (event) => {
    const node = event.target.closest && event.target.closest(".kb-card");
    if (node) node.classList.remove("is-dragging");
    if (S.busy && S.busy.kind === "drag" && !touch) cancelDrag(S.busy.id);
  });
}

// ---- finger and pen (pointer events) ------------------------------------------------------------
//
// A press on a card that moves past DRAG_THRESHOLD lifts it: a copy follows the pointer, the
// placeholder shows where it lands, the board scrolls near its edges; lifting the finger drops it
// (the same move call as the mouse). A press that does not move is a tap and opens the card. Cards
// that may be moved have `touch-action: none` (app.css), so the page does not scroll under them
// and still scrolls from anywhere else.

let touch = null; // the press or drag going on: {id, node, pointerId, x0, y0, x, y, ...}
let swallowClick = false; // the click a pen may send after a drag does not open the card

function scroller() {
  return boardEl.closest(".kb-scroll") || boardEl.parentElement;
}

function placeGhost() {
  const { ghost, x, y, offsetX, offsetY } = touch;
  ghost.style.transform = `translate(${x - offsetX}px, ${y - offsetY}px) rotate(-1.5deg)`;
}

function trackPoint() {
  const hit = document.elementFromPoint(touch.x, touch.y);
  const cell = hit && hit.closest(".kb-cell");
  if (cell && boardEl.contains(cell)) hoverCell(cell, touch.y);
  else hoverNowhere();
}

function autoScroll() {
  if (!touch || !touch.started) return;
  let moved = false;
  const box = scroller();
  if (box) {
    const rect = box.getBoundingClientRect();
    const dx = edgeSpeed(touch.x, rect.left, rect.right);
    if (dx) {
      const before = box.scrollLeft;
      box.scrollLeft += dx;
      moved = moved || box.scrollLeft !== before;
    }
  }
  const dy = edgeSpeed(touch.y, 0, window.innerHeight);
  if (dy) {
    const before = window.scrollY;
    window.scrollBy(0, dy);
    moved = moved || window.scrollY !== before;
  }
  const list = dropTarget && dropTarget.cell.querySelector(".kb-cell__cards");
  if (list && list.scrollHeight > list.clientHeight) {
    const rect = list.getBoundingClientRect();
    const dl = edgeSpeed(touch.y, rect.top, rect.bottom, { margin: 32, max: 12 });
    if (dl) {
      const before = list.scrollTop;
      list.scrollTop += dl;
      moved = moved || list.scrollTop !== before;
    }
  }
  if (moved) trackPoint();
  touch.frame = requestAnimationFrame(autoScroll);
}

function startTouchDrag() {
  const { node, id } = touch;
  liftForDrag(node, id);
  const box = node.getBoundingClientRect();
  const ghost = node.cloneNode(true);
  ghost.classList.add("kb-ghost");
  for (const name of ["data-id", "tabindex", "draggable", "role", "aria-label", "aria-roledescription"]) ghost.removeAttribute(name);
  ghost.setAttribute("aria-hidden", "true");
  ghost.style.width = `${box.width}px`;
  document.body.append(ghost);
  touch.ghost = ghost;
  touch.started = true;
  node.classList.add("is-dragging");
  placeGhost();
  const card = S.cards.get(id);
  announce(t("pickedUp", { id, title: card ? card.title : "" }));
  touch.frame = requestAnimationFrame(autoScroll);
}

function endTouch() {
  if (!touch) return;
  cancelAnimationFrame(touch.frame);
  if (touch.ghost) touch.ghost.remove();
  try {
    if (touch.node.hasPointerCapture(touch.pointerId)) touch.node.releasePointerCapture(touch.pointerId);
  } catch {
    // the card left the page meanwhile
  }
  window.removeEventListener("pointermove", onTouchMove);
  window.removeEventListener("pointerup", onTouchUp);
  window.removeEventListener("pointercancel", onTouchCancel);
  touch = null;
}

function onTouchMove(event) {
  if (!touch || event.pointerId !== touch.pointerId) return;
  touch.x = event.clientX;
  touch.y = event.clientY;
  if (!touch.started) {
    if (!passedThreshold(touch.x - touch.x0, touch.y - touch.y0)) return;
    if (S.busy) {
      endTouch(); // a keyboard move is going on
      return;
    }
    startTouchDrag();
  }
  event.preventDefault();
  placeGhost();
  trackPoint();
}

function onTouchUp(event) {
  if (!touch || event.pointerId !== touch.pointerId) return;
  if (!touch.started) {
    endTouch(); // a tap: the click that follows opens the card
    return;
  }
  event.preventDefault();
  touch.x = event.clientX;
  touch.y = event.clientY;
  trackPoint();
  // A pen may send a click after the drag; a finger sends none, so the flag must not outlive
  // this turn (or the next keyboard "click" on the board would be lost).
  swallowClick = true;
  setTimeout(() => {
    swallowClick = false;
  }, 0);
  const { id } = touch;
  endTouch();
  if (dropTarget) dropOnTarget();
  else cancelDrag(id);
}

function onTouchCancel(event) {
  if (!touch || event.pointerId !== touch.pointerId) return;
  const { id, started } = touch;
  endTouch();
  if (started) cancelDrag(id);
}

function setupTouch() {
  boardEl.addEventListener("pointerdown", (event) => {
    swallowClick = false; // a new press: its click counts
    if (event.pointerType === "mouse" || !event.isPrimary || event.button !== 0 || touch) return;
    const node = event.target.closest && event.target.closest('.kb-card[draggable="true"]');
    if (!node || S.busy) return;
    const id = Number(node.dataset.id);
    if (S.pending.has(id)) return;
    const box = node.getBoundingClientRect();
    touch = {
      id,
      node,
      pointerId: event.pointerId,
      x0: event.clientX,
      y0: event.clientY,
      x: event.clientX,
      y: event.clientY,
      offsetX: event.clientX - box.left,
      offsetY: event.clientY - box.top,
      started: false,
      ghost: null,
      frame: 0,
    };
    try {
      node.setPointerCapture(event.pointerId);
    } catch {
      // not capturable (the pointer is gone already): the window listeners still follow it
    }
    window.addEventListener("pointermove", onTouchMove, { passive: false });
    window.addEventListener("pointerup", onTouchUp);
    window.addEventListener("pointercancel", onTouchCancel);
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

// ---- keyboard -----------------------------------------------------------------------------------

/** Show the lifted card where it would land, and say so to screen readers. */
function previewKeys() {
  const busy = S.busy;
  const node = view.nodes.get(busy.id);
  const key = cellKey(busy.laneId, busy.columnId);
  const parts = view.cells.get(key);
  const ids = (S.order.get(key) || []).filter((x) => x !== busy.id);
  const nextId = ids[busy.index];
  const nextNode = nextId !== undefined ? view.nodes.get(nextId) : null;
  if (nextNode && nextNode.parentNode === parts.list) parts.list.insertBefore(node, nextNode);
  else parts.list.append(node);
  delete parts.list.dataset.empty;
  for (const cell of boardEl.querySelectorAll(".kb-cell.is-over, .kb-cell.is-refusing")) cell.classList.remove("is-over", "is-refusing");
  parts.cell.classList.add(wouldRefuse(S, busy.id, busy.laneId, busy.columnId) ? "is-refusing" : "is-over");
  node.focus({ preventScroll: false });
  node.scrollIntoView({ block: "nearest", inline: "nearest" });
  const { lane, column, count } = keyTarget(S);
  announce(t("movedTo", { lane: laneName(lane), column: columnName(column), position: busy.index + 1, count }));
}

function keyMove(dx, dy) {
  if (keyStep(S, dx, dy)) previewKeys();
}

function keyCancel() {
  const busy = S.busy;
  const node = view.nodes.get(busy.id);
  if (node) node.classList.remove("is-lifted");
  clearDragMarks();
  S.busy = null;
  repaint([busy.fromKey, cellKey(busy.laneId, busy.columnId)]);
  announce(t("cancelled", { id: busy.id }));
  flushQueue();
  const again = view.nodes.get(busy.id);
  if (again && again.isConnected) again.focus();
}

function keyDrop() {
  const busy = S.busy;
  const node = view.nodes.get(busy.id);
  if (node) node.classList.remove("is-lifted");
  clearDragMarks();
  S.busy = null;
  flushQueue();
  moveCard(busy.id, busy.laneId, busy.columnId, busy.index, busy.version).then(() => {
    const again = view.nodes.get(busy.id);
    if (again && again.isConnected) again.focus({ preventScroll: true });
  });
}

function setupKeys() {
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
      const busy = lift(S, "keys", id);
      const [laneId, columnId] = busy.fromKey.split(":").map(Number);
      Object.assign(busy, { laneId, columnId, index: S.order.get(busy.fromKey).indexOf(id) });
      node.classList.add("is-lifted");
      const card = S.cards.get(id);
      announce(t("pickedUp", { id, title: card.title }));
    }
  });
}

function setupClicks() {
  boardEl.addEventListener("click", (event) => {
    if (swallowClick) {
      swallowClick = false;
      return;
    }
    const more = event.target.closest("[data-more]");
    if (more) {
      const key = more.dataset.more;
      toggleMore(S, key);
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

/** Wire the board's pointer and keyboard handling (drag and drop only for those who may edit). */
export function setupMoves() {
  if (!boardEl) return;
  if (CAN_EDIT) {
    setupMouse();
    setupTouch();
  }
  setupKeys();
  setupClicks();
}
