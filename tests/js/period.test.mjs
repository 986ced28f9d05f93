// Unit tests of the period picker's pure logic (static/js/period.js): the URL keeps every other
// parameter, drops what a preset does not need, and custom days apply only when in order.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { periodReady, periodSearch, summaryQuery } from "../../static/js/period.js";

describe("period in the URL", () => {
  test("a preset replaces the old period and keeps the region and the date", () => {
    const search = "?region=EAST&period=custom&start=2026-03-01&end=2026-03-10&date=2026-03-10";
    assert.equal(
      periodSearch(search, { period: "last_month", start: "2026-03-01", end: "2026-03-10", compare: "previous_period" }),
      "?region=EAST&date=2026-03-10&period=last_month",
    );
  });

  test("custom days and a year-earlier comparison are kept", () => {
    assert.equal(
      periodSearch("", { period: "custom", start: "2026-03-01", end: "2026-03-10", compare: "previous_year" }),
      "?period=custom&start=2026-03-01&end=2026-03-10&compare=previous_year",
    );
  });

  test("no period removes every period parameter and the old fixed range", () => {
    assert.equal(periodSearch("?period=7d&compare=previous_year&range=90&region=W", { period: "" }), "?region=W");
    assert.equal(periodSearch("?period=7d", { period: "" }), "");
  });
});

describe("when custom days apply", () => {
  test("both days, the first not after the last", () => {
    assert.equal(periodReady({ period: "custom", start: "2026-03-01", end: "2026-03-01" }), true);
    assert.equal(periodReady({ period: "custom", start: "2026-03-02", end: "2026-03-01" }), false);
    assert.equal(periodReady({ period: "custom", start: "2026-03-02", end: "" }), false);
    assert.equal(periodReady({ period: "7d" }), true);
  });
});

describe("the summary query", () => {
  test("region and comparison only when not the defaults", () => {
    assert.equal(summaryQuery({ start: "2026-03-01", end: "2026-03-10" }, "all"), "start=2026-03-01&end=2026-03-10");
    assert.equal(
      summaryQuery({ start: "2026-03-01", end: "2026-03-10", compare: "previous_year" }, "EAST", { breakdown: "region" }),
      "start=2026-03-01&end=2026-03-10&compare=previous_year&region=EAST&breakdown=region",
    );
  });
});
