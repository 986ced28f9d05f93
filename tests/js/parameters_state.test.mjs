// Unit tests of the /parameters/ page's state and how socket messages and API answers change it
// (static/js/parameters/state.js): newer versions win, stale ones are ignored, a snapshot
// replaces. Node's built-in runner: `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  applyParameterChanged,
  applySnapshot,
  budgetParams,
  createState,
  pendingFor,
  presetIsCurrent,
  setRequest,
  updateParam,
} from "../../static/js/parameters/state.js";

const WARN = "alert.overdue_rate.warn_pct";
const LTV = "risk.max_ltv_pct";
const BUDGET = ["strategy.budget.data_platform_pct", "strategy.budget.risk_collaboration_pct", "strategy.budget.agile_platform_pct"];

const param = (key, value, version, extra = {}) => ({
  key,
  value,
  version,
  type: "percent",
  unit: "%",
  updated_by: null,
  updated_at: null,
  ...extra,
});

const changed = (key, value, version, who = "maria_manager") => ({
  type: "parameter.changed",
  key,
  value,
  version,
  changed_by: who,
  changed_at: "2026-12-05T10:00:00Z",
});

function initial() {
  return createState({
    parameters: [param(WARN, 5, 1), param(LTV, 80, 1, { four_eyes: true }), ...BUDGET.map((k, i) => param(k, [40, 30, 30][i], 1))],
    requests: [{ id: 3, status: "pending", changes: { [LTV]: 75 } }],
    presets: [{ name: "balanced", values: { [BUDGET[0]]: 40, [BUDGET[1]]: 30, [BUDGET[2]]: 30 } }],
  });
}

describe("the page's state from its json_script block", () => {
  test("parameters by key, requests by id, presets as they are", () => {
    const state = initial();
    assert.equal(state.params.get(WARN).value, 5);
    assert.deepEqual([...state.requests.keys()], [3]);
    assert.equal(state.presets[0].name, "balanced");
    const empty = createState();
    assert.deepEqual([empty.params.size, empty.requests.size, empty.presets], [0, 0, []]);
  });
});

describe("parameter.changed", () => {
  test("a newer version replaces the value, says who and when, and keeps the spec", () => {
    const state = initial();
    const updated = applyParameterChanged(state, changed(WARN, 7, 2));
    assert.equal(updated, state.params.get(WARN));
    assert.equal(updated.value, 7);
    assert.equal(updated.version, 2);
    assert.equal(updated.updated_by, "maria_manager");
    assert.equal(updated.updated_at, "2026-12-05T10:00:00Z");
    assert.equal(updated.type, "percent"); // merged, not replaced by the event's fields
  });

  test("a stale or repeated version is ignored: the value stays", () => {
    const state = initial();
    applyParameterChanged(state, changed(WARN, 8, 3, "mona_manager"));
    assert.equal(applyParameterChanged(state, changed(WARN, 7, 2)), null);
    assert.equal(applyParameterChanged(state, changed(WARN, 9, 3)), null);
    assert.equal(state.params.get(WARN).value, 8);
    assert.equal(state.params.get(WARN).updated_by, "mona_manager");
  });

  test("a key the page does not show is ignored", () => {
    const state = initial();
    assert.equal(applyParameterChanged(state, changed("kpi.unknown", 1, 2)), null);
    assert.equal(state.params.has("kpi.unknown"), false);
  });
});

describe("API answers", () => {
  test("updateParam merges a state unless the page holds a newer version", () => {
    const state = initial();
    assert.equal(updateParam(state, { key: WARN, value: 7, version: 2 }), true);
    assert.equal(updateParam(state, { key: WARN, value: 7, version: 2 }), false); // same version again
    assert.equal(updateParam(state, { key: WARN, value: 6, version: 1 }), false);
    assert.equal(state.params.get(WARN).value, 7);
    assert.equal(state.params.get(WARN).type, "percent");
    assert.equal(updateParam(state, param("kpi.new", 1, 1)), true);
  });

  test("a request stays while pending and goes once decided; the badges follow", () => {
    const state = initial();
    assert.deepEqual(pendingFor(state, LTV).map((r) => r.id), [3]);
    assert.deepEqual(pendingFor(state, WARN), []);
    setRequest(state, { id: 4, status: "pending", changes: { [LTV]: 70 } });
    assert.deepEqual(pendingFor(state, LTV).map((r) => r.id), [3, 4]);
    setRequest(state, { id: 3, status: "approved", changes: { [LTV]: 75 } });
    assert.deepEqual(pendingFor(state, LTV).map((r) => r.id), [4]);
  });
});

describe("the snapshot (on connect and every reconnect)", () => {
  const snapshot = (warnVersion) => ({
    type: "parameters.snapshot",
    parameters: [param(WARN, warnVersion === 1 ? 5 : 9, warnVersion), param(LTV, 80, 1)],
    requests: [{ id: 5, status: "pending", changes: { [LTV]: 70 } }],
  });

  test("replaces the parameters and the requests; the keys that moved are named", () => {
    const state = initial();
    const moved = applySnapshot(state, snapshot(4));
    assert.deepEqual(moved, [WARN]);
    assert.equal(state.params.get(WARN).value, 9);
    assert.equal(state.params.get(LTV).four_eyes, undefined); // replaced, not merged
    assert.deepEqual([...state.requests.keys()], [5]);
    assert.equal(state.params.get(BUDGET[0]).value, 40); // keys it does not name stay
  });

  test("the first snapshot highlights nothing; an unchanged one names no key", () => {
    assert.deepEqual(applySnapshot(initial(), snapshot(4), { firstPaint: true }), []);
    assert.deepEqual(applySnapshot(initial(), snapshot(1)), []);
  });
});

describe("the budget and its presets", () => {
  test("the shares in the configured order; a preset is current when every share matches", () => {
    const state = initial();
    assert.deepEqual(budgetParams(state, BUDGET).map((p) => p.value), [40, 30, 30]);
    assert.equal(presetIsCurrent(state, state.presets[0]), true);
    applyParameterChanged(state, changed(BUDGET[0], 50, 2));
    assert.equal(presetIsCurrent(state, state.presets[0]), false);
    assert.deepEqual(budgetParams(state, [...BUDGET, "strategy.budget.missing_pct"]).length, 3);
  });
});
