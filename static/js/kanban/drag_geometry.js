// Pure geometry of dragging a card with a finger or a pen (drag.js): when a press becomes a drag,
// where among a cell's cards it lands, and how fast the board scrolls near its edges. No DOM:
// unit-tested in node (tests/js/kanban_drag.test.mjs).

/** How far (CSS pixels) a finger or pen must move before a press is a drag: less is a tap,
 * which opens the card. */
export const DRAG_THRESHOLD = 8;

/** True once a press has moved (dx, dy) at least `threshold` away from where it started. */
export function passedThreshold(dx, dy, threshold = DRAG_THRESHOLD) {
  return Math.hypot(dx, dy) >= threshold;
}

/** Where a card dropped at height `y` goes among cards whose vertical middles are `middles`
 * (top to bottom): the index of the first card it is above, or after the last one. */
export function insertionIndex(middles, y) {
  const at = middles.findIndex((middle) => y < middle);
  return at === -1 ? middles.length : at;
}

/**
 * Scroll speed (pixels per frame) for a pointer at `position` between `start` and `end` (a
 * scrolling box's edges): negative within `margin` of the start, positive within `margin` of
 * the end, faster the closer (up to `max`), 0 elsewhere and outside the box.
 */
export function edgeSpeed(position, start, end, { margin = 48, max = 18 } = {}) {
  if (!(end > start) || position < start || position > end) return 0;
  const band = Math.min(margin, (end - start) / 2);
  if (band <= 0) return 0;
  if (position < start + band) return -Math.ceil((max * (start + band - position)) / band);
  if (position > end - band) return Math.ceil((max * (position - (end - band))) / band);
  return 0;
}
