// Painting the /parameters/ page's tables: each parameter wherever it shows (value, who changed
// it and when, its pending badges), the budget bar and total, and the pending changes
// (four-eyes) with their approve / reject / withdraw buttons and the calibration's evidence.
//
// The server renders the tables (templates/partials/params_table.html); this module repaints the
// nodes marked [data-param="key"][data-role=value|meta|pending] and the #pending-list.
//   POST requests/{id}/approve/ | reject/ {note} → 200 {parameters, request} | request
//                                              | 409 {detail, current, request}

import { button, el } from "../common.js";
import { API, handleAnswer } from "./responses.js";
import { budgetParams, pendingFor, setRequest, updateParam } from "./state.js";
import { flash, sel, showErrors, toast } from "./ui.js";

// ---- A parameter wherever it shows ------------------------------------------------------------

function metaNodes(page, param, { live = false } = {}) {
  const { t } = page;
  const { formatTime, isRecent, relativeTime } = page.fmt;
  const nodes = [];
  if (param.updated_by || param.updated_at) {
    const who = param.updated_by || t("system");
    if (param.updated_at && (live || isRecent(param.updated_at))) {
      nodes.push(
        el("span", {
          cls: `param-meta__who${live ? " is-live" : ""}`,
          txt: t("changedBy", { who, when: relativeTime(param.updated_at) }),
          attrs: { "data-when": param.updated_at, title: formatTime(param.updated_at) },
        }),
      );
    } else {
      nodes.push(el("span", { cls: "param-meta__who", txt: t("changedByShort", { who }) }), " ");
      nodes.push(
        el("time", {
          cls: "param-meta__when",
          txt: formatTime(param.updated_at),
          attrs: { datetime: param.updated_at || "" },
        }),
      );
    }
  } else {
    nodes.push(el("span", { cls: "param-meta__who muted", txt: t("neverChanged") }));
  }
  nodes.push(" ", el("span", { cls: "param-version", txt: `v${param.version}`, attrs: { title: t("version") } }));
  return nodes;
}

/** Repaint a parameter from the state; `live`: it just changed (highlighted, "just now"). */
export function paintParam(page, key, { live = false } = {}) {
  const { t } = page;
  const { formatValue } = page.fmt;
  const param = page.state.params.get(key);
  if (!param) return;
  for (const node of document.querySelectorAll(`[data-param="${sel(key)}"]`)) {
    const role = node.dataset.role;
    if (role === "value") node.textContent = formatValue(param);
    else if (role === "meta") node.replaceChildren(...metaNodes(page, param, { live }));
    else if (role === "pending") {
      node.replaceChildren(
        ...pendingFor(page.state, key).map((request) =>
          el("a", {
            cls: "badge badge--pending",
            txt: t("pendingBadge", { id: request.id, value: formatValue(param, request.changes[key]) }),
            attrs: { href: `#request-${request.id}`, title: t("pendingTitle") },
          }),
        ),
      );
    }
  }
  if (live) {
    const cell = document.querySelector(`[data-param-cell="${sel(key)}"]`);
    flash(cell || rowFor(key));
  }
  if (page.budgetKeys.includes(key)) paintBudget(page);
}

/** Parameter states the API answered: into the state, and repainted as just changed. */
export function receiveParameters(page, params) {
  for (const param of params) {
    updateParam(page.state, param);
    paintParam(page, param.key, { live: true });
  }
}

/** The metas that say "x minutes ago" age with the clock. */
export function tickTimes(page) {
  const { t } = page;
  for (const node of document.querySelectorAll(".param-meta__who[data-when]")) {
    const key = node.closest("[data-param]")?.dataset.param;
    const param = key && page.state.params.get(key);
    if (!param) continue;
    if (!page.fmt.isRecent(param.updated_at)) paintParam(page, key);
    else node.textContent = t("changedBy", { who: param.updated_by || t("system"), when: page.fmt.relativeTime(param.updated_at) });
  }
}

/** The table row that shows `key` (a row may show several: data-param-row="k1 k2"). */
export function rowFor(key) {
  return [...document.querySelectorAll("tr[data-param-row]")].find((row) =>
    row.dataset.paramRow.split(" ").includes(key),
  );
}

// ---- The budget bar ---------------------------------------------------------------------------

/** The three segments of a budget bar (the page's, the editor's preview, a preset's) sized. */
export function paintBar(page, container, values) {
  const { formatPct } = page.fmt;
  const total = values.reduce((sum, v) => sum + (Number.isFinite(v) ? Math.max(v, 0) : 0), 0) || 1;
  const segments = container.querySelectorAll(".budget-bar__seg");
  values.forEach((value, index) => {
    const seg = segments[index];
    if (!seg) return;
    const share = Number.isFinite(value) ? Math.max(value, 0) : 0;
    seg.style.flexGrow = String(share / total);
    seg.textContent = share >= 8 ? formatPct(share, 2) : "";
    seg.title = `${page.label(page.budgetKeys[index])}: ${formatPct(share, 2)}`;
  });
}

export function paintBudget(page) {
  const params = budgetParams(page.state, page.budgetKeys);
  if (params.length !== page.budgetKeys.length) return;
  const bar = document.getElementById("budget-bar");
  if (bar) paintBar(page, bar, params.map((p) => p.value));
  const total = document.getElementById("budget-total");
  if (total) total.textContent = page.fmt.formatPct(params.reduce((sum, p) => sum + p.value, 0), 2);
}

// ---- Pending changes (four-eyes) -------------------------------------------------------------

/** A change request from the API or the socket: kept while pending, and repainted. */
export function upsertRequest(page, request) {
  setRequest(page.state, request);
  renderPending(page);
  for (const key of Object.keys(request.changes || {})) paintParam(page, key);
}

/** The calibration's score bands: bad rates per band and at or above it, the cut-offs marked. */
export function renderEvidence(page, evidence) {
  const { t } = page;
  const { formatNumber, formatPct } = page.fmt;
  if (!evidence || !Array.isArray(evidence.bands)) return null;
  const current = evidence.current_cutoff;
  const proposed = evidence.proposed_cutoff;
  const head = el("tr", {}, [
    el("th", { txt: t("scoreBand"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("loans"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("bad"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("badRate"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("loansAtOrAbove"), attrs: { scope: "col" } }),
    el("th", { cls: "num", txt: t("badRateAtOrAbove"), attrs: { scope: "col" } }),
  ]);
  const target = evidence.target_bad_rate_pct;
  const rows = evidence.bands.map((band) => {
    const classes = [];
    if (current !== undefined && band.band_start <= current && current <= band.band_end) classes.push("is-current-band");
    if (proposed !== null && proposed !== undefined && band.band_start <= proposed && proposed <= band.band_end) classes.push("is-proposed-band");
    const above = band.bad_rate_at_or_above_pct;
    return el("tr", { cls: classes.join(" ") }, [
      el("td", { txt: `${band.band_start}–${band.band_end}` }),
      el("td", { cls: "num", txt: formatNumber(band.loans, 0) }),
      el("td", { cls: "num", txt: formatNumber(band.bad, 0) }),
      el("td", { cls: "num", txt: formatPct(band.bad_rate_pct) }),
      el("td", { cls: "num", txt: formatNumber(band.loans_at_or_above, 0) }),
      el("td", {
        cls: `num${above !== null && target !== undefined && above <= target ? " meets-target" : ""}`,
        txt: formatPct(above),
      }),
    ]);
  });
  const funded = evidence.window || {};
  return el("div", { cls: "evidence" }, [
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact evidence-table" }, [
        el("thead", {}, [head]),
        el("tbody", {}, rows),
      ]),
    ]),
    funded.funded_from
      ? el("p", { cls: "muted small", txt: t("badDefinition", { from: funded.funded_from, to: funded.funded_to }) })
      : null,
  ]);
}

/** The calibration's finding in the reader's language (the server's reason is English). */
function calibrationSummary(page, evidence) {
  const { formatNumber, formatPct } = page.fmt;
  const at = evidence && evidence.at_current_cutoff;
  if (!at || at.bad_rate_pct === null || at.bad_rate_pct === undefined) return "";
  return page.t("calibrationSummary", {
    rate: formatPct(at.bad_rate_pct),
    loans: formatNumber(at.loans, 0),
    current: evidence.current_cutoff,
    target: formatPct(evidence.target_bad_rate_pct),
    proposed: evidence.proposed_cutoff ?? "—",
  });
}

function requestItem(page, request) {
  const { t } = page;
  const { formatValue, relativeTime } = page.fmt;
  const mine = request.requested_by && request.requested_by === page.me;
  const calibration = request.source === "calibration";
  const who = request.requested_by || t("autoCalibration");
  const changes = el(
    "ul",
    { cls: "request__changes" },
    Object.entries(request.changes || {}).map(([key, value]) => {
      const param = page.state.params.get(key);
      return el("li", {}, [
        el("span", { cls: "request__label", txt: page.label(key) }),
        " ",
        el("code", { cls: "param-name__key", txt: key }),
        el("span", { cls: "request__values" }, [
          el("span", { cls: "request__old", txt: param ? formatValue(param) : "" }),
          el("span", { cls: "request__arrow", txt: " → ", attrs: { "aria-hidden": "true" } }),
          el("strong", { cls: "request__new", txt: param ? formatValue(param, value) : String(value) }),
        ]),
      ]);
    }),
  );
  const error = el("div", { cls: "request__error", attrs: { role: "alert" } });
  const actions = el("div", { cls: "request__actions" });
  if (page.isManager && !mine) {
    const note = el("input", {
      attrs: { type: "text", placeholder: t("notePlaceholder"), "aria-label": t("notePlaceholder"), maxlength: "2000" },
    });
    const approve = button(t("approve"), { cls: "button--ok button--small", attrs: { "data-action": "approve" } });
    const reject = button(t("reject"), { cls: "button--danger button--small", attrs: { "data-action": "reject" } });
    approve.addEventListener("click", () => decide(page, request, "approve", note.value, error, [approve, reject]));
    reject.addEventListener("click", () => decide(page, request, "reject", note.value, error, [approve, reject]));
    actions.append(note, approve, reject);
  } else if (page.isManager && mine) {
    const withdraw = button(t("withdraw"), { attrs: { "data-action": "withdraw" } });
    withdraw.addEventListener("click", () => decide(page, request, "reject", "", error, [withdraw]));
    actions.append(el("span", { cls: "muted small", txt: t("waitingOther") }), withdraw);
  } else {
    actions.append(el("span", { cls: "muted small", txt: t("waitingManager") }));
  }
  const evidence = renderEvidence(page, request.evidence);
  const summary = calibrationSummary(page, request.evidence);
  return el("article", { cls: `request${mine ? " request--mine" : ""}`, attrs: { id: `request-${request.id}`, "data-request-id": String(request.id) } }, [
    el("div", { cls: "request__head" }, [
      el("strong", { cls: "request__id", txt: `#${request.id}` }),
      calibration ? el("span", { cls: "badge badge--info", txt: t("autoCalibration") }) : null,
      el("span", {
        cls: "muted small",
        txt: request.requested_by
          ? `${t("requestedBy", { who })} · ${relativeTime(request.requested_at)}`
          : relativeTime(request.requested_at),
      }),
    ]),
    changes,
    summary ? el("p", { cls: "request__reason", txt: summary }) : null,
    request.reason && !summary ? el("p", { cls: "request__reason", txt: request.reason }) : null,
    evidence
      ? el("details", { cls: "request__evidence" }, [
          el("summary", { txt: t("showEvidence") }),
          request.reason ? el("p", { cls: "small", txt: t("calibrationDetails", { reason: request.reason }) }) : null,
          evidence,
        ])
      : null,
    actions,
    error,
  ]);
}

/** The pending list and its counts; an open evidence and a typed note survive the repaint. */
export function renderPending(page) {
  const list = document.getElementById("pending-list");
  if (!list) return;
  const requests = [...page.state.requests.values()].sort((a, b) => a.id - b.id);
  const openDetails = new Set(
    [...list.querySelectorAll("details[open]")].map((d) => d.closest("[data-request-id]")?.dataset.requestId),
  );
  const notes = new Map(
    [...list.querySelectorAll("[data-request-id]")].map((item) => [item.dataset.requestId, item.querySelector("input")?.value || ""]),
  );
  if (!requests.length) {
    list.replaceChildren(el("p", { cls: "params-empty", txt: page.t("noPending"), attrs: { id: "pending-empty" } }));
  } else {
    list.replaceChildren(
      ...requests.map((request) => {
        const item = requestItem(page, request);
        if (openDetails.has(String(request.id))) item.querySelector("details")?.setAttribute("open", "");
        const input = item.querySelector("input");
        if (input && notes.get(String(request.id))) input.value = notes.get(String(request.id));
        return item;
      }),
    );
  }
  for (const id of ["pending-count", "pending-count-toc"]) {
    const node = document.getElementById(id);
    if (!node) continue;
    node.textContent = String(requests.length);
    if (id === "pending-count") node.classList.toggle("badge--pending", requests.length > 0);
  }
}

async function decide(page, request, verb, note, error, buttons) {
  const { t } = page;
  for (const b of buttons) b.disabled = true;
  error.replaceChildren();
  const response = await page.api("POST", `${API}requests/${request.id}/${verb}/`, { note });
  for (const b of buttons) b.disabled = false;
  handleAnswer(response, t, {
    ok({ data }) {
      if (verb === "approve") {
        receiveParameters(page, data.parameters || []);
        if (data.request) upsertRequest(page, data.request);
        toast(t("approvedDone"), "ok");
      } else {
        upsertRequest(page, data);
        toast(request.requested_by === page.me ? t("withdrawnDone") : t("rejectedDone"), "info");
      }
      page.state.requests.delete(request.id);
      renderPending(page);
    },
    conflict({ data, current, request: decided }) {
      receiveParameters(page, current);
      if (decided) upsertRequest(page, decided);
      showErrors(error, [t("stale", { detail: data.detail || "" })]);
    },
    failed({ messages }) {
      showErrors(error, messages);
    },
  });
}
