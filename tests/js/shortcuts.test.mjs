// Unit tests of the keyboard shortcuts' logic (static/js/shortcut_keys.js): key sequences to
// actions, what counts as typing, and the help dialog's focus trap.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  GO_LETTERS,
  SEQUENCE_MS,
  goTargets,
  initialState,
  isTyping,
  letterFor,
  press,
  trapStep,
} from "../../static/js/shortcut_keys.js";

/** Press `keys` in order (one every 100 ms unless a time is given); the actions, in order. */
function run(keys, options = {}) {
  let state = initialState();
  let now = 1000;
  const actions = [];
  for (const entry of keys) {
    const event = typeof entry === "string" ? { key: entry } : entry;
    now = event.at ?? now + 100;
    const result = press(state, event, { now, ...options });
    state = result.state;
    actions.push(result.action);
  }
  return actions;
}

describe("press", () => {
  test("? opens the help and / the search", () => {
    assert.deepEqual(run(["?"]), [{ type: "help" }]);
    assert.deepEqual(run(["/"]), [{ type: "search" }]);
  });

  test("g then a letter goes to its page", () => {
    assert.deepEqual(run(["g", "k"]), [{ type: "pending" }, { type: "go", url: "/kanban/" }]);
    const pages = { d: "/", k: "/kanban/", p: "/parameters/", i: "/kpi/", v: "/valuation/", r: "/risk/", c: "/compliance/", m: "/imports/" };
    for (const [letter, url] of Object.entries(pages)) {
      assert.deepEqual(run(["g", letter]).at(-1), { type: "go", url }, letter);
    }
  });

  test("a letter alone, or too long after the g, goes nowhere", () => {
    assert.deepEqual(run(["k"]), [null]);
    assert.deepEqual(run([{ key: "g", at: 0 }, { key: "k", at: SEQUENCE_MS + 1 }]), [{ type: "pending" }, null]);
    assert.deepEqual(run([{ key: "g", at: 0 }, { key: "k", at: SEQUENCE_MS }]).at(-1), { type: "go", url: "/kanban/" });
  });

  test("another key ends the sequence and counts as itself", () => {
    assert.deepEqual(run(["g", "x", "k"]), [{ type: "pending" }, null, null]);
    assert.deepEqual(run(["g", "?"]), [{ type: "pending" }, { type: "help" }]);
    assert.deepEqual(run(["g", "g", "k"]).at(-1), { type: "go", url: "/kanban/" });
  });

  test("Shift on its own keeps the sequence (a capital is another key)", () => {
    assert.deepEqual(run(["g", "Shift", "k"]).at(-1), { type: "go", url: "/kanban/" });
    assert.deepEqual(run(["g", "K"]).at(-1), null);
  });

  test("nothing fires while typing in a field", () => {
    assert.deepEqual(run([{ key: "?", typing: true }, { key: "/", typing: true }]), [null, null]);
    assert.deepEqual(run([{ key: "g", typing: true }, "k"]), [null, null]);
    assert.deepEqual(run(["g", { key: "k", typing: true }]), [{ type: "pending" }, null]);
  });

  test("nothing fires with Ctrl, Alt or Meta held, nor while composing", () => {
    for (const modifier of ["ctrlKey", "altKey", "metaKey", "isComposing"]) {
      assert.deepEqual(run([{ key: "?", [modifier]: true }]), [null], modifier);
      assert.deepEqual(run(["g", { key: "k", [modifier]: true }]).at(-1), null, modifier);
    }
  });

  test("a held g (key repeat) does not start a sequence", () => {
    assert.deepEqual(run([{ key: "g", repeat: true }, "k"]), [null, null]);
  });

  test("only the pages this person may open, by their navigation's links", () => {
    const go = goTargets(["/?home=1", "/kanban/", "/elsewhere/"]);
    assert.deepEqual(go, { d: "/?home=1", k: "/kanban/" });
    assert.deepEqual(run(["g", "d"], { go }).at(-1), { type: "go", url: "/?home=1" });
    assert.deepEqual(run(["g", "a"], { go }).at(-1), null);
    assert.deepEqual(run(["g", "k"], { go }).at(-1), { type: "go", url: "/kanban/" });
    assert.deepEqual(run(["g", "toString"], { go }).at(-1), null);
  });
});

describe("letters", () => {
  test("one letter per page, one page per letter", () => {
    const urls = Object.values(GO_LETTERS);
    assert.equal(new Set(urls).size, urls.length);
    for (const [letter, url] of Object.entries(GO_LETTERS)) {
      assert.match(letter, /^[a-z]$/);
      assert.equal(letterFor(url), letter);
    }
    assert.equal(letterFor("/nowhere/"), "");
    assert.equal(letterFor("/?home=1"), "d");
    assert.equal(letterFor("/kanban/?q=x#top"), "k");
  });
});

describe("isTyping", () => {
  test("text fields, text areas, selects and editable content", () => {
    for (const type of ["text", "search", "email", "number", "date", "password", undefined]) {
      assert.equal(isTyping({ tagName: "INPUT", type }), true, String(type));
    }
    assert.equal(isTyping({ tagName: "textarea" }), true);
    assert.equal(isTyping({ tagName: "SELECT" }), true);
    assert.equal(isTyping({ tagName: "DIV", isContentEditable: true }), true);
  });

  test("buttons, check boxes, links and the page are not typing", () => {
    for (const type of ["checkbox", "radio", "submit", "button", "range", "file"]) {
      assert.equal(isTyping({ tagName: "INPUT", type }), false, type);
    }
    assert.equal(isTyping({ tagName: "BUTTON" }), false);
    assert.equal(isTyping({ tagName: "A" }), false);
    assert.equal(isTyping({ tagName: "BODY", isContentEditable: false }), false);
    assert.equal(isTyping(null), false);
  });
});

describe("trapStep", () => {
  test("Tab wraps from the last to the first, Shift+Tab from the first to the last", () => {
    assert.equal(trapStep(0, 3, false), 1);
    assert.equal(trapStep(2, 3, false), 0);
    assert.equal(trapStep(0, 3, true), 2);
    assert.equal(trapStep(1, 3, true), 0);
  });

  test("from outside the list, and with nothing to focus", () => {
    assert.equal(trapStep(-1, 3, false), 0);
    assert.equal(trapStep(-1, 3, true), 2);
    assert.equal(trapStep(0, 1, false), 0);
    assert.equal(trapStep(-1, 0, false), -1);
  });
});
