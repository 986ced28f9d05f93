// The /compliance/ page's state and how socket messages change it: pure functions, no DOM
// (unit-tested in node, tests/js/compliance.test.mjs).
//
// The state is what the page shows: scripts, the latest flagged calls, the library, the two
// figures and the running precision. `/ws/compliance/` sends `compliance.snapshot` on connect
// and on every reconnect (it replaces), then events (each one applied by `applyEvent`):
//   script.updated {script, action}   call.checked {call}   verdict.recorded {call, precision}
//   category.updated {category}       figures.updated {figures}
// A script's `version` grows with every edit and move; a re-check changes its findings without
// a new version (then its `checked_at` moves). An event older than what the page has is ignored.

export const SCRIPT_STATES = ["draft", "in_review", "approved", "needs_review", "retired"];
export const MAX_CALLS = 200;

/** The page's state from its json_script block (the same shapes as the API and the snapshot). */
export function createState(initial = {}) {
  const library = Array.isArray(initial.library) ? initial.library : [];
  return {
    scripts: sortScripts(Array.isArray(initial.scripts) ? initial.scripts : []),
    calls: Array.isArray(initial.calls) ? initial.calls : [],
    callsCount: Number.isFinite(initial.callsCount) ? initial.callsCount : (initial.calls || []).length,
    library,
    libraryVersions: initial.libraryVersions || versionsOf(library),
    figures: initial.figures || {},
    precision: initial.precision || null,
  };
}

function versionsOf(library) {
  return Object.fromEntries(library.map((c) => [c.key, c.version]));
}

function time(iso) {
  const value = Date.parse(iso || "");
  return Number.isNaN(value) ? 0 : value;
}

/** Newest change first, as the API lists them. */
export function sortScripts(scripts) {
  return [...scripts].sort((a, b) => time(b.updated_at) - time(a.updated_at) || b.id - a.id);
}

/** Is `incoming` news compared with `current` (same script)? */
export function isNewer(incoming, current) {
  if (!current) return true;
  if (incoming.version !== current.version) return incoming.version > current.version;
  return time(incoming.checked_at) >= time(current.checked_at);
}

/**
 * Put a script into the list (by id) unless the list has a newer version of it.
 * @returns {{scripts: object[], accepted: boolean, previous: object|null}}
 */
export function upsertScript(scripts, script) {
  if (!script || !Number.isFinite(script.id)) return { scripts, accepted: false, previous: null };
  const previous = scripts.find((s) => s.id === script.id) || null;
  if (previous && !isNewer(script, previous)) return { scripts, accepted: false, previous };
  const rest = scripts.filter((s) => s.id !== script.id);
  return { scripts: sortScripts([...rest, script]), accepted: true, previous };
}

/**
 * A checked call: a flagged one goes to the top of the list (replacing an earlier check of
 * it); one no longer flagged leaves the list.
 */
export function upsertCall(calls, call, { onlyIfPresent = false } = {}) {
  if (!call || !call.call_id) return { calls, added: false, removed: false };
  const present = calls.some((c) => c.call_id === call.call_id);
  const rest = calls.filter((c) => c.call_id !== call.call_id);
  if (onlyIfPresent && !present) return { calls, added: false, removed: false };
  if (call.flagged === false) return { calls: rest, added: false, removed: present };
  if (onlyIfPresent) {
    return { calls: calls.map((c) => (c.call_id === call.call_id ? call : c)), added: false, removed: false };
  }
  return { calls: [call, ...rest].slice(0, MAX_CALLS), added: !present, removed: false };
}

/** Put a library category into the list (by key) unless the list has a newer version. */
export function upsertCategory(library, category) {
  if (!category || !category.key) return { library, accepted: false };
  const index = library.findIndex((c) => c.key === category.key);
  if (index >= 0 && library[index].version > category.version) return { library, accepted: false };
  const next = [...library];
  if (index >= 0) next[index] = category;
  else next.push(category);
  return { library: next, accepted: true };
}

/**
 * A snapshot replaces what the socket carries. `staleLibrary`: the categories whose version the
 * snapshot says moved on (the page reads the library again for them).
 */
export function applySnapshot(state, msg) {
  const versions = msg.library_versions || {};
  const staleLibrary = Object.entries(versions)
    .filter(([key, version]) => {
      const mine = state.library.find((c) => c.key === key);
      return !mine || mine.version !== version;
    })
    .map(([key]) => key);
  const calls = Array.isArray(msg.flagged_calls) ? msg.flagged_calls : state.calls;
  return {
    state: {
      ...state,
      scripts: Array.isArray(msg.scripts) ? sortScripts(msg.scripts) : state.scripts,
      calls,
      callsCount: Math.max(calls.length, state.callsCount || 0),
      libraryVersions: { ...state.libraryVersions, ...versions },
      figures: msg.figures || state.figures,
      precision: msg.precision || state.precision,
    },
    staleLibrary,
  };
}

/**
 * One event applied. `effect` says what changed, for the page to repaint only that:
 *   {kind: "script", id, accepted, previous, action} | {kind: "call", id, added, removed}
 *   {kind: "verdict", id} | {kind: "category", key, accepted} | {kind: "figures"} | {kind: null}
 */
export function applyEvent(state, msg) {
  switch (msg && msg.type) {
    case "script.updated": {
      const { scripts, accepted, previous } = upsertScript(state.scripts, msg.script);
      return {
        state: accepted ? { ...state, scripts } : state,
        effect: { kind: "script", id: msg.script && msg.script.id, accepted, previous, action: msg.action },
      };
    }
    case "call.checked": {
      const { calls, added, removed } = upsertCall(state.calls, msg.call);
      const callsCount = Math.max(0, (state.callsCount || 0) + (added ? 1 : 0) - (removed ? 1 : 0));
      return {
        state: { ...state, calls, callsCount },
        effect: { kind: "call", id: msg.call && msg.call.call_id, added, removed },
      };
    }
    case "verdict.recorded": {
      const { calls } = upsertCall(state.calls, msg.call, { onlyIfPresent: true });
      return {
        state: { ...state, calls, precision: msg.precision || state.precision },
        effect: { kind: "verdict", id: msg.call && msg.call.call_id },
      };
    }
    case "category.updated": {
      const { library, accepted } = upsertCategory(state.library, msg.category);
      const libraryVersions = accepted
        ? { ...state.libraryVersions, [msg.category.key]: msg.category.version }
        : state.libraryVersions;
      return {
        state: accepted ? { ...state, library, libraryVersions } : state,
        effect: { kind: "category", key: msg.category && msg.category.key, accepted },
      };
    }
    case "figures.updated":
      return { state: { ...state, figures: msg.figures || state.figures }, effect: { kind: "figures" } };
    default:
      return { state, effect: { kind: null } };
  }
}

/** How many scripts are in each state. */
export function stateCounts(scripts) {
  const counts = Object.fromEntries(SCRIPT_STATES.map((s) => [s, 0]));
  for (const script of scripts) if (script.state in counts) counts[script.state] += 1;
  return counts;
}

/**
 * What a person may do with a script in its state, as the API allows it (services.py):
 * marketing (writeScripts) edits, submits and retires; risk control (reviewScripts) approves,
 * asks for changes, sends an approved script back to review, and retires. Answers the actions
 * and, when there is none, why (a text key: who acts next).
 * @param {{state: string}} script
 * @param {{writeScripts?: boolean, reviewScripts?: boolean}} perms
 * @returns {{actions: string[], waiting: string|null}}
 */
export function scriptActions(script, perms = {}) {
  const write = Boolean(perms.writeScripts);
  const review = Boolean(perms.reviewScripts);
  const actions = [];
  const state = script && script.state;
  if (state === "retired") return { actions, waiting: "retiredNote" };
  if (write) actions.push("edit");
  if (state === "draft" && write) actions.push("submit");
  if ((state === "in_review" || state === "needs_review") && review) {
    actions.push("approve", "request_changes");
  }
  if (state === "approved" && review) actions.push("send_to_review");
  if (write || review) actions.push("retire");
  let waiting = null;
  if (state === "draft" && !write) waiting = "waitingMarketing";
  else if ((state === "in_review" || state === "needs_review") && !review) waiting = "waitingRisk";
  if (!write && !review) waiting = waiting || "readOnlyScripts";
  return { actions, waiting };
}

/** The state a script action moves to (edits keep the state; the server decides). */
export const ACTION_TARGET = {
  submit: "in_review",
  approve: "approved",
  request_changes: "draft",
  send_to_review: "needs_review",
  retire: "retired",
};

/** Does the action need a note? Asking for changes always; approving a non-compliant script. */
export function noteRequired(action, script) {
  if (action === "request_changes") return true;
  if (action === "approve") return !(script && script.compliant);
  return false;
}

/**
 * 400 errors of a library edit, placed: "pattern 3 (…): why" goes next to the third pattern
 * sent. `sent` maps each pattern sent (by its position) to the editor's row; the rest are
 * general messages.
 * @returns {{byRow: Object<number, string[]>, general: string[]}}
 */
export function placePatternErrors(messages, sent = []) {
  const byRow = {};
  const general = [];
  for (const message of messages || []) {
    const match = /^pattern (\d+)\b/i.exec(String(message));
    const position = match ? Number(match[1]) - 1 : -1;
    if (position >= 0 && position < sent.length) {
      const row = sent[position];
      (byRow[row] = byRow[row] || []).push(String(message));
    } else {
      general.push(String(message));
    }
  }
  return { byRow, general };
}

/** The fields of a category edit that differ from the category (only those are sent). */
export function categoryChanges(category, edited) {
  const changes = {};
  if (edited.severity && edited.severity !== category.severity) changes.severity = edited.severity;
  for (const name of ["suggestion_en", "suggestion_zh"]) {
    if (typeof edited[name] === "string" && edited[name].trim() !== (category[name] || "").trim()) {
      changes[name] = edited[name];
    }
  }
  const before = category.patterns || [];
  const after = edited.patterns || [];
  if (after.length !== before.length || after.some((p, i) => p !== before[i])) {
    changes.patterns = after;
  }
  return changes;
}

// ---- The evaluation (GET /api/compliance/evaluation/): read defensively -----------------------

const RUN_NAMES = [
  ["rules", "rules"],
  ["rules_only", "rules"],
  ["rule_only", "rules"],
  ["patterns", "rules"],
  ["rules_and_model", "rulesModel"],
  ["rules_model", "rulesModel"],
  ["rules+model", "rulesModel"],
  ["with_model", "rulesModel"],
  ["combined", "rulesModel"],
  ["model", "rulesModel"],
  ["learned", "rulesModel"],
];

function number(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function scoreOf(raw) {
  if (!raw || typeof raw !== "object") return null;
  const precision = number(raw.precision);
  const recall = number(raw.recall);
  if (precision === null && recall === null) return null;
  const support =
    number(raw.support) ??
    number(raw.count) ??
    number(raw.positives) ??
    (number(raw.true_positives) !== null && number(raw.false_negatives) !== null
      ? raw.true_positives + raw.false_negatives
      : null);
  return { precision, recall, f1: number(raw.f1), support };
}

function categoriesOf(raw) {
  const out = {};
  if (Array.isArray(raw)) {
    for (const row of raw) {
      const key = row && (row.category || row.key);
      const score = scoreOf(row);
      if (key && score) out[key] = score;
    }
  } else if (raw && typeof raw === "object") {
    for (const [key, row] of Object.entries(raw)) {
      const score = scoreOf(row);
      if (score) out[key] = score;
    }
  }
  return out;
}

function runOf(raw) {
  if (!raw || typeof raw !== "object") return null;
  const overall =
    scoreOf(raw.not_compliant) || scoreOf(raw.overall) || scoreOf(raw.total) || scoreOf(raw);
  const categories = categoriesOf(raw.categories || raw.per_category || raw.by_category);
  if (!overall && Object.keys(categories).length === 0) return null;
  return { overall, categories };
}

/**
 * The evaluation's answer as {utterances, runs: [{id, overall, categories}], scale}: `id` is
 * "rules" or "rulesModel" (or the key it came under), figures in % (the answer may give
 * fractions 0–1 or percentages; fractions are turned into %). Null when nothing is readable.
 */
export function normalizeEvaluation(data) {
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  const runs = [];
  const seen = new Set();
  const containers = [data, data.runs, data.results, data.variants].filter(
    (c) => c && typeof c === "object" && !Array.isArray(c),
  );
  for (const container of containers) {
    for (const [name, id] of RUN_NAMES) {
      if (seen.has(id) || !(name in container)) continue;
      const run = runOf(container[name]);
      if (run) {
        runs.push({ id, ...run });
        seen.add(id);
      }
    }
  }
  if (runs.length === 0) {
    const run = runOf(data);
    if (run) runs.push({ id: "rules", ...run });
  }
  if (runs.length === 0) return null;
  const values = [];
  for (const run of runs) {
    for (const score of [run.overall, ...Object.values(run.categories)]) {
      if (!score) continue;
      for (const v of [score.precision, score.recall, score.f1]) if (v !== null) values.push(v);
    }
  }
  const fractions = values.every((v) => v <= 1);
  const pct = (v) => (v === null ? null : fractions ? v * 100 : v);
  const scale = (score) =>
    score && { ...score, precision: pct(score.precision), recall: pct(score.recall), f1: pct(score.f1) };
  const utterances =
    number(data.utterances) ?? number(data.size) ?? number(data.items) ?? number(data.count);
  return {
    utterances,
    target: number(data.target) !== null ? pct(data.target) : null,
    runs: runs.map((run) => ({
      id: run.id,
      overall: scale(run.overall),
      categories: Object.fromEntries(
        Object.entries(run.categories).map(([key, score]) => [key, scale(score)]),
      ),
    })),
  };
}

/**
 * The library's rewrite in the other language than the finding's own (a finding's suggestion
 * is in its text's language), so both languages stand beside it; null when the same.
 */
export function otherSuggestion(page, finding) {
  const category = page.state.library.find((c) => c.key === finding.category);
  if (!category) return null;
  const chinese = /[\u3400-\u9fff]/.test(finding.suggestion || "");
  const other = chinese ? category.suggestion_en : category.suggestion_zh;
  return other && other !== finding.suggestion ? other : null;
}
