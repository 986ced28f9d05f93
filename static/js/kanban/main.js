// The shared board (/kanban/): lanes × columns, live for everyone, moved and edited by
// department heads and managers. The entry point (templates/kanban.html loads it as a module):
// it wires the filters (kept in the URL), the board's moves, the new-card dialog and the card
// drawer, then connects the live feed.
//
//   state.js     the board state and the pure functions that change it (unit-tested in node)
//   page.js      config, text, the one state object, API calls, toasts, announcements
//   render.js    the grid, the cells, the cards, the headline numbers, sparklines
//   drag.js      moving cards (mouse and keyboard), optimistic moves, the board's clicks
//   new_card.js  the new-card dialog
//   drawer.js    one card: details, editor, checklist, links, comments, history
//   socket.js    the live feed (live.js): snapshot, events, the queue while a card is moved

import { FILTER_NAMES } from "./state.js";
import { config, root, S } from "./page.js";
import { boardEl, paintAll } from "./render.js";
import { setupMoves } from "./drag.js";
import { newDialog, setupNewCard } from "./new_card.js";
import { setupDrawer } from "./drawer.js";
import { connectBoard } from "./socket.js";

// ---- filters (kept in the URL) ------------------------------------------------------------------

const filterForm = document.getElementById("kb-filters");

function readFilters() {
  const filters = {};
  if (!filterForm) return filters;
  for (const name of FILTER_NAMES) {
    const field = filterForm.elements.namedItem(name);
    if (!field) continue;
    filters[name] = field.type === "checkbox" ? (field.checked ? "1" : "") : field.value.trim();
  }
  return filters;
}

function filtersToUrl() {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTER_NAMES) {
    if (S.filters[name]) params.set(name, S.filters[name]);
    else params.delete(name);
  }
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
  const clear = document.getElementById("kb-clear");
  if (clear) clear.hidden = !FILTER_NAMES.some((name) => S.filters[name]);
}

function onFiltersChanged() {
  S.filters = readFilters();
  filtersToUrl();
  paintAll();
}

function setupFilters() {
  if (!filterForm) return;
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    onFiltersChanged();
  });
  filterForm.addEventListener("change", onFiltersChanged);
  let searchTimer = null;
  const search = filterForm.elements.namedItem("q");
  if (search) {
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(onFiltersChanged, 200);
    });
  }
  const clear = document.getElementById("kb-clear");
  if (clear) {
    clear.addEventListener("click", (event) => {
      event.preventDefault();
      for (const name of FILTER_NAMES) {
        const field = filterForm.elements.namedItem(name);
        if (!field) continue;
        if (field.type === "checkbox") field.checked = false;
        else field.value = "";
      }
      onFiltersChanged();
    });
  }
}

/** The headline numbers' overdue and alerts chips toggle their filter. */
function setupSummaryToggles() {
  document.getElementById("kb-summary")?.addEventListener("click", (event) => {
    const target = event.target.closest("[data-toggle-filter]");
    if (!target || !filterForm) return;
    const [name, value] = target.dataset.toggleFilter.split("=");
    const field = filterForm.elements.namedItem(name);
    if (!field) return;
    if (field.type === "checkbox") field.checked = !field.checked;
    else field.value = field.value === value ? "" : value;
    onFiltersChanged();
  });
}

// ---- start --------------------------------------------------------------------------------------

setupFilters();
for (const select of document.querySelectorAll("[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
setupSummaryToggles();
setupMoves();
setupNewCard();
setupDrawer({ newDialog });

if (root && config.board && boardEl) {
  S.filters = readFilters();
  connectBoard();
}
