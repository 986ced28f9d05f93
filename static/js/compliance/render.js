// Building what the /compliance/ page shows, from its state: figures, lists, a script or a call
// with its findings highlighted in place and the suggestions beside them, the library table and
// the evaluation. Only DOM building here: what a button does lives in actions.js.

import { el, formatDateTime } from "../common.js";
import { excerpt, orderFindings, segmentLook, segments, spanKey } from "./highlight.js";
import { otherSuggestion, SCRIPT_STATES, stateCounts } from "./state.js";

// ---- Words and numbers ---------------------------------------------------------------------

/** A category's name in the reader's language (the library's "what is not allowed"). */
export function categoryLabel(page, key) {
  const category = page.state.library.find((c) => c.key === key);
  if (!category) return key;
  if (page.config.lang === "zh") return category.not_allowed_zh || category.not_allowed || key;
  const text = category.not_allowed || key;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatNumber(page, value, places = 1) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
  return new Intl.NumberFormat(page.config.locale || "en-US", {
    maximumFractionDigits: places,
    minimumFractionDigits: 0,
  }).format(Number(value));
}

export function formatPct(page, value, places = 1) {
  if (value === null || value === undefined) return "–";
  return formatNumber(page, value, places) + (page.config.lang === "zh" ? "%" : " %");
}

export function formatTime(page, iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatDateTime(date, page.config.timeZone || undefined) || iso;
}

export function stateBadge(page, state) {
  return el("span", {
    cls: `badge cmp-state cmp-state--${state}`,
    txt: page.t(`state_${state}`),
    attrs: { "data-state": state },
  });
}

export function severityBadge(page, severity) {
  return el("span", { cls: `badge cmp-sev cmp-sev--${severity}`, txt: page.t(`sev_${severity}`) });
}

/** "Largest promotional discount (marketing.max_promo_discount_pct): 3 %" */
export function parameterText(page, key) {
  const info = (page.config.parameters || {})[key] || {};
  const value = page.parameterValues[key];
  const name = info.label || key;
  const shown =
    value === undefined || value === null ? "" : `: ${formatNumber(page, value, 2)}${info.suffix || ""}`;
  return `${name}${shown}`;
}

// ---- The figures ---------------------------------------------------------------------------

export function paintFigures(page, { flash = false } = {}) {
  const figures = page.state.figures || {};
  const values = {
    discrepancy: formatPct(page, figures.script_discrepancy_rate),
    flagged: formatNumber(page, figures.flagged_calls_per_100, 1),
    live: formatNumber(page, figures.live_scripts, 0),
    needsReview: formatNumber(page, figures.needs_review, 0),
  };
  for (const [role, text] of Object.entries(values)) {
    const node = document.querySelector(`[data-figure="${role}"]`);
    if (!node) continue;
    if (node.textContent !== text) {
      node.textContent = text;
      if (flash) flashNode(node.closest(".cmp-figure"));
    }
  }
}

export function flashNode(node) {
  if (!node) return;
  node.classList.remove("is-flash");
  void node.offsetWidth; // restart the animation
  node.classList.add("is-flash");
  setTimeout(() => node.classList.remove("is-flash"), 2600);
}

// ---- Text with its findings highlighted in place --------------------------------------------

/**
 * The text with every finding highlighted where it stands (overlaps cut into segments; the
 * number of each finding at its start), and missed spans (reviewers') underlined.
 * @returns {{text: HTMLElement, ordered: object[]}}
 */
export function highlightedText(page, text, findings, { missed = [] } = {}) {
  const ordered = orderFindings(findings);
  const spans = [
    ...ordered,
    ...missed.map((m) => ({ ...m, missed: true, key: `missed:${spanKey(m)}` })),
  ];
  const box = el("div", { cls: "cmp-text", attrs: { "data-role": "text" } });
  for (const segment of segments(text, spans)) {
    const look = segmentLook(segment, spans);
    if (!look.marked) {
      box.append(el("span", { txt: segment.text, attrs: { "data-start": String(segment.start) } }));
      continue;
    }
    const classes = ["cmp-mark"];
    if (look.severity) classes.push(`cmp-mark--${look.severity}`);
    if (look.overlap) classes.push("is-overlap");
    if (look.missed) classes.push("is-missed");
    const names = segment.covers
      .map((i) => spans[i])
      .map((span) =>
        span.missed
          ? `${page.t("missedLabel")}: ${categoryLabel(page, span.category)}`
          : `${span.n}. ${categoryLabel(page, span.category)}`,
      );
    box.append(
      el("mark", {
        cls: classes.join(" "),
        txt: segment.text,
        attrs: {
          "data-start": String(segment.start),
          "data-keys": look.keys.join(" "),
          "data-n": look.numbers.length ? look.numbers.join(",") : null,
          title: names.join(" · "),
        },
      }),
    );
  }
  if (!text) box.append(el("span", { cls: "muted", txt: page.t("emptyText") }));
  return { text: box, ordered };
}

/**
 * The findings beside the text, numbered as in the text: category, severity, the excerpt, the
 * live parameter contradicted, the suggested rewrite. `extra(finding)` adds controls (verdicts).
 */
export function findingsList(page, ordered, { extra } = {}) {
  if (!ordered.length) {
    return el("p", { cls: "cmp-findings__none", txt: page.t("noFindings") });
  }
  return el(
    "ol",
    { cls: "cmp-findings", attrs: { "aria-label": page.t("findingsTitle") } },
    ordered.map((finding) =>
      el(
        "li",
        {
          cls: `cmp-finding cmp-finding--${finding.severity}`,
          attrs: { "data-finding": finding.key, "data-category": finding.category, tabindex: "0" },
        },
        [
          el("span", { cls: "cmp-finding__n", txt: String(finding.n), attrs: { "aria-hidden": "true" } }),
          el("div", { cls: "cmp-finding__body" }, [
            el("div", { cls: "cmp-finding__head" }, [
              el("strong", { cls: "cmp-finding__category", txt: categoryLabel(page, finding.category) }),
              " ",
              severityBadge(page, finding.severity),
            ]),
            el("q", { cls: "cmp-finding__excerpt", txt: finding.excerpt }),
            finding.parameter
              ? el("p", { cls: "cmp-finding__param" }, [
                  el("span", { cls: "cmp-finding__label", txt: page.t("contradicts") }),
                  " ",
                  el("span", { txt: parameterText(page, finding.parameter) }),
                  " ",
                  el("code", { txt: finding.parameter }),
                ])
              : null,
            finding.suggestion
              ? el("p", { cls: "cmp-finding__suggestion" }, [
                  el("span", { cls: "cmp-finding__label", txt: page.t("suggestion") }),
                  " ",
                  el("span", { txt: finding.suggestion }),
                ])
              : null,
            otherSuggestion(page, finding)
              ? el("p", { cls: "cmp-finding__suggestion cmp-finding__suggestion--other" }, [
                  el("span", {
                    txt: otherSuggestion(page, finding),
                    attrs: { lang: /[\u3400-\u9fff]/.test(finding.suggestion || "") ? "en" : "zh-Hans" },
                  }),
                ])
              : null,
            extra ? extra(finding) : null,
          ]),
        ],
      ),
    ),
  );
}

/** Hovering or focusing a finding lights its marks in the text, and the other way round. */
export function linkHighlights(root) {
  const light = (keys, on) => {
    for (const key of keys) {
      for (const node of root.querySelectorAll(`[data-finding="${CSS.escape(key)}"]`)) {
        node.classList.toggle("is-active", on);
      }
      for (const node of root.querySelectorAll("mark[data-keys]")) {
        if (node.dataset.keys.split(" ").includes(key)) node.classList.toggle("is-active", on);
      }
    }
  };
  const keysOf = (target) => {
    const finding = target.closest && target.closest("[data-finding]");
    if (finding) return [finding.dataset.finding];
    const mark = target.closest && target.closest("mark[data-keys]");
    return mark ? mark.dataset.keys.split(" ") : [];
  };
  for (const [on, events] of [
    [true, ["mouseover", "focusin"]],
    [false, ["mouseout", "focusout"]],
  ]) {
    for (const type of events) root.addEventListener(type, (event) => light(keysOf(event.target), on));
  }
  root.addEventListener("click", (event) => {
    const mark = event.target.closest("mark[data-keys]");
    if (!mark || !window.getSelection().isCollapsed) return;
    const key = mark.dataset.keys.split(" ").find((k) => !k.startsWith("missed:"));
    const item = key && root.querySelector(`[data-finding="${CSS.escape(key)}"]`);
    if (item) {
      item.scrollIntoView({ block: "nearest", behavior: "smooth" });
      item.focus({ preventScroll: true });
    }
  });
}

/** A compliance verdict line: "Compliant" or "Not compliant: 3 findings (2 high)". */
export function verdictLine(page, compliant, findings) {
  const high = findings.filter((f) => f.severity === "high").length;
  const medium = findings.filter((f) => f.severity === "medium").length;
  if (compliant && !findings.length) {
    return el("p", { cls: "cmp-verdict cmp-verdict--ok", txt: page.t("compliantNone") });
  }
  const counts = page.t("findingCounts", { n: findings.length, high, medium });
  return el("p", {
    cls: `cmp-verdict ${compliant ? "cmp-verdict--ok" : "cmp-verdict--bad"}`,
    txt: `${compliant ? page.t("compliant") : page.t("notCompliant")} · ${counts}`,
  });
}

/** Text and findings side by side. */
export function textWithFindings(page, text, findings, options = {}) {
  const { text: textNode, ordered } = highlightedText(page, text, findings, options);
  const wrap = el("div", { cls: "cmp-review" }, [
    el("div", { cls: "cmp-review__text" }, [textNode, options.below || null]),
    el("div", { cls: "cmp-review__side" }, [findingsList(page, ordered, options)]),
  ]);
  linkHighlights(wrap);
  return wrap;
}

// ---- Scripts --------------------------------------------------------------------------------

export function paintScriptCounts(page) {
  const counts = stateCounts(page.state.scripts);
  for (const state of SCRIPT_STATES) {
    const node = document.querySelector(`[data-count-state="${state}"]`);
    if (node) node.textContent = String(counts[state]);
  }
  const all = document.querySelector('[data-count-state="all"]');
  if (all) all.textContent = String(page.state.scripts.length);
  const tab = document.querySelector('[data-tab-count="scripts"]');
  if (tab) tab.textContent = String(counts.in_review + counts.needs_review);
  if (tab) tab.hidden = counts.in_review + counts.needs_review === 0;
}

export function scriptListItem(page, script, { selected = false } = {}) {
  const findings = script.findings || [];
  return el(
    "li",
    {
      cls: `cmp-item${selected ? " is-selected" : ""}`,
      attrs: { "data-script": String(script.id), "data-state": script.state },
    },
    [
      el(
        "a",
        {
          cls: "cmp-item__link",
          attrs: { href: `#script-${script.id}`, "aria-current": selected ? "true" : null },
        },
        [
          el("span", { cls: "cmp-item__title", txt: script.title }),
          el("span", { cls: "cmp-item__meta" }, [
            stateBadge(page, script.state),
            " ",
            el("span", { cls: "muted", txt: `#${script.id} · ${script.channel} · v${script.version}` }),
            " ",
            findings.length
              ? el("span", {
                  cls: `cmp-item__findings${script.compliant ? "" : " is-bad"}`,
                  txt: page.t("nFindings", { n: findings.length }),
                })
              : el("span", { cls: "cmp-item__findings is-ok", txt: page.t("clean") }),
          ]),
        ],
      ),
    ],
  );
}

export function paintScriptList(page) {
  const list = document.getElementById("script-list");
  if (!list) return;
  const filter = page.scriptFilter || "all";
  const shown = page.state.scripts.filter((s) =>
    filter === "all" ? s.state !== "retired" || page.showRetired : s.state === filter,
  );
  list.replaceChildren(
    ...shown.map((script) => scriptListItem(page, script, { selected: script.id === page.selectedScript })),
  );
  if (!shown.length) {
    list.append(el("li", { cls: "cmp-empty", txt: page.t(page.state.scripts.length ? "noScriptMatch" : "noScripts") }));
  }
  for (const button of document.querySelectorAll("[data-script-filter]")) {
    const on = button.dataset.scriptFilter === filter;
    button.classList.toggle("is-current", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }
  paintScriptCounts(page);
}

export function scriptMeta(page, script) {
  const parts = [];
  if (script.created_by) parts.push(page.t("createdBy", { who: script.created_by, when: formatTime(page, script.created_at) }));
  if (script.updated_by && script.updated_at) {
    parts.push(page.t("updatedBy", { who: script.updated_by, when: formatTime(page, script.updated_at) }));
  }
  if (script.checked_at) parts.push(page.t("checkedAt", { when: formatTime(page, script.checked_at) }));
  return el("p", { cls: "cmp-detail__meta muted small", txt: parts.join(" · ") });
}

/** The parameter values the script's findings were made with. */
export function checkedAgainst(page, script) {
  const values = (script.checked_against && script.checked_against.parameters) || {};
  const keys = Object.keys(values);
  if (!keys.length) return null;
  return el("p", { cls: "cmp-detail__against muted small" }, [
    el("span", { txt: page.t("checkedAgainst") }),
    " ",
    ...keys.flatMap((key, i) => {
      const info = (page.config.parameters || {})[key] || {};
      return [
        i ? " · " : "",
        el("span", { txt: `${info.label || key} ${formatNumber(page, values[key], 2)}${info.suffix || ""}` }),
      ];
    }),
  ]);
}

// ---- Calls ----------------------------------------------------------------------------------

export function callListItem(page, call, { selected = false } = {}) {
  const findings = call.findings || [];
  const judged = findings.filter((f) => f.verdict).length;
  const worst = findings.some((f) => f.severity === "high") ? "high" : findings.length ? "medium" : "low";
  return el(
    "li",
    {
      cls: `cmp-item${selected ? " is-selected" : ""}`,
      attrs: { "data-call": call.call_id },
    },
    [
      el(
        "a",
        {
          cls: "cmp-item__link",
          attrs: { href: `#call-${encodeURIComponent(call.call_id)}`, "aria-current": selected ? "true" : null },
        },
        [
          el("span", { cls: "cmp-item__title" }, [
            el("span", { txt: call.call_id }),
            " ",
            severityBadge(page, worst),
          ]),
          el("span", {
            cls: "cmp-item__meta muted",
            txt: [call.agent, call.region, formatTime(page, call.started_at)].filter(Boolean).join(" · "),
          }),
          el("span", {
            cls: "cmp-item__meta small",
            txt: `${page.t("nFindings", { n: findings.length })} · ${page.t("judged", { n: judged, total: findings.length })}`,
          }),
        ],
      ),
    ],
  );
}

export function paintCallList(page, { flashId = null } = {}) {
  const list = document.getElementById("call-list");
  if (!list) return;
  list.replaceChildren(
    ...page.state.calls.map((call) => callListItem(page, call, { selected: call.call_id === page.selectedCall })),
  );
  if (!page.state.calls.length) list.append(el("li", { cls: "cmp-empty", txt: page.t("noCalls") }));
  if (flashId) flashNode(list.querySelector(`[data-call="${CSS.escape(flashId)}"]`));
  const tab = document.querySelector('[data-tab-count="calls"]');
  if (tab) {
    tab.textContent = String(page.state.callsCount || page.state.calls.length);
    tab.hidden = !page.state.calls.length;
  }
  const more = document.getElementById("calls-more");
  if (more) more.hidden = page.state.calls.length >= (page.state.callsCount || 0);
}

export function paintPrecision(page) {
  const box = document.getElementById("precision");
  if (!box) return;
  const p = page.state.precision || {};
  const rows = Object.entries(p.categories || {}).sort(
    (a, b) => b[1].right + b[1].wrong + b[1].missed - (a[1].right + a[1].wrong + a[1].missed),
  );
  box.replaceChildren(
    el("div", { cls: "cmp-precision__figures" }, [
      el("div", { cls: "cmp-stat" }, [
        el("span", { cls: "cmp-stat__value", txt: formatPct(page, p.precision), attrs: { "data-role": "precision" } }),
        el("span", { cls: "cmp-stat__label", txt: page.t("runningPrecision") }),
      ]),
      el("div", { cls: "cmp-stat" }, [
        el("span", { cls: "cmp-stat__value", txt: formatNumber(page, p.right || 0, 0) }),
        el("span", { cls: "cmp-stat__label", txt: page.t("verdict_right") }),
      ]),
      el("div", { cls: "cmp-stat" }, [
        el("span", { cls: "cmp-stat__value", txt: formatNumber(page, p.wrong || 0, 0) }),
        el("span", { cls: "cmp-stat__label", txt: page.t("verdict_wrong") }),
      ]),
      el("div", { cls: "cmp-stat" }, [
        el("span", { cls: "cmp-stat__value", txt: formatNumber(page, p.missed || 0, 0) }),
        el("span", { cls: "cmp-stat__label", txt: page.t("verdict_missed") }),
      ]),
    ]),
    rows.length
      ? el("details", { cls: "cmp-precision__details" }, [
          el("summary", { txt: page.t("precisionByCategory") }),
          el("div", { cls: "table-wrap" }, [
            el("table", { cls: "table table--compact" }, [
              el("thead", {}, [
                el("tr", {}, [
                  el("th", { txt: page.t("category"), attrs: { scope: "col" } }),
                  el("th", { cls: "num", txt: page.t("precision"), attrs: { scope: "col" } }),
                  el("th", { cls: "num", txt: page.t("verdict_right"), attrs: { scope: "col" } }),
                  el("th", { cls: "num", txt: page.t("verdict_wrong"), attrs: { scope: "col" } }),
                  el("th", { cls: "num", txt: page.t("verdict_missed"), attrs: { scope: "col" } }),
                ]),
              ]),
              el(
                "tbody",
                {},
                rows.map(([key, row]) =>
                  el("tr", {}, [
                    el("td", { txt: categoryLabel(page, key) }),
                    el("td", { cls: "num", txt: formatPct(page, row.precision) }),
                    el("td", { cls: "num", txt: String(row.right) }),
                    el("td", { cls: "num", txt: String(row.wrong) }),
                    el("td", { cls: "num", txt: String(row.missed) }),
                  ]),
                ),
              ),
            ]),
          ]),
        ])
      : el("p", { cls: "muted small", txt: page.t("noVerdicts") }),
  );
}

/** The selection's text for the "mark as missed" bar. */
export function selectionExcerpt(text, span) {
  const shown = excerpt(text, span.start, span.end);
  return shown.length > 80 ? `${shown.slice(0, 79)}…` : shown;
}

// ---- The library ----------------------------------------------------------------------------

export function libraryRow(page, category) {
  const patterns = category.patterns || [];
  const editor = page.perms.editLibrary;
  return el("tr", { attrs: { "data-category-row": category.key } }, [
    el("th", { cls: "cmp-lib__name", attrs: { scope: "row" } }, [
      el("span", { cls: "cmp-lib__label", txt: categoryLabel(page, category.key) }),
      el("code", { cls: "cmp-lib__key", txt: category.key }),
    ]),
    el("td", {}, [severityBadge(page, category.severity)]),
    el("td", { cls: "cmp-lib__patterns" }, [
      patterns.length
        ? el("details", {}, [
            el("summary", { txt: page.t("nPatterns", { n: patterns.length }) }),
            el("ul", { cls: "cmp-lib__pattern-list" }, patterns.map((p) => el("li", {}, [el("code", { txt: p })]))),
          ])
        : el("span", { cls: "muted small", txt: page.t("readsNumbers") }),
    ]),
    el("td", { cls: "cmp-lib__suggestions" }, [
      el("span", { cls: "cmp-lib__suggestion", txt: category.suggestion_zh, attrs: { lang: "zh-Hans" } }),
      el("span", { cls: "cmp-lib__suggestion", txt: category.suggestion_en, attrs: { lang: "en" } }),
    ]),
    el("td", { cls: "small" }, [category.parameter ? el("code", { txt: category.parameter }) : el("span", { cls: "muted", txt: "–" })]),
    el("td", { cls: "cmp-lib__meta small" }, [
      el("span", { cls: "param-version", txt: `v${category.version}` }),
      " ",
      category.updated_by
        ? el("span", { txt: page.t("editedBy", { who: category.updated_by, when: formatTime(page, category.updated_at) }) })
        : el("span", { cls: "muted", txt: page.t("asShipped") }),
    ]),
    el("td", { cls: "cmp-lib__actions" }, [
      editor
        ? el("button", {
            cls: "button button--secondary button--small",
            txt: page.t("edit"),
            attrs: { type: "button", "data-action": "edit-category", "data-key": category.key },
          })
        : null,
      el("button", {
        cls: "button button--quiet button--small",
        txt: page.t("history"),
        attrs: { type: "button", "data-action": "category-history", "data-key": category.key },
      }),
    ]),
  ]);
}

export function paintLibrary(page, { flashKey = null } = {}) {
  const body = document.getElementById("library-body");
  if (!body) return;
  const open = new Set([...body.querySelectorAll("tr[data-editor-for]")].map((r) => r.dataset.editorFor));
  const editors = new Map([...body.querySelectorAll("tr[data-editor-for]")].map((r) => [r.dataset.editorFor, r]));
  const rows = [];
  for (const category of page.state.library) {
    rows.push(libraryRow(page, category));
    if (open.has(category.key)) rows.push(editors.get(category.key));
  }
  body.replaceChildren(...rows);
  if (flashKey) flashNode(body.querySelector(`tr[data-category-row="${CSS.escape(flashKey)}"]`));
}

// ---- The evaluation -------------------------------------------------------------------------

export function evaluationView(page, evaluation) {
  if (!evaluation) return el("p", { cls: "notice notice--info", txt: page.t("evaluationUnavailable") });
  const runs = evaluation.runs;
  const figure = (run) =>
    el("div", { cls: "cmp-eval__run", attrs: { "data-run": run.id } }, [
      el("h3", { txt: page.t(`run_${run.id}`) === `run_${run.id}` ? run.id : page.t(`run_${run.id}`) }),
      el("div", { cls: "cmp-eval__figures" }, [
        el("div", { cls: "cmp-stat" }, [
          el("span", { cls: "cmp-stat__value", txt: formatPct(page, run.overall && run.overall.precision) }),
          el("span", { cls: "cmp-stat__label", txt: page.t("precision") }),
        ]),
        el("div", { cls: "cmp-stat" }, [
          el("span", { cls: "cmp-stat__value", txt: formatPct(page, run.overall && run.overall.recall) }),
          el("span", { cls: "cmp-stat__label", txt: page.t("recall") }),
        ]),
      ]),
    ]);
  const keys = [
    ...new Set([
      ...page.state.library.map((c) => c.key),
      ...runs.flatMap((run) => Object.keys(run.categories)),
    ]),
  ].filter((key) => runs.some((run) => run.categories[key]));
  const table = keys.length
    ? el("div", { cls: "table-wrap" }, [
        el("table", { cls: "table table--compact cmp-eval__table", attrs: { id: "evaluation-table" } }, [
          el("thead", {}, [
            el("tr", {}, [
              el("th", { txt: page.t("category"), attrs: { scope: "col", rowspan: runs.length > 1 ? "2" : null } }),
              ...runs.map((run) =>
                runs.length > 1
                  ? el("th", { cls: "cmp-eval__group", txt: page.t(`run_${run.id}`), attrs: { scope: "colgroup", colspan: "3" } })
                  : null,
              ),
              ...(runs.length > 1
                ? []
                : [
                    el("th", { cls: "num", txt: page.t("precision"), attrs: { scope: "col" } }),
                    el("th", { cls: "num", txt: page.t("recall"), attrs: { scope: "col" } }),
                    el("th", { cls: "num", txt: page.t("support"), attrs: { scope: "col" } }),
                  ]),
            ]),
            runs.length > 1
              ? el(
                  "tr",
                  {},
                  runs.flatMap(() => [
                    el("th", { cls: "num", txt: page.t("precision"), attrs: { scope: "col" } }),
                    el("th", { cls: "num", txt: page.t("recall"), attrs: { scope: "col" } }),
                    el("th", { cls: "num", txt: page.t("support"), attrs: { scope: "col" } }),
                  ]),
                )
              : null,
          ]),
          el(
            "tbody",
            {},
            keys.map((key) =>
              el("tr", { attrs: { "data-eval-category": key } }, [
                el("th", { attrs: { scope: "row" } }, [
                  el("span", { txt: categoryLabel(page, key) }),
                  " ",
                  el("code", { cls: "cmp-lib__key", txt: key }),
                ]),
                ...runs.flatMap((run) => {
                  const score = run.categories[key];
                  return [
                    el("td", { cls: "num", txt: formatPct(page, score && score.precision) }),
                    el("td", { cls: "num", txt: formatPct(page, score && score.recall) }),
                    el("td", { cls: "num muted", txt: score && score.support !== null ? formatNumber(page, score.support, 0) : "–" }),
                  ];
                }),
              ]),
            ),
          ),
        ]),
      ])
    : el("p", { cls: "muted", txt: page.t("evaluationNoCategories") });
  return el("div", { cls: "cmp-eval" }, [
    el("div", { cls: "cmp-eval__runs" }, runs.map(figure)),
    evaluation.utterances !== null
      ? el("p", { cls: "muted small", txt: page.t("evaluationSize", { n: formatNumber(page, evaluation.utterances, 0) }) })
      : null,
    table,
  ]);
}
