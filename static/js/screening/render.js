// Building what the /risk/ page shows: the queue of flagged applications, an application's
// checks and ring, the blacklist table and the pre-screen's answer. DOM building only; fetching
// and wiring live in main.js. The server renders the same markup for the first paint
// (templates/screening.html and templates/partials/screening_*.html).

import { button, el } from "../common.js";
import {
  checkResults,
  dateIn,
  explanationFor,
  failedChecks,
  maskedIdentifiers,
  detailText,
  ringSummary,
} from "./state.js";

const MARKS = { pass: "✓", fail: "✗", not_applicable: "–" };
const MAX_GROUP_IDS = 12;

/** What explanationFor needs of the page. */
function explainWith(page) {
  const zh = page.config.lang === "zh";
  return { cache: page.explanations, t: page.t, thresholds: page.thresholds, pct: (v) => (zh ? `${v}%` : `${v} %`) };
}

export function num(page, value) {
  return new Intl.NumberFormat(page.config.locale || "en-US").format(Number(value) || 0);
}

/** A check's badge: its mark and its name (`says: "result"`: its result instead). */
export function checkBadge(page, key, result, { says = "name" } = {}) {
  const shown = result || "not_applicable";
  const name = page.t(`check_${key}`);
  const verdict = result ? page.t(`result_${result}`) : page.t("notChecked");
  return el(
    "span",
    {
      cls: `scr-check scr-check--${shown}`,
      attrs: { "data-check": key, "data-result": result || "", title: `${name}: ${verdict}` },
    },
    [
      el("span", { cls: "scr-check__mark", txt: MARKS[shown], attrs: { "aria-hidden": "true" } }),
      says === "result" ? verdict : name,
    ],
  );
}

function checkBadges(page, row) {
  return el(
    "span",
    { cls: "scr-checks", attrs: { role: "list" } },
    checkResults(row).map(({ key, result }) => {
      const badge = checkBadge(page, key, result);
      badge.setAttribute("role", "listitem");
      return badge;
    }),
  );
}

export function identifiersLine(page, identifiers, kinds) {
  const parts = maskedIdentifiers(identifiers, kinds);
  if (!parts.length) return null;
  return el(
    "span",
    { cls: "scr-ids" },
    parts.map(([kind, value]) =>
      el("span", { cls: "scr-id", attrs: { "data-kind": kind } }, [
        el("span", { cls: "scr-id__kind", txt: page.t(`kind_${kind}`) }),
        " ",
        el("code", { txt: value }),
      ]),
    ),
  );
}

function statusBadge(page, status) {
  if (!status) return null;
  return el("span", {
    cls: `badge scr-status scr-status--${status}`,
    txt: page.t(`status_${status}`),
    attrs: { "data-status": status },
  });
}

// ---- The queue ------------------------------------------------------------------------------

export function queueItem(page, row) {
  const failed = failedChecks(row);
  const id = row.application_id;
  const why = failed.map((key) =>
    el("span", {
      cls: "scr-why__line",
      attrs: { "data-why": key },
      txt: explanationFor(row, key, explainWith(page)),
    }),
  );
  const item = el(
    "li",
    {
      cls: `scr-item${page.selected === id ? " is-selected" : ""}`,
      attrs: { "data-application": id, "data-failed": String(failed.length), "data-status": row.status || "" },
    },
    [
      el("a", { cls: "scr-item__link", attrs: { href: `#application-${encodeURIComponent(id)}` } }, [
        el("span", { cls: "scr-item__head" }, [
          el("span", { cls: "scr-item__id", txt: id }),
          el("span", {
            cls: `badge scr-failed scr-failed--${Math.min(failed.length, 3)}`,
            txt: page.t("nFailed", { n: failed.length }),
          }),
          row.status === "cleared" ? statusBadge(page, row.status) : null,
        ]),
        el("span", {
          cls: "scr-item__meta",
          txt: [row.region, row.applied_at ? page.t("appliedOn", { date: dateIn(row.applied_at, page.config.timeZone) }) : ""]
            .filter(Boolean)
            .join(" · "),
        }),
        checkBadges(page, row),
        why.length ? el("span", { cls: "scr-why" }, why) : null,
        identifiersLine(page, row.identifiers, ["phone", "device", "vin"]),
      ]),
    ],
  );
  return item;
}

export function paintQueue(page, { flash = [] } = {}) {
  const list = document.getElementById("queue-list");
  if (!list) return;
  const rows = page.state.queue;
  if (!rows.length) {
    list.replaceChildren(el("li", { cls: "scr-empty", txt: page.t(`noFlags_${page.state.status}`) }));
  } else {
    list.replaceChildren(...rows.map((row) => queueItem(page, row)));
  }
  for (const id of flash) {
    const node = list.querySelector(`[data-application="${CSS.escape(id)}"]`);
    if (node) {
      node.classList.remove("is-flash");
      void node.offsetWidth; // restart the animation
      node.classList.add("is-flash");
    }
  }
  const count = document.getElementById("queue-count");
  if (count) {
    count.textContent =
      page.state.queueCount > rows.length
        ? page.t("showingOf", { shown: num(page, rows.length), total: num(page, page.state.queueCount) })
        : page.t("nFlagged", { n: num(page, page.state.queueCount) });
  }
  for (const chip of document.querySelectorAll("[data-status-filter]")) {
    const on = chip.dataset.statusFilter === page.state.status;
    chip.classList.toggle("is-current", on);
    chip.setAttribute("aria-pressed", on ? "true" : "false");
  }
}

export function markSelected(page) {
  for (const item of document.querySelectorAll("#queue-list [data-application]")) {
    item.classList.toggle("is-selected", item.dataset.application === page.selected);
  }
}

// ---- An application: checks and ring -------------------------------------------------------

function facts(page, application) {
  const rows = [
    [page.t("region"), application.region],
    [page.t("applied"), dateIn(application.applied_at, page.config.timeZone)],
  ];
  for (const [kind, value] of maskedIdentifiers(application.identifiers)) {
    rows.push([page.t(`kind_${kind}`), el("code", { txt: value })]);
  }
  return el(
    "dl",
    { cls: "scr-facts" },
    rows.flatMap(([name, value]) => [el("dt", { txt: name }), el("dd", {}, [value || "–"])]),
  );
}

function checksTable(page, application) {
  const row = { ...application, checks: application.checks || {} };
  const body = checkResults(row).map(({ key, result }) =>
    el("tr", { attrs: { "data-check-row": key, "data-result": result || "" } }, [
      el("th", { attrs: { scope: "row" }, txt: page.t(`check_${key}`) }),
      el("td", {}, [checkBadge(page, key, result, { says: "result" })]),
      el("td", {
        cls: "scr-checks-table__why",
        txt:
          result === "fail"
            ? explanationFor(row, key, explainWith(page))
            : result === "not_applicable"
              ? page.t("naWhy")
              : "",
      }),
    ]),
  );
  return el("table", { cls: "table table--compact scr-checks-table" }, [
    el("thead", {}, [
      el("tr", {}, [
        el("th", { attrs: { scope: "col" }, txt: page.t("check") }),
        el("th", { attrs: { scope: "col" }, txt: page.t("result") }),
        el("th", { attrs: { scope: "col" }, txt: page.t("why") }),
      ]),
    ]),
    el("tbody", {}, body),
  ]);
}

function groupsList(page, ring) {
  const groups = ring.groups || [];
  if (!groups.length) return null;
  return el(
    "ul",
    { cls: "scr-groups" },
    groups.map((group) =>
      el("li", { attrs: { "data-group": group.type } }, [
        el("span", { cls: `scr-link scr-link--${group.type}`, txt: page.t(`link_${group.type}`) }),
        " ",
        el("code", { txt: group.masked }),
        " ",
        el("span", { cls: "muted", txt: page.t("sharedBy", { n: group.applications.length }) }),
        " ",
        ...group.applications.slice(0, MAX_GROUP_IDS).flatMap((id, i) => [
          i ? ", " : "",
          id === ring.application_id
            ? el("strong", { txt: id })
            : el("a", { txt: id, attrs: { href: `#application-${encodeURIComponent(id)}` } }),
        ]),
        group.applications.length > MAX_GROUP_IDS
          ? el("span", { cls: "muted", txt: ` ${page.t("andMore", { n: group.applications.length - MAX_GROUP_IDS })}` })
          : null,
      ]),
    ),
  );
}

/** The detail pane: a placeholder, a loading note, an error, or the application with its ring. */
export function paintDetail(page, ring, { loading = false, error = null } = {}) {
  const pane = document.getElementById("app-detail");
  if (!pane) return null;
  if (error) {
    pane.replaceChildren(el("p", { cls: "notice notice--error", txt: error }));
    return null;
  }
  if (loading) {
    pane.replaceChildren(el("p", { cls: "scr-placeholder", txt: page.t("loading") }));
    return null;
  }
  if (!ring) {
    pane.replaceChildren(el("p", { cls: "scr-placeholder", txt: page.t("chooseApplication") }));
    return null;
  }
  const application = ring.application || {};
  const summary = ringSummary(ring);
  // A lone application has no network to draw: the sentence says so.
  const chart = summary.others
    ? el("div", {
        cls: "scr-ring-chart",
        attrs: { id: "ring-chart", role: "img", "aria-label": page.t("ringAria", { id: ring.application_id }) },
      })
    : null;
  const detail = el("article", { cls: "scr-detail", attrs: { "data-application-detail": ring.application_id } }, [
    el("div", { cls: "scr-detail__head" }, [
      el("h3", { cls: "scr-detail__title", txt: ring.application_id }),
      el("span", { cls: "scr-detail__badges" }, [
        application.flagged
          ? statusBadge(page, application.status)
          : el("span", {
              cls: "badge badge--ok",
              txt: application.checked === false ? page.t("notChecked") : page.t("notFlagged"),
            }),
      ]),
    ]),
    facts(page, application),
    application.checks ? checksTable(page, application) : el("p", { cls: "muted", txt: page.t("notChecked") }),
    el("h4", { cls: "scr-detail__sub", txt: page.t("ringTitle") }),
    el("p", {
      cls: "scr-ring-summary",
      attrs: { "data-ring-size": String(summary.applications) },
      txt: summary.others
        ? page.t("ringSummary", { n: summary.others, flagged: summary.othersFlagged, shared: summary.shared })
        : page.t("ringNone"),
    }),
    summary.truncated ? el("p", { cls: "notice notice--info small", txt: page.t("ringTruncated", { max: ring.max_nodes }) }) : null,
    summary.others ? el("p", { cls: "muted small scr-ring-hint", txt: page.t("ringHint") }) : null,
    chart,
    groupsList(page, ring),
  ]);
  pane.replaceChildren(detail);
  return chart;
}

// ---- The blacklist --------------------------------------------------------------------------

export function blacklistRow(page, entry) {
  const time = (iso) => (iso ? el("time", { txt: dateIn(iso, page.config.timeZone), attrs: { datetime: iso } }) : "–");
  return el("tr", { attrs: { "data-entry": entry.entry_id, "data-active": entry.active ? "true" : "false" } }, [
    el("td", {}, [el("code", { txt: entry.entry_id })]),
    el("td", { txt: page.t(`kind_${entry.type}`) }),
    el("td", {}, [el("code", { txt: entry.masked_value || "–" })]),
    el("td", { cls: "scr-bl__reason", txt: entry.reason }),
    el("td", {}, [time(entry.added_at)]),
    el("td", {}, [time(entry.expires_at)]),
    el("td", { txt: entry.department ? page.t(`dept_${entry.department}`) : "–" }),
    el("td", {}, [
      el("span", {
        cls: `badge ${entry.active ? "badge--error" : ""} scr-active`,
        txt: entry.active ? page.t("inForce") : page.t("expired"),
      }),
    ]),
    el("td", { cls: "scr-bl__actions" }, [
      button(page.t("history"), { attrs: { "data-history": entry.entry_id } }),
      ...(page.config.mayPropose
        ? [
            " ",
            button(page.t("changeEntry"), { attrs: { "data-propose": "change", "data-entry-id": entry.entry_id } }),
            " ",
            button(page.t("removeEntry"), { attrs: { "data-propose": "remove", "data-entry-id": entry.entry_id } }),
          ]
        : []),
    ]),
  ]);
}

/** "1 entry", "12 entries" (the server's pluralised form on first paint). */
export function entriesText(page) {
  const n = page.state.blacklistCount;
  return page.t(n === 1 ? "nEntry" : "nEntries", { n: num(page, n) });
}

export function paintBlacklist(page) {
  const body = document.getElementById("blacklist-body");
  if (!body) return;
  const rows = page.state.blacklist;
  body.replaceChildren(
    ...(rows.length
      ? rows.map((entry) => blacklistRow(page, entry))
      : [el("tr", { cls: "empty-row" }, [el("td", { attrs: { colspan: "9" }, txt: page.t("noEntries") })])]),
  );
  const count = document.getElementById("blacklist-count");
  if (count) count.textContent = entriesText(page);
  const more = document.getElementById("blacklist-more");
  if (more) more.hidden = rows.length >= page.state.blacklistCount;
}

// ---- The pre-screen -------------------------------------------------------------------------

function thresholdText(page, key, value) {
  const info = (page.config.parameters || {})[key] || {};
  const shown = value === null || value === undefined ? "–" : `${value}${info.suffix || ""}`;
  return el("li", { attrs: { "data-parameter": key } }, [
    el("span", { txt: `${page.t("labelled", { label: info.label || key })} ` }),
    el("strong", { txt: shown }),
    " ",
    el("code", { cls: "scr-param-key", txt: key }),
  ]);
}

export function paintPrescreen(page, answer, used) {
  const box = document.getElementById("prescreen-result");
  if (!box) return;
  const now = document.getElementById("prescreen-now");
  if (now) now.hidden = true; // the answer says which values it used
  const decision = answer.decision;
  const reasons = answer.reasons || [];
  const details = answer.details || [];
  box.replaceChildren(
    el("div", { cls: `scr-decision scr-decision--${decision}`, attrs: { "data-decision": decision } }, [
      el("span", { cls: "scr-decision__label", txt: page.t("decision") }),
      el("span", { cls: "scr-decision__value", txt: page.t(`decision_${decision}`) }),
      el("span", { cls: "scr-decision__note", txt: page.t(`decisionNote_${decision}`) }),
    ]),
    reasons.length
      ? el(
          "ul",
          { cls: "scr-reasons" },
          reasons.map((reason, i) =>
            el("li", {
              txt: detailText(details[i], page.t, (kind) => page.t(`kind_${kind}`), reason),
              attrs: { title: reason, "data-code": details[i] ? details[i].code : null },
            }),
          ),
        )
      : el("p", { cls: "scr-reasons scr-reasons--none", txt: page.t("noReasons") }),
    el("div", { cls: "scr-used" }, [
      el("p", { cls: "scr-used__title", txt: page.t("usedTitle") }),
      el(
        "ul",
        {},
        Object.entries(used).map(([key, value]) => thresholdText(page, key, value)),
      ),
    ]),
  );
}
