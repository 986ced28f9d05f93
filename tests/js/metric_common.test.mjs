// Unit tests of the alert grouping the dashboard and the metric page share
// (static/js/metric_common.js): the group's latest alert is the one to acknowledge, and who
// took it shows on the group.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { alertGroups, panelLevels, silenceOf, thresholdValues } from "../../static/js/metric_common.js";

const alert = (id, day, level, extra = {}) => ({
  id,
  metric: "availability",
  region: "EAST",
  day,
  level,
  status: "open",
  delta_pct: -1,
  value: 99,
  ...extra,
});

describe("alert groups", () => {
  test("the latest day's alert is the group's, with who acknowledged it", () => {
    const [group] = alertGroups([
      alert(1, "2026-12-01", "warn"),
      alert(3, "2026-12-03", "critical", { acknowledged_by: "tina" }),
      alert(2, "2026-12-02", "critical"),
    ]);
    assert.equal(group.count, 3);
    assert.equal(group.latestId, 3);
    assert.equal(group.acknowledgedBy, "tina");
    assert.equal(group.since, "2026-12-01");
  });

  test("on the same day the critical alert wins over the warning", () => {
    const [group] = alertGroups([alert(5, "2026-12-03", "warn"), alert(6, "2026-12-03", "critical")]);
    assert.equal(group.latestId, 6);
    assert.equal(group.acknowledgedBy, null);
  });

  test("resolved alerts are left out", () => {
    assert.deepEqual(alertGroups([alert(1, "2026-12-01", "warn", { status: "resolved" })]), []);
  });
});

describe("levels of a panel", () => {
  test("the absolute mode's service levels, else the baseline and the deviations", () => {
    const panel = { baseline: 100, warn_pct: 5, critical_pct: 12, direction: "lower_is_better" };
    assert.deepEqual(panelLevels({ ...panel, threshold_mode: "absolute", warn_at: 300, critical_at: 800 }), [300, 800]);
    assert.deepEqual(panelLevels({ ...panel, threshold_mode: "relative" }), thresholdValues(100, 5, 12, "lower_is_better"));
    assert.deepEqual(panelLevels({ ...panel, threshold_mode: "relative" }), [105, 112]);
  });
});

describe("silences", () => {
  const group = { metric: "availability", region: "EAST" };
  const now = new Date("2026-12-05T10:00:00Z");
  test("a silence of the metric in its region or in all regions, while it lasts", () => {
    const east = { metric: "availability", region: "EAST", until: "2026-12-05T12:00:00Z" };
    const all = { metric: "availability", region: "all", until: "2026-12-05T12:00:00Z" };
    assert.equal(silenceOf(group, [east], now), east);
    assert.equal(silenceOf(group, [all], now), all);
  });
  test("another metric, another region or an ended silence does not count", () => {
    const silences = [
      { metric: "npl_ratio", region: "all", until: "2026-12-05T12:00:00Z" },
      { metric: "availability", region: "WEST", until: "2026-12-05T12:00:00Z" },
      { metric: "availability", region: "EAST", until: "2026-12-05T09:00:00Z" },
    ];
    assert.equal(silenceOf(group, silences, now), null);
  });
});
