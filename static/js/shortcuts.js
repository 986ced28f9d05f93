// Keyboard shortcuts on every page (templates/base.html loads this module): "/" focuses the
// page's search or filter box, "?" opens the help overlay (#shortcuts-help, a modal <dialog>:
// Esc closes it, Tab stays inside), "g" then a letter goes to a page. The footer's "Keyboard
// shortcuts (?)" opens the same overlay. What a key does is decided in shortcut_keys.js.

import { goTargets, initialState, isTyping, letterFor, press, trapStep } from "./shortcut_keys.js";

const dialog = document.getElementById("shortcuts-help");
// The page's search box: marked, or the first search field, or a field of a search form.
const SEARCH_BOXES = [
  "[data-shortcut-search]",
  'input[type="search"]',
  '[role="search"] input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"])',
];
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

let state = initialState();
let returnFocus = null;

/** The help lists the pages this person's navigation has, each with its letter. */
function setupGoList() {
  const urls = [];
  for (const row of dialog ? dialog.querySelectorAll("[data-go-url]") : []) {
    const url = row.dataset.goUrl;
    const letter = letterFor(url);
    if (!letter) continue;
    row.querySelector("[data-role=letter]").textContent = letter;
    row.hidden = false;
    urls.push(url);
  }
  return goTargets(urls);
}

const go = setupGoList();

function visible(node) {
  return node.getClientRects().length > 0 && !node.disabled;
}

function focusSearch() {
  for (const selector of SEARCH_BOXES) {
    const box = [...document.querySelectorAll(selector)].find(visible);
    if (!box) continue;
    box.focus();
    if (typeof box.select === "function") box.select();
    return true;
  }
  return false;
}

function openHelp() {
  if (!dialog || dialog.open) return;
  returnFocus = document.activeElement;
  dialog.showModal();
  dialog.querySelector("[data-shortcuts-close]")?.focus();
}

function closeHelp() {
  if (dialog && dialog.open) dialog.close();
}

function setupDialog() {
  if (!dialog) return;
  dialog.addEventListener("close", () => {
    if (returnFocus && returnFocus.isConnected && typeof returnFocus.focus === "function") returnFocus.focus();
    returnFocus = null;
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) closeHelp();
  });
  // Tab and Shift+Tab go round the dialog's controls and never leave it.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const items = [...dialog.querySelectorAll(FOCUSABLE)].filter(visible);
    const next = trapStep(items.indexOf(document.activeElement), items.length, event.shiftKey);
    event.preventDefault();
    if (next >= 0) items[next].focus();
  });
}

function onKey(event) {
  if (event.defaultPrevented) return;
  // A dialog is open (this help, a card, a form): its own keys only.
  if (document.querySelector("dialog[open]")) return;
  const result = press(
    state,
    {
      key: event.key,
      ctrlKey: event.ctrlKey,
      metaKey: event.metaKey,
      altKey: event.altKey,
      repeat: event.repeat,
      isComposing: event.isComposing,
      typing: isTyping(event.target),
    },
    { go, now: event.timeStamp },
  );
  state = result.state;
  const action = result.action;
  if (!action) return;
  if (action.type === "help") {
    event.preventDefault();
    openHelp();
  } else if (action.type === "search") {
    if (focusSearch()) event.preventDefault(); // no box here: the key does what it always did
  } else if (action.type === "go") {
    event.preventDefault();
    window.location.assign(action.url);
  }
}

setupDialog();
document.addEventListener("keydown", onKey);
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  if (target.closest("[data-shortcuts-open]")) openHelp();
  else if (target.closest("[data-shortcuts-close]")) closeHelp();
});
