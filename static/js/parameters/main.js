// The /parameters/ page: live values for everyone, in-place editing for managers.
//
// The server renders the tables and hands the page its state (json_script blocks
// `parameters-state`, `parameters-config`, `parameters-i18n`); this module builds the `page`
// every other module of the folder is given, paints, wires the controls and keeps everything
// live over /ws/parameters/ (live.js, handlers in socket.js). Every change goes through
// /api/parameters/, its answer read in one place (responses.js):
//   tables.js    the parameter rows, the budget bar, the pending changes (approve / reject)
//   editors.js   the inline editor of one value, its checks and conflict prompt; the what-if
//   presets.js   the budget split editor and the presets
//   history.js   the history drawer and reverting
//   calibration.js, socket.js; format.js, state.js, responses.js are pure (tests/js/parameters_*)

import { apiFetch, readJson, translator } from "../common.js";
import { connectLive } from "../live.js";
import { runCalibration } from "./calibration.js";
import { openEditor, setupWhatIfPanel } from "./editors.js";
import { createFormat } from "./format.js";
import { closeHistory, openHistory } from "./history.js";
import { openBudgetEditor, renderPresets } from "./presets.js";
import { liveHandlers } from "./socket.js";
import { createState } from "./state.js";
import { paintBudget, paintParam, renderPending, tickTimes } from "./tables.js";

const t = translator(readJson("parameters-i18n", {}));
const config = readJson("parameters-config", {});
const initial = readJson("parameters-state", { parameters: [], requests: [], presets: [] });

const page = {
  config,
  t,
  fmt: createFormat(config, t),
  isManager: Boolean(config.isManager),
  me: config.username || "",
  budgetKeys: config.budgetKeys || [],
  whatIfKeys: config.whatIfKeys || [],
  state: createState(initial),
  editors: new Map(), // key → open inline editor
  budgetEditor: null, // the open budget split editor
  historyKey: null, // the parameter whose history the drawer shows
  snapshotSeen: false, // the first snapshot only confirms what the server rendered

  label: (key) => (config.labels && config.labels[key]) || key,

  /** Call the API: {status, data}; status 0 when the server could not be reached. Anything but
   * GET sends a JSON body ({} when none is given) and the token of the page's csrf_token. */
  api(method, path, body, { signal } = {}) {
    return apiFetch(path, {
      method,
      body: method === "GET" ? undefined : body || {},
      signal,
      csrfScope: document.getElementById("params-page"),
    });
  },
};

function paintAll() {
  for (const key of page.state.params.keys()) paintParam(page, key);
  paintBudget(page);
  renderPending(page);
  renderPresets(page);
}

paintAll();
setupWhatIfPanel(page);

document.getElementById("params-page")?.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-action]");
  if (!target || !target.dataset.key) return;
  if (target.dataset.action === "edit") openEditor(page, target.dataset.key);
  else if (target.dataset.action === "history") openHistory(page, target.dataset.key);
});
document.getElementById("budget-edit")?.addEventListener("click", () => openBudgetEditor(page));
document.getElementById("run-calibration")?.addEventListener("click", () => runCalibration(page));
document.getElementById("history-close")?.addEventListener("click", () => closeHistory(page));
document.getElementById("history-backdrop")?.addEventListener("click", () => closeHistory(page));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && page.historyKey && !event.target.closest(".param-editor")) closeHistory(page);
});
setInterval(() => tickTimes(page), 30000);

connectLive("/ws/parameters/", liveHandlers(page));
