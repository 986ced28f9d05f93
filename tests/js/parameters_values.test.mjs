// Unit tests of how the /parameters/ page writes values and reads typed ones
// (static/js/parameters/format.js, and the checks of static/js/parameters/editors.js made before
// anything is sent). Node's built-in runner: `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { translator } from "../../static/js/common.js";
import { boundsHint, parseValue, ruleError } from "../../static/js/parameters/editors.js";
import { createFormat } from "../../static/js/parameters/format.js";
import { createState } from "../../static/js/parameters/state.js";

const t = translator({
  errNumber: "Enter a number.",
  errWhole: "Enter a whole number.",
  errDecimals: "At most {n} decimal places.",
  errRange: "Must be between {min} and {max}.",
  errWarnBelow: "The warn threshold must stay below the critical threshold ({value}).",
  errCriticalAbove: "The critical threshold must stay above the warn threshold ({value}).",
  hintRange: "Between {min} and {max}",
  hintWhole: "a whole number",
  hintDecimals: "up to {n} decimal places",
  listJoin: ", ",
  justNow: "just now",
});
const NOW = Date.parse("2026-12-05T10:00:00Z");
const config = {
  locale: "en-US",
  timeZone: "Asia/Shanghai",
  units: { "%": " %", CNY: " CNY", points: " points" },
  choices: { true: "On", false: "Off", propose: "Propose daily", off: "Off" },
};

const percent = (key, value, extra = {}) => ({
  key,
  type: "percent",
  unit: "%",
  min: 0,
  max: 100,
  decimal_places: 2,
  value,
  version: 1,
  ...extra,
});
const score = { key: "risk.min_credit_score", type: "integer", unit: "points", min: 300, max: 900, decimal_places: null, value: 620, version: 1 };
const cac = { key: "marketing.target_cac", type: "decimal", unit: "CNY", min: 0, max: null, decimal_places: 2, value: 1500, version: 1 };

function pageWith(params = []) {
  return { t, fmt: createFormat(config, t, () => NOW), state: createState({ parameters: params }) };
}

describe("values as the server writes them", () => {
  const { fmt } = pageWith();
  test("percentages, whole numbers and money with their unit, choices by their label", () => {
    assert.equal(fmt.formatValue(percent("a", 6.5)), "6.5 %");
    assert.equal(fmt.formatValue(percent("a", 1000, { max: 1000 })), "1,000 %");
    assert.equal(fmt.formatValue(score), "620 points");
    assert.equal(fmt.formatValue(cac), "1,500.00 CNY");
    assert.equal(fmt.formatValue({ type: "boolean", value: true }), "On");
    assert.equal(fmt.formatValue({ type: "choice", value: "propose" }), "Propose daily");
    assert.equal(fmt.formatValue({ type: "choice", value: "weekly" }), "weekly");
    assert.equal(fmt.formatValue(percent("a", 5), 75), "75 %");
  });

  test("times in the business zone; 'just now', minutes, then the date", () => {
    assert.equal(fmt.formatTime("2026-12-05T01:30:00Z"), "2026-12-05 09:30");
    assert.equal(fmt.formatTime("not a date"), "not a date");
    assert.equal(fmt.relativeTime("2026-12-05T09:59:40Z"), "just now");
    assert.equal(fmt.relativeTime("2026-12-05T09:55:00Z"), "5 minutes ago");
    assert.equal(fmt.relativeTime("2026-12-05T08:00:00Z"), "2026-12-05 16:00");
    assert.equal(fmt.isRecent("2026-12-05T09:30:00Z"), true);
    assert.equal(fmt.isRecent("2026-12-05T08:30:00Z"), false);
  });

  test("signed differences and missing percentages", () => {
    const pct = (v) => fmt.formatPct(v);
    assert.equal(fmt.formatSigned(1.5, pct), "+1.5 %");
    assert.equal(fmt.formatSigned(-2, pct), "−2 %");
    assert.equal(fmt.formatSigned(0, pct), "0 %");
    assert.equal(fmt.formatSigned(null, pct), "—");
    assert.equal(fmt.formatPct(undefined), "—");
  });
});

describe("parseValue: a typed value read and checked like the registry does", () => {
  const page = pageWith();
  const warn = percent("alert.overdue_rate.warn_pct", 5, { max: 1000 });

  test("numbers with thousands separators, a trailing %, spaces, exponents", () => {
    assert.deepEqual(parseValue(page, warn, " 7 "), { value: 7 });
    assert.deepEqual(parseValue(page, warn, "6.5%"), { value: 6.5 });
    assert.deepEqual(parseValue(page, warn, "1,000"), { value: 1000 });
    assert.deepEqual(parseValue(page, warn, "7.50"), { value: 7.5 }); // trailing zeros are no places
    assert.deepEqual(parseValue(page, warn, "1e2"), { value: 100 });
    assert.deepEqual(parseValue(page, cac, "1499.99"), { value: 1499.99 });
  });

  test("what is not a number", () => {
    for (const raw of ["", "  ", "abc", "7 %%", "1.2.3", "--5", "0x10"]) {
      assert.deepEqual(parseValue(page, warn, raw), { error: "Enter a number." }, raw);
    }
  });

  test("whole numbers, decimal places, the range", () => {
    assert.deepEqual(parseValue(page, score, "650.5"), { error: "Enter a whole number." });
    assert.deepEqual(parseValue(page, score, "650"), { value: 650 });
    assert.deepEqual(parseValue(page, warn, "6.125"), { error: "At most 2 decimal places." });
    assert.deepEqual(parseValue(page, warn, "-1"), { error: "Must be between 0 and 1,000 %." });
    assert.deepEqual(parseValue(page, score, "200"), { error: "Must be between 300 and 900 points." });
    assert.deepEqual(parseValue(page, cac, "99999999"), { value: 99999999 }); // no maximum
  });

  test("booleans and choices are taken as chosen", () => {
    assert.deepEqual(parseValue(page, { type: "boolean" }, "true"), { value: true });
    assert.deepEqual(parseValue(page, { type: "boolean" }, "false"), { value: false });
    assert.deepEqual(parseValue(page, { type: "choice" }, "off"), { value: "off" });
  });

  test("the hint says the range and the places", () => {
    assert.equal(boundsHint(page, warn), "Between 0 and 1,000 %, up to 2 decimal places");
    assert.equal(boundsHint(page, score), "Between 300 and 900 points, a whole number");
    assert.equal(boundsHint(page, cac), "up to 2 decimal places");
    assert.equal(boundsHint(page, { type: "boolean" }), "");
  });
});

describe("ruleError: the alert thresholds' warn stays below critical", () => {
  const warn = percent("alert.overdue_rate.warn_pct", 5, { max: 1000 });
  const critical = percent("alert.overdue_rate.critical_pct", 12, { max: 1000 });
  const page = pageWith([warn, critical]);

  test("warn at or above critical, critical at or below warn: said with the other value", () => {
    assert.equal(ruleError(page, warn, 15), "The warn threshold must stay below the critical threshold (12 %).");
    assert.equal(ruleError(page, warn, 12), "The warn threshold must stay below the critical threshold (12 %).");
    assert.equal(ruleError(page, critical, 5), "The critical threshold must stay above the warn threshold (5 %).");
  });

  test("within the rule, another metric, or not an alert threshold: no error", () => {
    assert.equal(ruleError(page, warn, 7), null);
    assert.equal(ruleError(page, critical, 13), null);
    assert.equal(ruleError(page, percent("alert.approval_rate.warn_pct", 50), 50), null); // no critical known
    assert.equal(ruleError(page, percent("risk.max_ltv_pct", 80), 500), null);
  });
});
