// The keyboard shortcuts' pure logic (no DOM; unit-tested in node, tests/js/shortcuts.test.mjs):
// which key, or key sequence, does what. static/js/shortcuts.js wires it to the page.
//
//   /          focus the page's search or filter box
//   ?          the help overlay listing the shortcuts
//   g, letter  go to a page (within SEQUENCE_MS of the g)
//
// Nothing fires while someone types in a field, or with Ctrl, Alt or Meta (⌘) held: those keys
// belong to the browser and the system. Shift is allowed, as "?" needs it on most keyboards.

/** g then a letter: the page it goes to (the paths of the site navigation's links). */
export const GO_LETTERS = Object.freeze({
  d: "/",
  k: "/kanban/",
  i: "/kpi/",
  p: "/parameters/",
  v: "/valuation/",
  r: "/risk/",
  c: "/compliance/",
  n: "/notifications/",
  m: "/imports/",
  u: "/people/",
  a: "/audit/",
});

/** How long after "g" its letter may come, in milliseconds. */
export const SEQUENCE_MS = 1500;

const MODIFIER_KEYS = new Set(["Shift", "Control", "Alt", "Meta", "AltGraph", "CapsLock", "OS"]);
const TEXTLESS_INPUTS = new Set([
  "button", "checkbox", "color", "file", "hidden", "image", "radio", "range", "reset", "submit",
]);

function pathOf(url) {
  return String(url).split(/[?#]/)[0];
}

/** The letter that goes to `url` (its path: the query does not count), or "" when none does. */
export function letterFor(url) {
  const path = pathOf(url);
  const hit = Object.entries(GO_LETTERS).find(([, target]) => target === path);
  return hit ? hit[0] : "";
}

/** {letter: url} for the pages among `urls` (the links of this person's navigation, used as
 * they are: the dashboard's link may carry a query). */
export function goTargets(urls) {
  const targets = {};
  for (const url of urls) {
    const letter = letterFor(url);
    if (letter && !(letter in targets)) targets[letter] = url;
  }
  return targets;
}

/** True when `target` (an element, or anything with tagName, type, isContentEditable) takes
 * typed text: a text-like input, a textarea, a select (it types ahead) or editable content. */
export function isTyping(target) {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = String(target.tagName || "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !TEXTLESS_INPUTS.has(String(target.type || "text").toLowerCase());
  return false;
}

/** The state between key presses: when a "g" was pressed (null: no sequence going). */
export function initialState() {
  return { pendingSince: null };
}

/**
 * What one key press does. `event`: {key, ctrlKey, metaKey, altKey, repeat, isComposing,
 * typing}; `go`: {letter: url}; `now`: a time in ms. Returns {state, action}, action being null
 * or {type: "help"} | {type: "search"} | {type: "pending"} (a "g", waiting for its letter) |
 * {type: "go", url}.
 */
export function press(state, event, { go = GO_LETTERS, now = 0 } = {}) {
  const idle = initialState();
  if (MODIFIER_KEYS.has(event.key)) return { state, action: null };
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || event.typing) {
    return { state: idle, action: null };
  }
  const pending = state.pendingSince !== null && now - state.pendingSince <= SEQUENCE_MS;
  if (pending && Object.hasOwn(go, event.key)) {
    return { state: idle, action: { type: "go", url: go[event.key] } };
  }
  // Anything else ends a sequence, then counts as itself.
  if (event.key === "?") return { state: idle, action: { type: "help" } };
  if (event.key === "/") return { state: idle, action: { type: "search" } };
  if (event.key === "g" && !event.repeat) {
    return { state: { pendingSince: now }, action: { type: "pending" } };
  }
  return { state: idle, action: null };
}

/** Tab inside a dialog: the index to focus among `count` elements after `index` (-1: none
 * focused), wrapping around at both ends. -1 when there is nothing to focus. */
export function trapStep(index, count, backwards) {
  if (count <= 0) return -1;
  if (index < 0 || index >= count) return backwards ? count - 1 : 0;
  return (index + (backwards ? count - 1 : 1)) % count;
}
