// Unit tests of the /compliance/ page's pure logic (static/js/compliance/highlight.js and
// state.js), with node's built-in runner: `node --test tests/js/` (tests/test_js_units.py runs
// it under pytest).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  clampSpan,
  codePoints,
  excerpt,
  orderFindings,
  segmentLook,
  segments,
  selectionSpan,
  spanKey,
  strongestSeverity,
  toCodePointOffset,
} from "../../static/js/compliance/highlight.js";
import {
  applyEvent,
  applySnapshot,
  categoryChanges,
  createState,
  noteRequired,
  normalizeEvaluation,
  otherSuggestion,
  placePatternErrors,
  scriptActions,
  stateCounts,
  upsertCall,
} from "../../static/js/compliance/state.js";

const joined = (parts) => parts.map((s) => s.text).join("");

describe("segments: findings cut the text where they start and end", () => {
  test("no findings: one plain segment, the text unchanged", () => {
    const parts = segments("欢迎到店试驾。", []);
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0], { start: 0, end: 7, text: "欢迎到店试驾。", covers: [], starts: [] });
    assert.deepEqual(segments("", [{ start: 0, end: 3 }]), []);
  });

  test("offsets index the text as the server does", () => {
    const text = "零首付提车，百分百包过";
    const parts = segments(text, [
      { start: 0, end: 3 },
      { start: 6, end: 11 },
    ]);
    assert.deepEqual(
      parts.map((p) => [p.text, p.covers]),
      [
        ["零首付", [0]],
        ["提车，", []],
        ["百分百包过", [1]],
      ],
    );
    assert.equal(joined(parts), text);
  });

  test("overlapping findings are cut into the shared and the separate parts", () => {
    const text = "guaranteed approval, no credit check";
    //            0         1         2         3
    const spans = [
      { start: 0, end: 19 }, // guaranteed approval
      { start: 11, end: 36 }, // approval, no credit check
    ];
    const parts = segments(text, spans);
    assert.deepEqual(
      parts.map((p) => [p.start, p.end, p.covers, p.starts]),
      [
        [0, 11, [0], [0]],
        [11, 19, [0, 1], [1]],
        [19, 36, [1], []],
      ],
    );
    assert.equal(joined(parts), text);
  });

  test("a nested finding, and two findings on the same span", () => {
    const text = "abcdefghij";
    const parts = segments(text, [
      { start: 1, end: 9 },
      { start: 3, end: 5 },
      { start: 3, end: 5 },
    ]);
    assert.deepEqual(
      parts.map((p) => [p.text, p.covers]),
      [
        ["a", []],
        ["bc", [0]],
        ["de", [0, 1, 2]],
        ["fghi", [0]],
        ["j", []],
      ],
    );
    assert.deepEqual(parts[2].starts, [1, 2]);
  });

  test("findings touching end to start stay apart", () => {
    const parts = segments("aabb", [
      { start: 0, end: 2 },
      { start: 2, end: 4 },
    ]);
    assert.deepEqual(
      parts.map((p) => [p.text, p.covers, p.starts]),
      [
        ["aa", [0], [0]],
        ["bb", [1], [1]],
      ],
    );
  });

  test("spans beyond the text are clamped; empty and malformed ones ignored", () => {
    const parts = segments("abcdef", [
      { start: 4, end: 99 },
      { start: -3, end: 2 },
      { start: 3, end: 3 },
      { start: 5, end: 2 },
      { start: "x", end: 2 },
      null,
    ]);
    assert.deepEqual(
      parts.map((p) => [p.text, p.covers]),
      [
        ["ab", [1]],
        ["cd", []],
        ["ef", [0]],
      ],
    );
    assert.equal(clampSpan({ start: 2, end: 2 }, 5), null);
    assert.deepEqual(clampSpan({ start: -1, end: 9 }, 5), { start: 0, end: 5 });
  });

  test("characters beyond the BMP count once, as in Python", () => {
    const text = "🚗零首付🚗百分百包过";
    // Python: text[1:4] == "零首付", text[5:10] == "百分百包过"
    const parts = segments(text, [
      { start: 1, end: 4 },
      { start: 5, end: 10 },
    ]);
    assert.deepEqual(
      parts.map((p) => p.text),
      ["🚗", "零首付", "🚗", "百分百包过"],
    );
    assert.equal(codePoints(text).length, 10);
    assert.equal(text.length, 12); // UTF-16 units
    assert.equal(excerpt(text, 5, 10), "百分百包过");
  });
});

describe("what a segment looks like", () => {
  test("the worst severity, overlap, missed spans and finding numbers", () => {
    const ordered = orderFindings([
      { category: "excess_discount", start: 11, end: 36, severity: "medium" },
      { category: "guaranteed_approval", start: 0, end: 19, severity: "high" },
    ]);
    assert.deepEqual(
      ordered.map((f) => [f.category, f.n, f.index]),
      [
        ["guaranteed_approval", 1, 1],
        ["excess_discount", 2, 0],
      ],
    );
    const spans = [...ordered, { category: "pressure_tactics", start: 30, end: 40, missed: true, key: "missed:x" }];
    const parts = segments("x".repeat(40), spans);
    const looks = parts.map((p) => segmentLook(p, spans));
    assert.deepEqual(
      looks.map((l) => [l.severity, l.overlap, l.missed, l.numbers]),
      [
        ["high", false, false, [1]],
        ["high", true, false, [2]],
        ["medium", false, false, []],
        ["medium", false, true, []],
        [null, false, true, []],
      ],
    );
    assert.deepEqual(looks[1].keys, ["guaranteed_approval:0:19", "excess_discount:11:36"]);
  });

  test("severity order and keys", () => {
    assert.equal(strongestSeverity(["low", "medium"]), "medium");
    assert.equal(strongestSeverity(["medium", "high", "low"]), "high");
    assert.equal(strongestSeverity([]), null);
    assert.equal(spanKey({ category: "a", start: 1, end: 2 }), "a:1:2");
  });
});

describe("a selection in the highlighted text, as offsets", () => {
  test("boundaries in two segments, in either order", () => {
    const anchor = { segmentStart: 6, utf16Offset: 2, segmentText: "百分百包过" };
    const focus = { segmentStart: 0, utf16Offset: 1, segmentText: "零首付" };
    assert.deepEqual(selectionSpan(anchor, focus), { start: 1, end: 8 });
    assert.equal(selectionSpan(anchor, anchor), null);
    assert.equal(selectionSpan(null, anchor), null);
  });

  test("UTF-16 offsets inside a segment become code points", () => {
    assert.equal(toCodePointOffset("🚗零首付", 2), 1);
    assert.equal(toCodePointOffset("🚗零首付", 4), 3);
    const span = selectionSpan(
      { segmentStart: 10, utf16Offset: 2, segmentText: "🚗ab" },
      { segmentStart: 10, utf16Offset: 4, segmentText: "🚗ab" },
    );
    assert.deepEqual(span, { start: 11, end: 13 });
  });
});

// ---- state ----------------------------------------------------------------------------------

const script = (fields) => ({
  id: 1,
  title: "Spring",
  state: "draft",
  version: 1,
  compliant: true,
  findings: [],
  checked_at: "2026-05-01T10:00:00+00:00",
  updated_at: "2026-05-01T10:00:00+00:00",
  ...fields,
});

describe("socket events change the state", () => {
  test("script.updated: a new script, a newer version, a stale one ignored", () => {
    let state = createState({ scripts: [script({ id: 1 })] });
    let result = applyEvent(state, {
      type: "script.updated",
      action: "create",
      script: script({ id: 2, updated_at: "2026-05-02T10:00:00+00:00" }),
    });
    assert.equal(result.effect.accepted, true);
    assert.equal(result.effect.previous, null);
    assert.deepEqual(result.state.scripts.map((s) => s.id), [2, 1]); // newest change first
    state = result.state;

    result = applyEvent(state, {
      type: "script.updated",
      action: "submit",
      script: script({ id: 1, version: 2, state: "in_review", updated_at: "2026-05-03T10:00:00+00:00" }),
    });
    assert.equal(result.effect.accepted, true);
    assert.equal(result.effect.previous.state, "draft");
    assert.deepEqual(result.state.scripts.map((s) => [s.id, s.state]), [
      [1, "in_review"],
      [2, "draft"],
    ]);
    state = result.state;

    // The API's answer and the event carry the same version: the second changes nothing.
    const stale = applyEvent(state, { type: "script.updated", script: script({ id: 1, version: 1 }) });
    assert.equal(stale.effect.accepted, false);
    assert.equal(stale.state, state);
  });

  test("a re-check turns an approved script needs_review without a new version", () => {
    const approved = script({ state: "approved", version: 4 });
    const state = createState({ scripts: [approved] });
    const { state: next, effect } = applyEvent(state, {
      type: "script.updated",
      action: "recheck",
      script: { ...approved, state: "needs_review", version: 5, compliant: false, checked_at: "2026-05-04T10:00:00+00:00" },
    });
    assert.equal(effect.accepted, true);
    assert.equal(next.scripts[0].state, "needs_review");
    // Findings re-checked, same version, later checked_at: accepted too.
    const again = applyEvent(next, {
      type: "script.updated",
      action: "recheck",
      script: { ...next.scripts[0], findings: [{ category: "x" }], checked_at: "2026-05-05T10:00:00+00:00" },
    });
    assert.equal(again.effect.accepted, true);
    assert.equal(again.state.scripts[0].findings.length, 1);
    assert.deepEqual(stateCounts(again.state.scripts), {
      draft: 0,
      in_review: 0,
      approved: 0,
      needs_review: 1,
      retired: 0,
    });
  });

  test("call.checked: flagged calls arrive at the top; an unflagged re-check leaves", () => {
    let state = createState({ calls: [{ call_id: "A", flagged: true }], callsCount: 1 });
    let result = applyEvent(state, { type: "call.checked", call: { call_id: "B", flagged: true } });
    assert.deepEqual(result.state.calls.map((c) => c.call_id), ["B", "A"]);
    assert.equal(result.state.callsCount, 2);
    assert.equal(result.effect.added, true);
    state = result.state;
    result = applyEvent(state, { type: "call.checked", call: { call_id: "C", flagged: false } });
    assert.equal(result.state.calls.length, 2); // not flagged: not listed
    result = applyEvent(state, { type: "call.checked", call: { call_id: "A", flagged: false } });
    assert.deepEqual(result.state.calls.map((c) => c.call_id), ["B"]);
    assert.equal(result.effect.removed, true);
    assert.equal(result.state.callsCount, 1);
  });

  test("verdict.recorded: the call replaced where it is, the precision taken", () => {
    const state = createState({
      calls: [
        { call_id: "B", flagged: true, findings: [{ verdict: null }] },
        { call_id: "A", flagged: true, findings: [] },
      ],
    });
    const precision = { precision: 50, right: 1, wrong: 1, missed: 0, categories: {} };
    const { state: next } = applyEvent(state, {
      type: "verdict.recorded",
      call: { call_id: "A", flagged: true, findings: [{ verdict: "right" }] },
      precision,
    });
    assert.deepEqual(next.calls.map((c) => c.call_id), ["B", "A"]);
    assert.equal(next.calls[1].findings[0].verdict, "right");
    assert.equal(next.precision, precision);
    const other = applyEvent(state, { type: "verdict.recorded", call: { call_id: "Z", flagged: true }, precision });
    assert.equal(other.state.calls.length, 2); // a call not listed is not added
  });

  test("category.updated and figures.updated", () => {
    const state = createState({ library: [{ key: "a", version: 2 }, { key: "b", version: 1 }] });
    let result = applyEvent(state, { type: "category.updated", category: { key: "b", version: 2, severity: "high" } });
    assert.equal(result.state.library[1].severity, "high");
    assert.equal(result.state.libraryVersions.b, 2);
    result = applyEvent(state, { type: "category.updated", category: { key: "a", version: 1 } });
    assert.equal(result.effect.accepted, false);
    result = applyEvent(state, { type: "figures.updated", figures: { script_discrepancy_rate: 22 } });
    assert.equal(result.state.figures.script_discrepancy_rate, 22);
    assert.equal(applyEvent(state, { type: "pong" }).effect.kind, null);
  });

  test("a snapshot replaces, and names the library categories that moved on", () => {
    const state = createState({
      scripts: [script({ id: 1 })],
      calls: [{ call_id: "A", flagged: true }],
      library: [{ key: "a", version: 1 }, { key: "b", version: 3 }],
    });
    const { state: next, staleLibrary } = applySnapshot(state, {
      type: "compliance.snapshot",
      scripts: [script({ id: 7, state: "approved" })],
      flagged_calls: [],
      library_versions: { a: 2, b: 3 },
      figures: { flagged_calls_per_100: 12.5 },
      precision: { precision: null },
    });
    assert.deepEqual(next.scripts.map((s) => s.id), [7]);
    assert.deepEqual(next.calls, []);
    assert.deepEqual(staleLibrary, ["a"]);
    assert.equal(next.figures.flagged_calls_per_100, 12.5);
  });

  test("upsertCall keeps at most 200 calls", () => {
    const calls = Array.from({ length: 200 }, (_, i) => ({ call_id: String(i), flagged: true }));
    const { calls: next } = upsertCall(calls, { call_id: "new", flagged: true });
    assert.equal(next.length, 200);
    assert.equal(next[0].call_id, "new");
  });
});

describe("who may do what with a script", () => {
  const marketing = { writeScripts: true };
  const risk = { reviewScripts: true };
  const manager = { writeScripts: true, reviewScripts: true };

  test("marketing edits, submits and retires; risk reviews", () => {
    assert.deepEqual(scriptActions({ state: "draft" }, marketing).actions, ["edit", "submit", "retire"]);
    assert.deepEqual(scriptActions({ state: "draft" }, risk), { actions: ["retire"], waiting: "waitingMarketing" });
    assert.deepEqual(scriptActions({ state: "in_review" }, risk).actions, ["approve", "request_changes", "retire"]);
    assert.deepEqual(scriptActions({ state: "in_review" }, marketing), { actions: ["edit", "retire"], waiting: "waitingRisk" });
    assert.deepEqual(scriptActions({ state: "approved" }, risk).actions, ["send_to_review", "retire"]);
    assert.deepEqual(scriptActions({ state: "needs_review" }, manager).actions, [
      "edit",
      "approve",
      "request_changes",
      "retire",
    ]);
  });

  test("a viewer may do nothing and is told who may; a retired script is final", () => {
    assert.deepEqual(scriptActions({ state: "approved" }, {}), { actions: [], waiting: "readOnlyScripts" });
    assert.deepEqual(scriptActions({ state: "in_review" }, {}), { actions: [], waiting: "waitingRisk" });
    assert.deepEqual(scriptActions({ state: "retired" }, manager), { actions: [], waiting: "retiredNote" });
  });

  test("notes: asking for changes always, approving only a non-compliant script", () => {
    assert.equal(noteRequired("request_changes", { compliant: true }), true);
    assert.equal(noteRequired("approve", { compliant: false }), true);
    assert.equal(noteRequired("approve", { compliant: true }), false);
    assert.equal(noteRequired("submit", { compliant: false }), false);
  });
});

describe("library edits", () => {
  const category = {
    key: "pressure_tactics",
    severity: "medium",
    patterns: ["仅限今天", "today only"],
    suggestion_en: "Say when the offer ends.",
    suggestion_zh: "说明活动截止时间。",
  };

  test("only what changed is sent", () => {
    assert.deepEqual(
      categoryChanges(category, { ...category, patterns: [...category.patterns] }),
      {},
    );
    assert.deepEqual(
      categoryChanges(category, { ...category, severity: "high", patterns: ["仅限今天"] }),
      { severity: "high", patterns: ["仅限今天"] },
    );
    assert.deepEqual(categoryChanges(category, { ...category, suggestion_en: " Say when the offer ends. " }), {});
  });

  test("pattern errors go next to the pattern sent, the rest stay general", () => {
    const placed = placePatternErrors(
      ["pattern 2 (a(b): does not compile: missing )", "A category needs at least one pattern."],
      [0, 2, 3], // the editor's row 1 was blank and not sent
    );
    assert.deepEqual(placed.byRow, { 2: ["pattern 2 (a(b): does not compile: missing )"] });
    assert.deepEqual(placed.general, ["A category needs at least one pattern."]);
  });
});

describe("the evaluation, read defensively", () => {
  test("rules-only and rules+model runs with per-category figures, as fractions", () => {
    const evaluation = normalizeEvaluation({
      utterances: 400,
      rules: {
        not_compliant: { precision: 0.9, recall: 0.8 },
        categories: { guaranteed_approval: { precision: 1, recall: 0.5, true_positives: 5, false_negatives: 5 } },
      },
      rules_and_model: {
        not_compliant: { precision: 0.88, recall: 0.91 },
        categories: [{ category: "guaranteed_approval", precision: 0.9, recall: 0.9, support: 10 }],
      },
    });
    assert.equal(evaluation.utterances, 400);
    assert.deepEqual(evaluation.runs.map((r) => r.id), ["rules", "rulesModel"]);
    assert.equal(evaluation.runs[0].overall.precision, 90);
    assert.equal(evaluation.runs[0].categories.guaranteed_approval.support, 10);
    assert.equal(evaluation.runs[1].categories.guaranteed_approval.recall, 90);
  });

  test("one run at the top level, in percentages", () => {
    const evaluation = normalizeEvaluation({
      not_compliant: { precision: 91.5, recall: 88 },
      categories: { hidden_fees: { precision: 100, recall: null } },
    });
    assert.equal(evaluation.runs.length, 1);
    assert.equal(evaluation.runs[0].overall.precision, 91.5);
    assert.equal(evaluation.runs[0].categories.hidden_fees.recall, null);
  });

  test("nothing readable: null", () => {
    assert.equal(normalizeEvaluation(null), null);
    assert.equal(normalizeEvaluation([]), null);
    assert.equal(normalizeEvaluation({ detail: "error" }), null);
  });
});

describe("otherSuggestion: both languages beside a finding", () => {
  const page = {
    state: {
      library: [{ key: "guaranteed_approval", suggestion_en: "Approval depends on review.", suggestion_zh: "以审核结果为准。" }],
    },
  };
  test("a Chinese finding gets the English rewrite, and the other way round", () => {
    const zh = { category: "guaranteed_approval", suggestion: "以审核结果为准。" };
    const en = { category: "guaranteed_approval", suggestion: "Approval depends on review." };
    assert.equal(otherSuggestion(page, zh), "Approval depends on review.");
    assert.equal(otherSuggestion(page, en), "以审核结果为准。");
  });
  test("an unknown category has none", () => {
    assert.equal(otherSuggestion(page, { category: "nope", suggestion: "x" }), null);
  });
});
