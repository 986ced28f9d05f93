// What people do on the /compliance/ page, through the API (carloan/compliance/api.py):
//   POST check/ {text}                                   → {compliant, findings}
//   POST scripts/ {title, channel, text}                 → 201 script
//   PATCH scripts/{id}/ {version, title?, channel?, text?, state?, note?} → 200 | 400 | 403 |
//         409 {detail, current}
//   GET scripts/{id}/history/
//   POST calls/{id}/verdicts/ {category, start, end, verdict: right|wrong|missed} → 200 call
//   GET precision/, GET calls/?flagged=1&offset=
//   PATCH library/{key}/ {version, reason, severity?, patterns?, suggestion_en?, suggestion_zh?}
//         → 200 | 400 {patterns: ["pattern 2 (…): why"]} | 409 {detail, current}
//   GET library/{key}/history/, POST library/{key}/revert/ {version, base_version, reason}
//   GET evaluation/
// The API decides who may: the controls shown follow the person's rights (page.perms), and a 403
// is still reported in words.

import { button, el } from "../common.js";
import { selectionSpan } from "./highlight.js";
import {
  categoryLabel,
  checkedAgainst,
  evaluationView,
  formatNumber,
  formatTime,
  scriptMeta,
  selectionExcerpt,
  stateBadge,
  textWithFindings,
  verdictLine,
} from "./render.js";
import {
  ACTION_TARGET,
  categoryChanges,
  noteRequired,
  normalizeEvaluation,
  placePatternErrors,
  scriptActions,
} from "./state.js";

const API = "/api/compliance/";
const CHANNELS = ["phone", "wechat", "sms", "store", "web"];

/** A failed answer in words: field errors, detail, or the status. */
export function failure(page, status, data) {
  if (status === 0) return [page.t("network")];
  if (status === 401) return [page.t("signedOut")];
  if (status === 403) return [(data && data.detail) || page.t("forbidden")];
  if (status === 404) return [(data && data.detail) || page.t("notFound")];
  if (data && typeof data === "object") {
    const messages = [];
    for (const [field, value] of Object.entries(data)) {
      if (field === "current") continue;
      for (const message of [].concat(value)) {
        if (typeof message === "string") messages.push(message);
      }
    }
    if (messages.length) return messages;
  }
  return [page.t("unexpected", { status })];
}

function errorBox() {
  return el("div", { cls: "cmp-error", attrs: { role: "alert" } });
}

function showErrors(box, messages) {
  box.replaceChildren(...messages.map((m) => el("p", { cls: "field__error", txt: m })));
}

function field(label, input, { help, error } = {}) {
  return el("div", { cls: "field" }, [
    el("label", { txt: label, attrs: { for: input.id } }),
    input,
    help ? el("p", { cls: "field__help", txt: help }) : null,
    error || null,
  ]);
}

function counter(page, textarea, max) {
  const node = el("span", { cls: "cmp-counter", attrs: { "aria-live": "polite" } });
  const paint = () => {
    const n = Array.from(textarea.value).length;
    node.textContent = page.t("charCount", { n: formatNumber(page, n, 0), max: formatNumber(page, max, 0) });
    node.classList.toggle("is-near", n > max * 0.9);
    node.classList.toggle("is-over", n > max);
  };
  textarea.addEventListener("input", paint);
  paint();
  return node;
}

// ---- Check a text ---------------------------------------------------------------------------

export function setupCheck(page) {
  const form = document.getElementById("check-form");
  const textarea = document.getElementById("check-text");
  const result = document.getElementById("check-result");
  if (!form || !textarea || !result) return;
  const max = page.config.maxText || 20000;
  const slot = document.getElementById("check-counter");
  if (slot) slot.replaceWith(counter(page, textarea, max));
  const submit = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value;
    const errors = errorBox();
    if (!text.trim()) {
      showErrors(errors, [page.t("textRequired")]);
      result.replaceChildren(errors);
      return;
    }
    if (Array.from(text).length > max) {
      showErrors(errors, [page.t("textTooLong", { max: formatNumber(page, max, 0) })]);
      result.replaceChildren(errors);
      return;
    }
    submit.disabled = true;
    result.classList.add("is-loading");
    const { status, data } = await page.api("POST", `${API}check/`, { text });
    submit.disabled = false;
    result.classList.remove("is-loading");
    if (status !== 200 || !data) {
      showErrors(errors, failure(page, status, data));
      result.replaceChildren(errors);
      return;
    }
    const findings = data.findings || [];
    result.replaceChildren(
      verdictLine(page, data.compliant, findings),
      textWithFindings(page, text, findings),
    );
  });
}

// ---- Scripts --------------------------------------------------------------------------------

/** The detail pane of a script: what it says, what the check found, and what one may do. */
export function showScript(page, script, { notice = null } = {}) {
  const pane = document.getElementById("script-detail");
  if (!pane) return;
  if (!script) {
    pane.replaceChildren(el("p", { cls: "cmp-placeholder", txt: page.t("chooseScript") }));
    return;
  }
  const findings = script.findings || [];
  const { actions, waiting } = scriptActions(script, page.perms);
  const slot = el("div", { cls: "cmp-action-slot" });
  const bar = el("div", { cls: "cmp-actions" }, [
    ...actions.map((action) =>
      button(page.t(`act_${action}`), {
        cls: action === "approve" ? "button--primary button--small" : action === "retire" ? "button--danger button--small" : "button--secondary button--small",
        attrs: { "data-action": action },
        onClick: () => (action === "edit" ? openScriptEditor(page, script) : openMove(page, script, action, slot)),
      }),
    ),
    button(page.t("history"), {
      cls: "button--quiet button--small",
      attrs: { "data-action": "script-history" },
      onClick: () => openScriptHistory(page, script),
    }),
  ]);
  pane.replaceChildren(
    el("article", { cls: "cmp-detail", attrs: { "data-script-detail": String(script.id), "data-version": String(script.version) } }, [
      el("header", { cls: "cmp-detail__head" }, [
        el("h3", { cls: "cmp-detail__title", txt: script.title }),
        el("div", { cls: "cmp-detail__badges" }, [
          stateBadge(page, script.state),
          " ",
          el("span", { cls: "badge", txt: script.channel }),
          " ",
          el("span", { cls: "param-version", txt: `v${script.version}`, attrs: { title: page.t("version") } }),
        ]),
      ]),
      scriptMeta(page, script),
      notice ? el("p", { cls: "notice notice--info cmp-live-notice", txt: notice }) : null,
      script.state === "needs_review"
        ? el("p", { cls: "notice cmp-notice--warn", txt: page.t("needsReviewNote"), attrs: { "data-role": "needs-review" } })
        : null,
      script.review_note
        ? el("div", { cls: "cmp-review-note", attrs: { "data-role": "review-note" } }, [
            el("strong", { txt: page.t("reviewNote") }),
            " ",
            el("span", { txt: script.review_note }),
          ])
        : null,
      verdictLine(page, script.compliant, findings),
      checkedAgainst(page, script),
      bar,
      waiting ? el("p", { cls: "cmp-waiting muted small", txt: page.t(waiting) }) : null,
      slot,
      el("div", { attrs: { "data-role": "script-body" } }, [textWithFindings(page, script.text, findings)]),
    ]),
  );
}

/** A move (submit, approve, ask for changes, send back to review, retire), with a note. */
function openMove(page, script, action, slot) {
  const required = noteRequired(action, script);
  const note = el("textarea", {
    attrs: { id: "move-note", name: "note", rows: "2", maxlength: "2000", placeholder: page.t(required ? "noteRequired" : "noteOptional") },
  });
  const errors = errorBox();
  const confirm = button(page.t(`confirm_${action}`), {
    cls: action === "retire" ? "button--danger" : "button--primary",
    attrs: { "data-action": "confirm-move" },
  });
  const cancel = button(page.t("cancel"), { cls: "button--secondary", onClick: () => slot.replaceChildren() });
  const hint =
    action === "approve" && !script.compliant
      ? page.t("approveNotCompliant")
      : action === "request_changes"
        ? page.t("requestChangesHint")
        : action === "submit" && !script.compliant
          ? page.t("submitNotCompliant")
          : null;
  confirm.addEventListener("click", async () => {
    const text = note.value.trim();
    if (required && !text) {
      showErrors(errors, [page.t(action === "approve" ? "noteForApproval" : "noteForChanges")]);
      note.focus();
      return;
    }
    confirm.disabled = true;
    const body = { version: script.version, state: ACTION_TARGET[action] };
    if (text) body.note = text;
    const { status, data } = await page.api("PATCH", `${API}scripts/${script.id}/`, body);
    confirm.disabled = false;
    if (status === 200 && data) {
      page.receiveScript(data);
      page.toast(page.t(`done_${action}`), "ok");
      return;
    }
    if (status === 409 && data && data.current) {
      showConflict(page, errors, data, () => page.receiveScript(data.current, { force: true }));
      return;
    }
    showErrors(errors, failure(page, status, data));
  });
  slot.replaceChildren(
    el("div", { cls: "cmp-move", attrs: { "data-move": action } }, [
      hint ? el("p", { cls: "cmp-move__hint", txt: hint }) : null,
      field(page.t(required ? "noteRequiredLabel" : "noteLabel"), note),
      el("div", { cls: "cmp-buttons" }, [confirm, cancel]),
      errors,
    ]),
  );
  note.focus();
}

/** A 409: how the thing stands now, and a button to load it. */
function showConflict(page, box, data, reload, { keepMine = null } = {}) {
  const current = data.current || {};
  const who = current.updated_by || page.t("someone");
  box.replaceChildren(
    el("div", { cls: "cmp-conflict", attrs: { "data-role": "conflict" } }, [
      el("strong", { cls: "cmp-conflict__title", txt: page.t("conflictTitle") }),
      el("p", {
        txt: page.t("conflictBody", {
          who,
          version: current.version,
          when: formatTime(page, current.updated_at),
        }),
      }),
      current.state ? el("p", { cls: "small" }, [page.t("nowState"), " ", stateBadge(page, current.state)]) : null,
      el("div", { cls: "cmp-buttons" }, [
        button(page.t("reloadCurrent"), { cls: "button--primary button--small", attrs: { "data-action": "reload-current" }, onClick: reload }),
        keepMine
          ? button(page.t("saveMineAnyway"), { attrs: { "data-action": "save-mine" }, onClick: keepMine })
          : null,
      ]),
    ]),
  );
}

/** The editor of a script (a new one when `script` is null) in the detail pane. */
export function openScriptEditor(page, script = null) {
  const pane = document.getElementById("script-detail");
  if (!pane || !page.perms.writeScripts) return;
  page.editing = script ? script.id : "new";
  const max = page.config.maxText || 20000;
  const title = el("input", { attrs: { type: "text", id: "script-title", name: "title", maxlength: "200", autocomplete: "off", required: "" } });
  const channel = el("input", { attrs: { type: "text", id: "script-channel", name: "channel", maxlength: "32", list: "script-channels", autocomplete: "off", required: "" } });
  const channels = el("datalist", { attrs: { id: "script-channels" } }, CHANNELS.map((c) => el("option", { attrs: { value: c } })));
  const text = el("textarea", { attrs: { id: "script-text", name: "text", rows: "10", maxlength: String(max), required: "" } });
  title.value = script ? script.title : "";
  channel.value = script ? script.channel : "phone";
  text.value = script ? script.text : "";
  let base = script;
  const errors = errorBox();
  const notice = el("div", { cls: "cmp-editor__notice", attrs: { "aria-live": "polite", "data-role": "editor-notice" } });
  const save = button(page.t(script ? "saveScript" : "createScript"), { cls: "button--primary", attrs: { type: "submit", "data-action": "save-script" } });
  save.type = "submit";
  const cancel = button(page.t("cancel"), {
    cls: "button--secondary",
    onClick: () => {
      page.editing = null;
      showScript(page, script && page.scriptById(script.id));
    },
  });
  const form = el("form", { cls: "cmp-editor", attrs: { id: "script-editor", novalidate: "", "data-editing": script ? String(script.id) : "new" } }, [
    el("h3", { txt: script ? page.t("editScript", { id: script.id }) : page.t("newScript") }),
    script && script.state !== "draft" ? el("p", { cls: "notice cmp-notice--warn", txt: page.t("editBackToDraft") }) : null,
    el("div", { cls: "cmp-editor__row" }, [field(page.t("title"), title), field(page.t("channel"), channel), channels]),
    field(page.t("scriptText"), text),
    el("div", { cls: "cmp-editor__foot" }, [counter(page, text, max), el("div", { cls: "cmp-buttons" }, [save, cancel])]),
    notice,
    errors,
  ]);

  async function send(version) {
    const body = { title: title.value, channel: channel.value, text: text.value };
    const missing = Object.entries(body).filter(([, v]) => !v.trim()).map(([k]) => page.t("fieldRequired", { field: page.t(k === "text" ? "scriptText" : k) }));
    if (missing.length) {
      showErrors(errors, missing);
      return;
    }
    save.disabled = true;
    const answer = base
      ? await page.api("PATCH", `${API}scripts/${base.id}/`, { ...body, version })
      : await page.api("POST", `${API}scripts/`, body);
    save.disabled = false;
    const { status, data } = answer;
    if ((status === 200 || status === 201) && data) {
      page.editing = null;
      page.receiveScript(data);
      page.toast(page.t(status === 201 ? "scriptCreated" : "scriptSaved"), "ok");
      page.openScript(data.id);
      return;
    }
    if (status === 409 && data && data.current) {
      showConflict(
        page,
        errors,
        data,
        () => {
          page.receiveScript(data.current, { force: true });
          base = data.current;
          title.value = base.title;
          channel.value = base.channel;
          text.value = base.text;
          text.dispatchEvent(new Event("input"));
          errors.replaceChildren();
          notice.replaceChildren(el("p", { cls: "notice notice--info", txt: page.t("reloaded", { version: base.version }) }));
        },
        { keepMine: () => send(data.current.version) },
      );
      return;
    }
    showErrors(errors, failure(page, status, data));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(base ? base.version : 0);
  });
  pane.replaceChildren(form);
  title.focus();
}

/** A script changed elsewhere while its editor is open: say so, keep what is typed. */
export function editorNotice(page, script) {
  const notice = document.querySelector("#script-editor [data-role=editor-notice]");
  if (!notice) return;
  notice.replaceChildren(
    el("p", {
      cls: "notice notice--info",
      txt: page.t("changedWhileEditing", { who: script.updated_by || page.t("someone"), version: script.version }),
    }),
  );
}

export async function openScriptHistory(page, script) {
  const body = page.openDrawer(page.t("scriptHistoryTitle", { title: script.title }), `#${script.id}`);
  const { status, data } = await page.api("GET", `${API}scripts/${script.id}/history/`);
  if (status !== 200 || !Array.isArray(data)) {
    body.replaceChildren(el("p", { cls: "field__error", txt: failure(page, status, data).join(" ") }));
    return;
  }
  body.replaceChildren(
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact history-table", attrs: { id: "script-history" } }, [
        el("thead", {}, [
          el("tr", {}, [
            el("th", { txt: page.t("version"), attrs: { scope: "col" } }),
            el("th", { txt: page.t("when"), attrs: { scope: "col" } }),
            el("th", { txt: page.t("change"), attrs: { scope: "col" } }),
            el("th", { txt: page.t("note"), attrs: { scope: "col" } }),
          ]),
        ]),
        el(
          "tbody",
          {},
          data.map((row) =>
            el("tr", { attrs: { "data-version": String(row.version) } }, [
              el("td", {}, [el("span", { cls: "param-version", txt: `v${row.version}` })]),
              el("td", {}, [
                el("time", { txt: formatTime(page, row.at), attrs: { datetime: row.at } }),
                el("span", { cls: "history__who", txt: row.by || page.t("system") }),
              ]),
              el("td", {}, [el("span", { txt: page.t(`action_${row.action}`) }), " ", stateBadge(page, row.state)]),
              el("td", { cls: "history__reason", txt: row.note || "—" }),
            ]),
          ),
        ),
      ]),
    ]),
  );
}

// ---- Calls ----------------------------------------------------------------------------------

/** The detail pane of a call: the transcript with its findings, reviewers' verdicts. */
export function showCall(page, call) {
  const pane = document.getElementById("call-detail");
  if (!pane) return;
  if (!call) {
    pane.replaceChildren(el("p", { cls: "cmp-placeholder", txt: page.t("chooseCall") }));
    return;
  }
  const reviewer = page.perms.giveVerdicts;
  const missedBar = reviewer ? el("div", { cls: "cmp-missed-bar", attrs: { id: "missed-bar", hidden: "" } }) : null;
  const review = textWithFindings(page, call.transcript, call.findings || [], {
    missed: call.missed || [],
    extra: (finding) => verdictControls(page, call, finding),
    below: el("div", {}, [
      reviewer ? el("p", { cls: "muted small cmp-missed-hint", txt: page.t("missedHint") }) : null,
      missedBar,
      missedList(page, call),
    ]),
  });
  pane.replaceChildren(
    el("article", { cls: "cmp-detail", attrs: { "data-call-detail": call.call_id } }, [
      el("header", { cls: "cmp-detail__head" }, [
        el("h3", { cls: "cmp-detail__title", txt: page.t("callTitle", { id: call.call_id }) }),
        el("div", { cls: "cmp-detail__badges" }, [
          call.direction ? el("span", { cls: "badge", txt: page.t(`direction_${call.direction}`) }) : null,
        ]),
      ]),
      el("dl", { cls: "cmp-facts" }, [
        ...fact(page.t("agent"), call.agent),
        ...fact(page.t("region"), call.region),
        ...fact(page.t("time"), formatTime(page, call.started_at)),
        call.script_id
          ? fact(
              page.t("script"),
              /^\d+$/.test(call.script_id)
                ? el("a", { txt: `#${call.script_id}`, attrs: { href: `#script-${call.script_id}` } })
                : call.script_id,
            )
          : [],
        call.lead_id ? fact(page.t("lead"), call.lead_id) : [],
      ].flat()),
      verdictLine(page, !call.flagged, call.findings || []),
      reviewer ? null : el("p", { cls: "muted small", txt: page.t("verdictsReadOnly") }),
      review,
    ]),
  );
  if (reviewer) watchSelection(page, call, review.querySelector("[data-role=text]"), missedBar);
}

function fact(name, value) {
  return [el("dt", { txt: name }), el("dd", {}, [value])];
}

function verdictControls(page, call, finding) {
  const given = finding.verdict;
  if (!page.perms.giveVerdicts) {
    return given
      ? el("p", { cls: `cmp-verdict-given cmp-verdict-given--${given}`, txt: page.t(`judged_${given}`) })
      : null;
  }
  const box = el("div", { cls: "cmp-verdict-buttons", attrs: { role: "group", "aria-label": page.t("verdict") } });
  const errors = errorBox();
  for (const verdict of ["right", "wrong"]) {
    box.append(
      button(page.t(`verdict_${verdict}`), {
        cls: `button--small cmp-vbtn cmp-vbtn--${verdict}${given === verdict ? " is-on" : ""}`,
        attrs: { "data-verdict": verdict, "aria-pressed": given === verdict ? "true" : "false" },
        onClick: async (event) => {
          event.currentTarget.disabled = true;
          const { status, data } = await page.api("POST", `${API}calls/${encodeURIComponent(call.call_id)}/verdicts/`, {
            category: finding.category,
            start: finding.start,
            end: finding.end,
            verdict,
          });
          if (status === 200 && data) {
            page.receiveCall(data);
            page.refreshPrecision();
            return;
          }
          event.currentTarget.disabled = false;
          showErrors(errors, failure(page, status, data));
        },
      }),
    );
  }
  return el("div", { cls: "cmp-verdict-row" }, [box, errors]);
}

function missedList(page, call) {
  const missed = call.missed || [];
  if (!missed.length) return null;
  return el("div", { cls: "cmp-missed" }, [
    el("h4", { txt: page.t("missedTitle") }),
    el(
      "ul",
      {},
      missed.map((m) =>
        el("li", { attrs: { "data-finding": `missed:${m.category}:${m.start}:${m.end}` } }, [
          el("strong", { txt: categoryLabel(page, m.category) }),
          " ",
          el("q", { txt: m.excerpt }),
        ]),
      ),
    ),
  ]);
}

/** Where a DOM boundary (node, offset) falls in the highlighted text. */
function boundary(container, node, offset) {
  if (!container.contains(node)) return null;
  if (node.nodeType === Node.TEXT_NODE) {
    const segment = node.parentElement && node.parentElement.closest("[data-start]");
    if (!segment) return null;
    return { segmentStart: Number(segment.dataset.start), utf16Offset: offset, segmentText: node.data };
  }
  if (node === container) {
    const child = container.childNodes[offset];
    if (child && child.dataset && child.dataset.start !== undefined) {
      return { segmentStart: Number(child.dataset.start), utf16Offset: 0, segmentText: "" };
    }
    const last = container.lastElementChild;
    if (!last || last.dataset.start === undefined) return null;
    return { segmentStart: Number(last.dataset.start), utf16Offset: last.textContent.length, segmentText: last.textContent };
  }
  const segment = node.closest && node.closest("[data-start]");
  if (!segment) return null;
  const atEnd = offset > 0;
  return {
    segmentStart: Number(segment.dataset.start),
    utf16Offset: atEnd ? segment.textContent.length : 0,
    segmentText: segment.textContent,
  };
}

/** A reviewer selects words the check missed: a bar offers to mark them with a category. */
function watchSelection(page, call, textNode, bar) {
  if (!textNode || !bar) return;
  const onSelect = () => {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    const span = selectionSpan(
      boundary(textNode, range.startContainer, range.startOffset),
      boundary(textNode, range.endContainer, range.endOffset),
    );
    if (!span) return;
    offerMissed(page, call, span, bar);
  };
  textNode.addEventListener("mouseup", () => setTimeout(onSelect, 0));
  textNode.addEventListener("keyup", (event) => {
    if (event.shiftKey) onSelect();
  });
  textNode.setAttribute("tabindex", "0");
}

function offerMissed(page, call, span, bar) {
  const select = el("select", { attrs: { id: "missed-category", name: "category" } }, [
    el("option", { txt: page.t("chooseCategory"), attrs: { value: "" } }),
    ...page.state.library.map((c) => el("option", { txt: categoryLabel(page, c.key), attrs: { value: c.key } })),
  ]);
  const errors = errorBox();
  const mark = button(page.t("markMissed"), { cls: "button--primary button--small", attrs: { "data-action": "mark-missed" } });
  const cancel = button(page.t("cancel"), {
    cls: "button--secondary button--small",
    onClick: () => {
      bar.hidden = true;
      bar.replaceChildren();
    },
  });
  mark.addEventListener("click", async () => {
    if (!select.value) {
      showErrors(errors, [page.t("chooseCategoryFirst")]);
      select.focus();
      return;
    }
    mark.disabled = true;
    const { status, data } = await page.api("POST", `${API}calls/${encodeURIComponent(call.call_id)}/verdicts/`, {
      category: select.value,
      start: span.start,
      end: span.end,
      verdict: "missed",
    });
    mark.disabled = false;
    if (status === 200 && data) {
      page.receiveCall(data);
      page.refreshPrecision();
      page.toast(page.t("missedMarked"), "ok");
      return;
    }
    showErrors(errors, failure(page, status, data));
  });
  bar.replaceChildren(
    el("p", { cls: "cmp-missed-bar__sel" }, [
      el("span", { txt: page.t("selected") }),
      " ",
      el("q", { txt: selectionExcerpt(call.transcript, span) }),
    ]),
    el("div", { cls: "cmp-buttons" }, [
      el("label", { cls: "visually-hidden", txt: page.t("category"), attrs: { for: "missed-category" } }),
      select,
      mark,
      cancel,
    ]),
    errors,
  );
  bar.dataset.start = String(span.start);
  bar.dataset.end = String(span.end);
  bar.hidden = false;
}

export async function loadMoreCalls(page) {
  const more = document.getElementById("calls-more");
  if (more) more.disabled = true;
  const offset = page.state.calls.length;
  const { status, data } = await page.api("GET", `${API}calls/?flagged=1&limit=50&offset=${offset}`);
  if (more) more.disabled = false;
  if (status !== 200 || !data || !Array.isArray(data.results)) {
    page.toast(failure(page, status, data).join(" "), "error");
    return;
  }
  page.appendCalls(data.results, data.count);
}

// ---- The library ----------------------------------------------------------------------------

function patternRow(page, value, index, rows) {
  const input = el("input", {
    attrs: { type: "text", name: "pattern", spellcheck: "false", autocomplete: "off", "aria-label": page.t("patternN", { n: index + 1 }) },
  });
  input.value = value;
  const remove = button("×", {
    cls: "button--quiet button--small",
    attrs: { "aria-label": page.t("removePattern"), title: page.t("removePattern") },
    onClick: () => row.remove(),
  });
  const row = el("li", { cls: "cmp-pattern", attrs: { "data-pattern-row": String(index) } }, [
    el("div", { cls: "cmp-pattern__line" }, [input, remove]),
    el("div", { cls: "cmp-pattern__error", attrs: { "data-role": "pattern-error" } }),
  ]);
  rows.append(row);
  return row;
}

/** The editor of a library category, as a row under it. */
export function openCategoryEditor(page, key) {
  const body = document.getElementById("library-body");
  const category = page.state.library.find((c) => c.key === key);
  if (!body || !category || !page.perms.editLibrary) return;
  const existing = body.querySelector(`tr[data-editor-for="${CSS.escape(key)}"]`);
  if (existing) {
    existing.querySelector("select, input, textarea").focus();
    return;
  }
  let base = category;
  const id = `cat-${key}`;
  const severity = el("select", { attrs: { id: `${id}-severity`, name: "severity" } }, ["high", "medium", "low"].map((s) => el("option", { txt: page.t(`sev_${s}`), attrs: { value: s } })));
  const patterns = el("ol", { cls: "cmp-patterns", attrs: { id: `${id}-patterns` } });
  const zh = el("textarea", { attrs: { id: `${id}-zh`, name: "suggestion_zh", rows: "2", maxlength: "2000", lang: "zh-Hans" } });
  const en = el("textarea", { attrs: { id: `${id}-en`, name: "suggestion_en", rows: "2", maxlength: "2000", lang: "en" } });
  const reason = el("input", { attrs: { type: "text", id: `${id}-reason`, name: "reason", maxlength: "2000", autocomplete: "off", placeholder: page.t("reasonPlaceholder") } });
  const fill = (c) => {
    severity.value = c.severity;
    patterns.replaceChildren();
    (c.patterns || []).forEach((p, i) => patternRow(page, p, i, patterns));
    zh.value = c.suggestion_zh || "";
    en.value = c.suggestion_en || "";
  };
  fill(category);
  const patternsError = el("div", { cls: "cmp-error", attrs: { "data-role": "patterns-error" } });
  const errors = errorBox();
  const notice = el("div", { cls: "cmp-editor__notice", attrs: { "data-role": "editor-notice", "aria-live": "polite" } });
  const add = button(page.t("addPattern"), {
    cls: "button--quiet button--small",
    onClick: () => patternRow(page, "", patterns.children.length, patterns).querySelector("input").focus(),
  });
  const save = button(page.t("save"), { cls: "button--primary", attrs: { "data-action": "save-category" } });
  const close = () => {
    row.remove();
    page.editingCategories.delete(key);
  };
  const cancel = button(page.t("cancel"), { cls: "button--secondary", onClick: close });

  async function send(version) {
    for (const node of patterns.querySelectorAll("[data-role=pattern-error]")) node.replaceChildren();
    for (const node of patterns.querySelectorAll(".cmp-pattern")) node.classList.remove("is-error");
    patternsError.replaceChildren();
    errors.replaceChildren();
    const rows = [...patterns.querySelectorAll(".cmp-pattern")];
    const sent = [];
    const list = [];
    rows.forEach((r, i) => {
      const value = r.querySelector("input").value;
      if (value.trim()) {
        sent.push(i);
        list.push(value);
      }
    });
    const changes = categoryChanges(base, { severity: severity.value, patterns: list, suggestion_en: en.value, suggestion_zh: zh.value });
    if (!Object.keys(changes).length) {
      showErrors(errors, [page.t("nothingChanged")]);
      return;
    }
    if (!reason.value.trim()) {
      showErrors(errors, [page.t("reasonRequired")]);
      reason.focus();
      return;
    }
    save.disabled = true;
    const { status, data } = await page.api("PATCH", `${API}library/${encodeURIComponent(key)}/`, {
      ...changes,
      version,
      reason: reason.value.trim(),
    });
    save.disabled = false;
    if (status === 200 && data) {
      page.receiveCategory(data);
      close();
      page.toast(page.t("categorySaved", { name: categoryLabel(page, key), version: data.version }), "ok");
      return;
    }
    if (status === 409 && data && data.current) {
      showConflict(
        page,
        errors,
        { current: { ...data.current, updated_by: data.current.updated_by } },
        () => {
          page.receiveCategory(data.current);
          base = data.current;
          fill(base);
          errors.replaceChildren();
          notice.replaceChildren(el("p", { cls: "notice notice--info", txt: page.t("reloaded", { version: base.version }) }));
        },
        { keepMine: () => send(data.current.version) },
      );
      return;
    }
    if (status === 400 && data) {
      const placed = placePatternErrors(data.patterns ? [].concat(data.patterns) : [], sent);
      for (const [rowIndex, messages] of Object.entries(placed.byRow)) {
        const r = rows[Number(rowIndex)];
        if (!r) continue;
        r.classList.add("is-error");
        r.querySelector("[data-role=pattern-error]").replaceChildren(...messages.map((m) => el("p", { cls: "field__error", txt: m })));
      }
      showErrors(patternsError, placed.general);
      const rest = failure(page, status, { ...data, patterns: undefined });
      if (Object.keys(data).some((k) => k !== "patterns")) showErrors(errors, rest);
      return;
    }
    showErrors(errors, failure(page, status, data));
  }
  save.addEventListener("click", () => send(base.version));

  const form = el("div", { cls: "cmp-cat-editor", attrs: { "data-editor": key } }, [
    el("div", { cls: "cmp-cat-editor__grid" }, [
      el("div", {}, [
        field(page.t("severity"), severity),
        el("div", { cls: "field" }, [
          el("label", { txt: page.t("patterns"), attrs: { for: `${id}-patterns` } }),
          el("p", { cls: "field__help", txt: page.t("patternsHelp") }),
          patterns,
          add,
          patternsError,
        ]),
      ]),
      el("div", {}, [
        field(page.t("suggestionZh"), zh),
        field(page.t("suggestionEn"), en),
        field(page.t("reason"), reason),
        el("div", { cls: "cmp-buttons" }, [save, cancel]),
      ]),
    ]),
    notice,
    errors,
  ]);
  const anchor = body.querySelector(`tr[data-category-row="${CSS.escape(key)}"]`);
  const row = el("tr", { cls: "cmp-cat-editor-row", attrs: { "data-editor-for": key } }, [
    el("td", { attrs: { colspan: String(anchor ? anchor.cells.length : 7) } }, [form]),
  ]);
  if (anchor) anchor.after(row);
  else body.append(row);
  page.editingCategories.add(key);
  severity.focus();
}

/** A category changed elsewhere while its editor is open. */
export function categoryEditorNotice(page, category) {
  const notice = document.querySelector(`[data-editor="${CSS.escape(category.key)}"] [data-role=editor-notice]`);
  if (!notice) return;
  notice.replaceChildren(
    el("p", {
      cls: "notice notice--info",
      txt: page.t("categoryChangedWhileEditing", { who: category.updated_by || page.t("someone"), version: category.version }),
    }),
  );
}

function describeChange(page, row) {
  const parts = [];
  const old = row.old || {};
  const now = row.new || {};
  if (old.severity !== now.severity) parts.push(`${page.t("severity")}: ${page.t(`sev_${old.severity}`)} → ${page.t(`sev_${now.severity}`)}`);
  const before = new Set(old.patterns || []);
  const after = new Set(now.patterns || []);
  const added = [...after].filter((p) => !before.has(p));
  const removed = [...before].filter((p) => !after.has(p));
  if (added.length) parts.push(page.t("patternsAdded", { n: added.length }));
  if (removed.length) parts.push(page.t("patternsRemoved", { n: removed.length }));
  if (old.suggestion_zh !== now.suggestion_zh || old.suggestion_en !== now.suggestion_en) parts.push(page.t("suggestionsChanged"));
  return el("div", {}, [
    el("span", { txt: parts.join(" · ") || "—" }),
    added.length || removed.length
      ? el("ul", { cls: "cmp-pattern-diff" }, [
          ...added.map((p) => el("li", { cls: "is-added" }, [el("code", { txt: `+ ${p}` })])),
          ...removed.map((p) => el("li", { cls: "is-removed" }, [el("code", { txt: `− ${p}` })])),
        ])
      : null,
  ]);
}

export async function openCategoryHistory(page, key) {
  const body = page.openDrawer(page.t("categoryHistoryTitle", { name: categoryLabel(page, key) }), key);
  page.historyKey = key;
  const { status, data } = await page.api("GET", `${API}library/${encodeURIComponent(key)}/history/`);
  if (page.historyKey !== key) return;
  if (status !== 200 || !Array.isArray(data)) {
    body.replaceChildren(el("p", { cls: "field__error", txt: failure(page, status, data).join(" ") }));
    return;
  }
  const category = page.state.library.find((c) => c.key === key) || { version: 1 };
  const entries = [...data];
  entries.push({ version: 1, shipped: true });
  const rows = entries.map((row) => {
    const current = row.version === category.version;
    const actions = el("td", { cls: "history__actions" });
    if (page.perms.editLibrary && !current) {
      actions.append(
        button(page.t("revert"), {
          attrs: { "data-action": "revert-category", "data-version": String(row.version) },
          onClick: () => confirmRevert(page, key, row.version, actions),
        }),
      );
    }
    return el("tr", { cls: current ? "is-current" : "", attrs: { "data-version": String(row.version) } }, [
      el("td", {}, [
        el("span", { cls: "param-version", txt: `v${row.version}` }),
        current ? el("span", { cls: "badge badge--ok history__current", txt: page.t("current") }) : null,
      ]),
      el("td", {}, row.shipped
        ? [el("span", { cls: "history__who", txt: page.t("asShipped") })]
        : [
            el("time", { txt: formatTime(page, row.changed_at), attrs: { datetime: row.changed_at } }),
            el("span", { cls: "history__who", txt: row.changed_by || page.t("system") }),
          ]),
      el("td", { cls: "history__change" }, [row.shipped ? el("span", { cls: "muted", txt: page.t("shippedDefinition") }) : describeChange(page, row)]),
      el("td", { cls: "history__reason", txt: row.reason || "—" }),
      page.perms.editLibrary ? actions : null,
    ]);
  });
  body.replaceChildren(
    page.perms.editLibrary ? el("p", { cls: "muted small", txt: page.t("revertNote") }) : null,
    el("div", { cls: "table-wrap" }, [
      el("table", { cls: "table table--compact history-table", attrs: { id: "category-history" } }, [
        el("thead", {}, [
          el("tr", {}, [
            el("th", { txt: page.t("version"), attrs: { scope: "col" } }),
            el("th", { txt: page.t("when"), attrs: { scope: "col" } }),
            el("th", { txt: page.t("change"), attrs: { scope: "col" } }),
            el("th", { txt: page.t("why"), attrs: { scope: "col" } }),
            page.perms.editLibrary ? el("th", { attrs: { scope: "col" } }, [el("span", { cls: "visually-hidden", txt: page.t("revert") })]) : null,
          ]),
        ]),
        el("tbody", {}, rows),
      ]),
    ]),
  );
}

function confirmRevert(page, key, version, cell) {
  const reason = el("input", { attrs: { type: "text", name: "reason", maxlength: "2000", placeholder: page.t("reasonOptional"), "aria-label": page.t("reason") } });
  const errors = errorBox();
  const yes = button(page.t("confirmRevert"), { cls: "button--primary button--small", attrs: { "data-action": "confirm-revert" } });
  const no = button(page.t("cancel"), { onClick: () => openCategoryHistory(page, key) });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    const category = page.state.library.find((c) => c.key === key);
    const { status, data } = await page.api("POST", `${API}library/${encodeURIComponent(key)}/revert/`, {
      version,
      base_version: category ? category.version : 1,
      reason: reason.value.trim(),
    });
    yes.disabled = false;
    if (status === 200 && data) {
      page.receiveCategory(data);
      page.toast(page.t("reverted", { version: data.version }), "ok");
      openCategoryHistory(page, key);
      return;
    }
    if (status === 409 && data && data.current) {
      page.receiveCategory(data.current);
      showErrors(errors, [page.t("revertStale", { version: data.current.version })]);
      return;
    }
    showErrors(errors, failure(page, status, data));
  });
  cell.replaceChildren(el("div", { cls: "cmp-revert" }, [reason, el("div", { cls: "cmp-buttons" }, [yes, no]), errors]));
  reason.focus();
}

// ---- The evaluation -------------------------------------------------------------------------

export async function loadEvaluation(page) {
  const box = document.getElementById("evaluation");
  if (!box || page.evaluationLoaded) return;
  page.evaluationLoaded = true;
  box.replaceChildren(el("p", { cls: "muted", txt: page.t("loading") }));
  const { status, data } = await page.api("GET", `${API}evaluation/`);
  const evaluation = status === 200 ? normalizeEvaluation(data) : null;
  box.replaceChildren(evaluationView(page, evaluation));
  if (!evaluation) page.evaluationLoaded = false; // try again next time the tab opens
}
