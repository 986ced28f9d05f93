// Unit tests of dragging a card by touch or pen (static/js/kanban/drag_geometry.js): tap or drag,
// where the card lands in a cell, auto-scroll near the board's edges.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DRAG_THRESHOLD, edgeSpeed, insertionIndex, passedThreshold } from "../../static/js/kanban/drag_geometry.js";

describe("passedThreshold", () => {
  test("a small wobble is still a tap, a move is a drag", () => {
    assert.equal(passedThreshold(0, 0), false);
    assert.equal(passedThreshold(3, 4), false); // 5 px
    assert.equal(passedThreshold(DRAG_THRESHOLD - 1, 0), false);
    assert.equal(passedThreshold(0, -DRAG_THRESHOLD), true);
    assert.equal(passedThreshold(6, 6), true); // 8.5 px, diagonal
    assert.equal(passedThreshold(2, 2, 2), true);
  });
});

describe("insertionIndex", () => {
  const middles = [100, 160, 220];
  test("above a card's middle: before it", () => {
    assert.equal(insertionIndex(middles, 50), 0);
    assert.equal(insertionIndex(middles, 99), 0);
    assert.equal(insertionIndex(middles, 100), 1);
    assert.equal(insertionIndex(middles, 200), 2);
  });
  test("below the last: at the end; an empty cell: first", () => {
    assert.equal(insertionIndex(middles, 221), 3);
    assert.equal(insertionIndex([], 10), 0);
  });
});

describe("edgeSpeed", () => {
  test("still in the middle, scrolling towards an edge near it, faster closer", () => {
    assert.equal(edgeSpeed(500, 0, 1000), 0);
    assert.ok(edgeSpeed(40, 0, 1000) < 0);
    assert.ok(edgeSpeed(960, 0, 1000) > 0);
    assert.ok(edgeSpeed(2, 0, 1000) < edgeSpeed(40, 0, 1000));
    assert.ok(edgeSpeed(998, 0, 1000) > edgeSpeed(960, 0, 1000));
    assert.equal(edgeSpeed(0, 0, 1000, { max: 10 }), -10);
    assert.equal(edgeSpeed(1000, 0, 1000, { max: 10 }), 10);
  });
  test("outside the box, or a box with no size: no scrolling", () => {
    assert.equal(edgeSpeed(-5, 0, 1000), 0);
    assert.equal(edgeSpeed(1005, 0, 1000), 0);
    assert.equal(edgeSpeed(5, 10, 10), 0);
  });
  test("a small box: the bands never overlap", () => {
    assert.equal(edgeSpeed(30, 0, 60), 0);
    assert.ok(edgeSpeed(10, 0, 60) < 0 && edgeSpeed(50, 0, 60) > 0);
  });
});
