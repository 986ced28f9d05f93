// What /ws/parameters/ sends, applied to the /parameters/ page: the snapshot on connect and on
// every reconnect (it replaces), then `parameter.changed`, `change_request.created` and
// `change_request.decided`. The state changes are state.js's (pure, unit-tested); this module
// repaints what they touch. main.js opens the socket (live.js) with these handlers.
// A field someone is editing is never overwritten by a live change: its editor shows a notice.

import { noticeTheirChange } from "./editors.js";
import { loadHistory } from "./history.js";
import { renderPresets } from "./presets.js";
import { applyParameterChanged, applySnapshot } from "./state.js";
import { paintBudget, paintParam, renderPending, upsertRequest } from "./tables.js";
import { flash, toast } from "./ui.js";

function onParameterChanged(page, msg) {
  const param = applyParameterChanged(page.state, msg);
  if (!param) return; // a key not shown, or a version the page has already (its own save)
  paintParam(page, msg.key, { live: true });
  const editor = page.editors.get(msg.key);
  if (editor) noticeTheirChange(page, editor, param);
  const budgetKeys = page.budgetKeys;
  if (page.budgetEditor && budgetKeys.includes(msg.key)) page.budgetEditor.theirChange(param);
  renderPresets(page);
  renderPending(page);
  // A budget share's history shows the whole split: any share moving reloads it.
  const key = page.historyKey;
  if (key === msg.key || (budgetKeys.includes(key) && budgetKeys.includes(msg.key))) {
    loadHistory(page, key);
  }
}

function onSnapshot(page, msg) {
  const firstPaint = !page.snapshotSeen;
  page.snapshotSeen = true;
  const moved = applySnapshot(page.state, msg, { firstPaint });
  for (const key of page.state.params.keys()) paintParam(page, key, { live: moved.includes(key) });
  for (const [key, editor] of page.editors) noticeTheirChange(page, editor, page.state.params.get(key));
  if (page.budgetEditor) for (const key of page.budgetKeys) page.budgetEditor.theirChange(page.state.params.get(key));
  paintBudget(page);
  renderPending(page);
  renderPresets(page);
}

function onRequestEvent(page, msg) {
  const { t } = page;
  const request = msg.request;
  if (!request) return;
  const known = page.state.requests.has(request.id);
  upsertRequest(page, request);
  if (msg.type === "change_request.created" && !known) {
    flash(document.getElementById(`request-${request.id}`));
  }
  if (msg.type === "change_request.decided" && known) {
    const who = request.decided_by || t("system");
    const withdrawn = request.status === "rejected" && request.decided_by && request.decided_by === request.requested_by;
    const message = withdrawn
      ? t("withdrawnBy", { id: request.id, who })
      : request.status === "approved"
        ? t("approvedBy", { id: request.id, who })
        : t("rejectedBy", { id: request.id, who });
    toast(message, request.status === "approved" ? "ok" : "info");
  }
}

/** The handlers of connectLive (live.js) for the page. */
export function liveHandlers(page) {
  return {
    onSnapshot: (msg) => onSnapshot(page, msg),
    onEvent(msg) {
      if (msg.type === "parameter.changed") onParameterChanged(page, msg);
      else if (msg.type === "change_request.created" || msg.type === "change_request.decided") onRequestEvent(page, msg);
    },
  };
}
