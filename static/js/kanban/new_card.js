// The new-card dialog of the shared board (/kanban/): opened by the toolbar's button (in the
// viewer's own department's lane) or a cell's "+"; the card goes on top of its cell, where it is
// seen, and shows at once from the API's answer (its event then changes nothing).

import { splitLabels } from "./state.js";
import { api, config, failure, S, t, toast } from "./page.js";
import { flash, showAnswer, view } from "./render.js";

export const newDialog = document.getElementById("kb-new");
const newForm = document.getElementById("kb-new-form");

export function openNewCard(laneId, columnId) {
  if (!newDialog || !S.board) return;
  const laneSelect = newForm.elements.namedItem("lane");
  const columnSelect = newForm.elements.namedItem("column");
  if (laneId) laneSelect.value = String(laneId);
  else {
    const mine = S.lanes.find((lane) => lane.department === config.department);
    if (mine) laneSelect.value = String(mine.id);
  }
  columnSelect.value = String(columnId || S.columns[0].id);
  document.getElementById("kb-new-error").hidden = true;
  newDialog.showModal();
  newForm.elements.namedItem("title").focus();
}

export function setupNewCard() {
  document.getElementById("kb-new-open")?.addEventListener("click", () => openNewCard());
  newDialog?.querySelector("[data-close]")?.addEventListener("click", () => newDialog.close());
  newForm?.addEventListener("submit", submitNewCard);
}

async function submitNewCard(event) {
  event.preventDefault();
  const f = newForm.elements;
  const error = document.getElementById("kb-new-error");
  const title = f.namedItem("title").value.trim();
  if (!title) {
    error.textContent = t("badInput", { message: t("fieldTitle") });
    error.hidden = false;
    return;
  }
  const lane = Number(f.namedItem("lane").value);
  const body = {
    board: S.board.id,
    title,
    lane,
    column: Number(f.namedItem("column").value),
    position: 0, // on top of its cell, where it is seen
    type: f.namedItem("type").value,
    department: S.laneById.get(lane).department,
    description: f.namedItem("description").value,
    labels: splitLabels(f.namedItem("labels").value),
    assignees: [...f.namedItem("assignees").selectedOptions].map((o) => Number(o.value)),
  };
  if (f.namedItem("due_date").value) body.due_date = f.namedItem("due_date").value;
  const submit = document.getElementById("kb-new-submit");
  submit.disabled = true;
  const { status, data } = await api("POST", "/api/kanban/cards/", body);
  submit.disabled = false;
  if (status === 201) {
    showAnswer(data);
    newForm.reset();
    newDialog.close();
    toast(t("created", { id: data.id }), "ok");
    flash(data.id);
    const node = view.nodes.get(data.id);
    if (node && node.isConnected) {
      node.scrollIntoView({ block: "nearest" });
      node.focus({ preventScroll: true });
    }
    return;
  }
  error.textContent = t("badInput", { message: failure(status, data) });
  error.hidden = false;
}
