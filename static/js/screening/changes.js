// The blacklist's four-eyes on the /risk/ page: the proposal form, the proposals waiting for risk
// control (confirm, reject, withdraw) and the history of changes (all entries, or one).
// Pure parts in proposals.js; wiring and DOM here. The lists are read again from
// GET /api/risk/blacklist/changes/ after every decision and with the queue's 30-second refresh.

import { apiFetch, button, el } from "../common.js";
import { allowedDecisions, changeDiff, proposalBody, proposalErrors } from "./proposals.js";
import { dateIn } from "./state.js";

const CHANGES = "/api/risk/blacklist/changes/";

/** "2026-12-05" of an instant, in the business zone. */
function day(page, iso) {
  return iso ? dateIn(iso, page.config.timeZone) : "";
}

function valueText(page, field, value) {
  if (value === null || value === undefined || value === "") {
    return field === "expires_at" ? page.t("never") : page.t("none");
  }
  if (field === "expires_at") return day(page, value);
  if (field === "department") return page.t(`dept_${value}`);
  return String(value);
}

/** One change as a list item: what it does, who proposed and decided it, the buttons allowed. */
export function changeItem(page, change, { onDecide } = {}) {
  const kind = page.t(`kind_${change.type}`);
  const title = page.t(`action_${change.action}`, {
    kind,
    value: change.masked_value || "–",
    entry: change.entry_id,
  });
  const diff = changeDiff(change).filter(([, , now]) => change.action !== "add" || now !== null);
  const imported = change.source === "import";
  const lines = [
    el("span", { cls: "scr-change__head" }, [
      el("span", { cls: "scr-change__title", txt: title }),
      el("span", { cls: `badge scr-change__status scr-change__status--${change.status}`, txt: page.t(`status_${change.status}`) }),
    ]),
    diff.length
      ? el(
          "span",
          { cls: "scr-change__diff" },
          diff.map(([field, old, now]) =>
            el("span", { cls: "scr-change__field", attrs: { "data-field": field } }, [
              el("span", { cls: "scr-change__label", txt: page.t("labelled", { label: page.t(`field_${field}`) }) }),
              " ",
              change.action === "add" ? "" : el("del", { txt: valueText(page, field, old) }),
              change.action === "add" ? "" : " → ",
              el("ins", { txt: valueText(page, field, now) }),
            ]),
          ),
        )
      : null,
    change.note && !imported ? el("span", { cls: "scr-change__note", txt: `“${change.note}”` }) : null,
    el("span", {
      cls: "scr-change__meta",
      txt: page.t(imported ? "importedBy" : "proposedBy", {
        who: change.proposed_by || "–",
        date: day(page, change.proposed_at),
      }),
    }),
    change.status !== "pending" && !imported
      ? el("span", {
          cls: "scr-change__meta",
          txt:
            page.t(`decidedBy_${change.status}`, {
              who: change.decided_by || "–",
              date: day(page, change.decided_at),
            }) + (change.decision_note ? ` — “${change.decision_note}”` : ""),
        })
      : null,
  ];
  const decisions = allowedDecisions(change, { username: page.config.username, mayConfirm: page.config.mayConfirm });
  if (decisions.length && onDecide) {
    lines.push(
      el(
        "span",
        { cls: "scr-change__actions" },
        decisions.map((decision) =>
          button(page.t(`decide_${decision}`), {
            cls: decision === "confirm" ? "button--primary button--small" : "button--secondary button--small",
            attrs: { "data-decide": decision, "data-change": String(change.id) },
            onClick: () => onDecide(change, decision),
          }),
        ),
      ),
    );
  }
  return el(
    "li",
    { cls: `scr-change scr-change--${change.status}`, attrs: { "data-change": String(change.id), "data-status": change.status } },
    lines,
  );
}

export function startProposals(page, { onListed }) {
  const state = {
    pending: Array.isArray(page.initial.pending) ? page.initial.pending : [],
    pendingCount: page.initial.pendingCount ?? 0,
    history: Array.isArray(page.initial.history) ? page.initial.history : [],
    historyEntry: null,
  };

  function paintPending() {
    const list = document.getElementById("pending-list");
    const count = document.getElementById("pending-count");
    if (count) count.textContent = String(state.pendingCount);
    if (!list) return;
    list.replaceChildren(
      ...(state.pending.length
        ? state.pending.map((change) => changeItem(page, change, { onDecide: decide }))
        : [el("li", { cls: "scr-empty", txt: page.t("noPending") })]),
    );
  }

  function paintHistory() {
    const list = document.getElementById("bl-history-list");
    const title = document.getElementById("bl-history-title");
    const all = document.getElementById("bl-history-all");
    if (title) {
      title.textContent = state.historyEntry ? page.t("historyOf", { entry: state.historyEntry }) : page.t("recentChanges");
    }
    if (all) all.hidden = !state.historyEntry;
    if (!list) return;
    list.replaceChildren(
      ...(state.history.length
        ? state.history.map((change) => changeItem(page, change))
        : [el("li", { cls: "scr-empty", txt: page.t("noHistory") })]),
    );
  }

  async function readLists() {
    const history = new URLSearchParams({ limit: String(page.config.historyPage || 30) });
    if (state.historyEntry) history.set("entry_id", state.historyEntry);
    const [pending, recent] = await Promise.all([
      getList(`${CHANGES}?status=pending&limit=100`),
      getList(`${CHANGES}?${history.toString()}`),
    ]);
    const error = document.getElementById("pending-error");
    if (pending.status === 200 && Array.isArray(pending.data)) {
      state.pending = pending.data;
      state.pendingCount = pending.total ?? pending.data.length;
      if (error) error.hidden = true;
    } else if (error) {
      error.textContent = page.problem(pending.status);
      error.hidden = false;
    }
    if (recent.status === 200 && Array.isArray(recent.data)) state.history = recent.data;
    paintPending();
    paintHistory();
  }

  async function getList(url) {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch {
      return { status: 0, data: null, total: null };
    }
    const data = await response.json().catch(() => null);
    const total = Number(response.headers.get("X-Total-Count"));
    return { status: response.status, data, total: Number.isFinite(total) ? total : null };
  }

  async function decide(change, decision) {
    const note = decision === "withdraw" ? "" : window.prompt(page.t("decisionNotePrompt"), "");
    if (note === null) return; // cancelled
    const path = decision === "confirm" ? "confirm" : "reject";
    const answer = await page.api("POST", `${CHANGES}${change.id}/${path}/`, { note });
    const error = document.getElementById("pending-error");
    if (answer.status === 200 && answer.data) {
      if (error) error.hidden = true;
      const status = document.getElementById("propose-status");
      if (status) {
        status.textContent =
          answer.data.status === "confirmed"
            ? page.t("confirmedNow", { id: change.id })
            : page.t("decidedNow", { id: change.id, status: page.t(`status_${answer.data.status}`) });
      }
      if (answer.data.status === "confirmed") onListed();
    } else if (error) {
      const detail = answer.data && answer.data.detail;
      error.textContent = answer.status === 409 && detail ? page.t("stale", { detail }) : detail || page.problem(answer.status);
      error.hidden = false;
    }
    await readLists();
  }

  // ---- the proposal form -------------------------------------------------------------------

  const form = document.getElementById("propose-form");

  function showAction() {
    if (!form) return;
    const action = form.elements.action.value;
    for (const node of form.querySelectorAll("[data-for-action]")) {
      node.hidden = !node.dataset.forAction.split(" ").includes(action);
    }
  }

  function showErrors(byField) {
    for (const holder of form.querySelectorAll("[data-error-for]")) {
      const messages = byField[holder.dataset.errorFor] || [];
      holder.replaceChildren(...messages.map((m) => el("p", { cls: "field__error", txt: m })));
      holder.closest(".field")?.classList.toggle("field--error", messages.length > 0);
    }
  }

  async function propose(event) {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    values.no_expiry = form.elements.no_expiry?.checked || false;
    const { body, errors } = proposalBody(values);
    const status = document.getElementById("propose-status");
    const local = {};
    for (const [name, kind] of Object.entries(errors)) {
      if (name === "detail") local.reason = [page.t("nothingChanges")];
      else local[name] = [page.t(kind === "choice" ? "choose" : "fieldRequired")];
    }
    showErrors(local);
    if (Object.keys(local).length) return;
    const submit = document.getElementById("propose-submit");
    if (submit) submit.disabled = true;
    try {
      const answer = await page.api("POST", CHANGES, body);
      if (answer.status === 201 && answer.data) {
        form.reset();
        showAction();
        if (status) status.textContent = page.t("proposed", { id: answer.data.id });
        await readLists();
        return;
      }
      if (answer.status === 400) {
        const { byField, general } = proposalErrors(answer.data);
        showErrors(byField);
        if (status) status.textContent = general.join(" ");
        return;
      }
      if (status) status.textContent = (answer.data && answer.data.detail) || page.problem(answer.status);
    } finally {
      if (submit) submit.disabled = false;
    }
  }

  /** A row's "Change…" or "Remove…": the form, opened for that entry. */
  function proposeFor(action, entryId) {
    const box = document.getElementById("propose-box");
    if (!form || !box) return;
    box.open = true;
    form.elements.action.value = action;
    form.elements.entry_id.value = entryId;
    showAction();
    (action === "remove" ? form.elements.note : form.elements.reason).focus();
    box.scrollIntoView({ block: "nearest" });
  }

  async function historyOf(entryId) {
    state.historyEntry = entryId;
    await readLists();
    document.getElementById("bl-history")?.scrollIntoView({ block: "nearest" });
  }

  if (form) {
    form.elements.action.addEventListener("change", showAction);
    form.addEventListener("submit", propose);
    showAction();
  }
  document.getElementById("blacklist-body")?.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.dataset.history) historyOf(target.dataset.history);
    else if (target.dataset.propose) proposeFor(target.dataset.propose, target.dataset.entryId);
  });
  document.getElementById("bl-history-all")?.addEventListener("click", () => historyOf(null));
  paintPending();
  paintHistory();
  return { refresh: readLists };
}
