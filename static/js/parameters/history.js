// The history drawer of the /parameters/ page: a parameter's versions (who, when, why), reloaded
// while open when the parameter changes, and reverting to an older version (managers).
//   GET {key}/history/ → [{version, old_value, new_value, changed_by, changed_at, action, …}]
//   POST {key}/revert/ {version, base_version, reason} → 200 {parameters} | 202 change request

import { button, el } from "../common.js";
import { renderPresets } from "./presets.js";
import { API, handleAnswer } from "./responses.js";
import { receiveParameters, upsertRequest } from "./tables.js";
import { sel, showErrors, toast } from "./ui.js";

export function openHistory(page, key) {
  const { t } = page;
  const drawer = document.getElementById("history-drawer");
  if (!drawer) return;
  page.historyKey = key;
  document.getElementById("history-title").textContent = t("historyTitle", { name: page.label(key) });
  document.getElementById("history-key").textContent = key;
  const note = [t("revertNote")];
  if (page.budgetKeys.includes(key)) note.push(t("revertBudgetNote"));
  const param = page.state.params.get(key);
  if (param && param.four_eyes) note.push(t("fourEyesNote"));
  document.getElementById("history-note").textContent = page.isManager ? note.join(" ") : "";
  drawer.hidden = false;
  document.getElementById("history-backdrop").hidden = false;
  drawer.focus();
  loadHistory(page, key);
}

export function closeHistory(page) {
  const key = page.historyKey;
  page.historyKey = null;
  document.getElementById("history-drawer").hidden = true;
  document.getElementById("history-backdrop").hidden = true;
  const opener = key && document.querySelector(`button[data-action=history][data-key="${sel(key)}"]`);
  if (opener) opener.focus({ preventScroll: true });
}

export async function loadHistory(page, key) {
  const body = document.getElementById("history-body");
  if (!body.childElementCount) body.replaceChildren(el("p", { cls: "muted", txt: page.t("loading") }));
  const response = await page.api("GET", `${API}${encodeURIComponent(key)}/history/`);
  if (page.historyKey !== key) return; // closed, or another parameter's opened meanwhile
  handleAnswer(
    response,
    page.t,
    {
      ok: ({ data }) => paintHistory(page, key, body, data),
      failed: ({ messages }) => body.replaceChildren(el("p", { cls: "field__error", txt: messages.join(" ") })),
    },
    { accept: Array.isArray },
  );
}

function paintHistory(page, key, body, data) {
  const { t } = page;
  const { formatTime, formatValue } = page.fmt;
  const param = page.state.params.get(key);
  if (!data.length) {
    body.replaceChildren(el("p", { cls: "params-empty", txt: t("historyEmpty") }));
    return;
  }
  const entries = data.map((row) => ({
    version: row.version,
    when: row.changed_at,
    who: row.changed_by || t("system"),
    change: [row.old_value, row.new_value],
    action: row.action,
    reason: row.reason,
    requestedBy: row.requested_by,
  }));
  const oldest = data[data.length - 1];
  if (oldest.version === 2) {
    entries.push({ version: 1, when: null, who: "", change: [null, oldest.old_value], action: "initial", reason: "" });
  }
  const head = el("tr", {}, [
    el("th", { txt: t("version"), attrs: { scope: "col" } }),
    el("th", { txt: t("when"), attrs: { scope: "col" } }),
    el("th", { txt: t("change"), attrs: { scope: "col" } }),
    el("th", { txt: t("why"), attrs: { scope: "col" } }),
    page.isManager ? el("th", { attrs: { scope: "col" } }, [el("span", { cls: "visually-hidden", txt: t("revert") })]) : null,
  ]);
  const rows = entries.map((entry) => {
    const isCurrent = param && entry.version === param.version;
    const change =
      entry.action === "initial"
        ? el("span", { txt: formatValue(param, entry.change[1]) })
        : el("span", {}, [
            el("span", { cls: "muted", txt: formatValue(param, entry.change[0]) }),
            " → ",
            el("strong", { txt: formatValue(param, entry.change[1]) }),
          ]);
    const whoLine =
      entry.action === "initial"
        ? t("initialVersion")
        : `${t(`action_${entry.action}`)} · ${entry.who}${entry.requestedBy ? ` (${t("approvedRequestOf", { who: entry.requestedBy })})` : ""}`;
    const cell = el("td", { cls: "history__actions" });
    if (page.isManager && !isCurrent) {
      const revert = button(t("revert"), { attrs: { "data-action": "revert", "data-version": String(entry.version) } });
      revert.addEventListener("click", () => confirmRevert(page, key, entry.version, cell));
      cell.append(revert);
    }
    return el("tr", { cls: isCurrent ? "is-current" : "", attrs: { "data-version": String(entry.version) } }, [
      el("td", {}, [
        el("span", { cls: "param-version", txt: `v${entry.version}` }),
        isCurrent ? el("span", { cls: "badge badge--ok history__current", txt: t("current") }) : null,
      ]),
      el("td", {}, [
        entry.when ? el("time", { txt: formatTime(entry.when), attrs: { datetime: entry.when } }) : null,
        el("span", { cls: "history__who", txt: whoLine }),
      ]),
      el("td", { cls: "history__change" }, [change]),
      el("td", { cls: "history__reason", txt: entry.reason || "—" }),
      page.isManager ? cell : null,
    ]);
  });
  body.replaceChildren(
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact history-table" }, [el("thead", {}, [head]), el("tbody", {}, rows)]),
    ]),
  );
}

function confirmRevert(page, key, version, cell) {
  const { t } = page;
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const yes = button(t("confirmRevert"), { cls: "button--primary button--small", attrs: { "data-action": "confirm-revert" } });
  const no = button(t("cancel"), { onClick: () => loadHistory(page, key) });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    // The version this page shows: a change made meanwhile elsewhere answers 409, not lost.
    const base_version = (page.state.params.get(key) || {}).version;
    const response = await page.api("POST", `${API}${encodeURIComponent(key)}/revert/`, {
      version,
      base_version,
      reason: "",
    });
    handleAnswer(response, t, {
      ok({ data }) {
        receiveParameters(page, data.parameters || []);
        renderPresets(page);
        toast(t("reverted"), "ok");
        loadHistory(page, key);
      },
      filed({ data }) {
        upsertRequest(page, data);
        toast(t("revertFiled", { id: data.id }), "ok");
        loadHistory(page, key);
      },
      failed({ messages }) {
        yes.disabled = false;
        showErrors(error, messages);
      },
    });
  });
  cell.replaceChildren(el("div", { cls: "history__confirm" }, [yes, no]), error);
  yes.focus();
}
