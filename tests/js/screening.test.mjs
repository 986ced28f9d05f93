// Unit tests of the /risk/ page's pure logic (static/js/screening/state.js), with node's built-in
// runner: `node --test tests/js/` (tests/test_js_units.py runs it under pytest).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  blacklistUrl,
  checkResults,
  dateIn,
  detailText,
  explanationFor,
  explanationKey,
  failedChecks,
  fieldErrors,
  flagsUrl,
  maskedIdentifiers,
  mergeQueue,
  prescreenBody,
  rememberExplanations,
  ringSummary,
  route,
  usedThresholds,
} from "../../static/js/screening/state.js";

const translate = (text) => (key, values = {}) =>
  (text[key] || key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

const row = (id, checks, extra = {}) => ({
  application_id: id,
  checks: {
    blacklist: "pass",
    shared_phone: "pass",
    vin_reuse: "pass",
    ltv: "pass",
    debt_to_income: "pass",
    shared_device: "pass",
    ...checks,
  },
  status: "open",
  identifiers: { phone: "****8000", device_id: "****0002", vin: null, applicant_key: "****1234", dealer_id: null },
  ...extra,
});

describe("checks of a row", () => {
  test("the six in their order, unknown results as null", () => {
    const results = checkResults(row("A", { ltv: "fail", vin_reuse: "not_applicable", shared_device: "weird" }));
    assert.deepEqual(
      results.map((c) => [c.key, c.result]),
      [
        ["blacklist", "pass"],
        ["shared_phone", "pass"],
        ["vin_reuse", "not_applicable"],
        ["ltv", "fail"],
        ["debt_to_income", "pass"],
        ["shared_device", null],
      ],
    );
    assert.equal(checkResults(null).length, 6);
  });

  test("failed checks: from failed_checks in the checks' order, else from the results", () => {
    assert.deepEqual(failedChecks({ failed_checks: ["shared_device", "blacklist"] }), ["blacklist", "shared_device"]);
    assert.deepEqual(failedChecks(row("A", { ltv: "fail", shared_phone: "fail" })), ["shared_phone", "ltv"]);
  });

  test("masked identifiers worth showing, in a fixed order, only the kinds asked for", () => {
    const ids = row("A", {}).identifiers;
    assert.deepEqual(maskedIdentifiers(ids), [
      ["applicant", "****1234"],
      ["phone", "****8000"],
      ["device", "****0002"],
    ]);
    assert.deepEqual(maskedIdentifiers(ids, ["phone", "vin"]), [["phone", "****8000"]]);
    assert.deepEqual(maskedIdentifiers(null), []);
  });
});

describe("explanations", () => {
  const t = translate({
    why_shared_phone: "Phone {phone} shared by more than {maxPhone} applicants within {days} days",
    why_ltv: "Loan-to-value above the {maxLtv} limit",
  });
  const thresholds = {
    "risk.xcheck.window_days": 90,
    "risk.xcheck.max_applicants_per_phone": 2,
    "risk.max_ltv_pct": 80,
  };

  test("the server's own words come first", () => {
    const own = row("A", { shared_phone: "fail" }, { explanations: { shared_phone: "Phone ****8000 shared by 4 applicants" } });
    assert.equal(explanationFor(own, "shared_phone", { t, thresholds }), "Phone ****8000 shared by 4 applicants");
  });

  test("remembered for the same checks, forgotten when a result changes", () => {
    const first = row("A", { shared_phone: "fail" }, { explanations: { shared_phone: "exact words" } });
    const cache = rememberExplanations(new Map(), [first, row("B", {})]);
    assert.equal(cache.size, 1);
    const refreshed = row("A", { shared_phone: "fail" }); // the flags API: no explanations
    assert.equal(explanationFor(refreshed, "shared_phone", { cache, t, thresholds }), "exact words");
    const moved = row("A", { shared_phone: "fail", ltv: "fail" });
    assert.notEqual(explanationKey(moved), explanationKey(refreshed));
    assert.equal(
      explanationFor(moved, "shared_phone", { cache, t, thresholds }),
      "Phone ****8000 shared by more than 2 applicants within 90 days",
    );
    assert.equal(explanationFor(moved, "ltv", { cache, t, thresholds }), "Loan-to-value above the 80 % limit");
    assert.equal(explanationFor(moved, "ltv", { t, thresholds, pct: (v) => `${v}%` }), "Loan-to-value above the 80% limit");
  });
});

describe("a refreshed queue", () => {
  test("what arrived, changed and left", () => {
    const before = [row("A", { ltv: "fail" }), row("B", { blacklist: "fail" }), row("C", { ltv: "fail" })];
    const after = [
      row("D", { shared_phone: "fail", ltv: "fail" }),
      row("A", { ltv: "fail", debt_to_income: "fail" }),
      row("B", { blacklist: "fail" }, { status: "cleared" }),
    ];
    const merged = mergeQueue(before, after);
    assert.deepEqual(merged.rows, after);
    assert.deepEqual(merged.added, ["D"]);
    assert.deepEqual(merged.changed, ["A", "B"]);
    assert.deepEqual(merged.removed, ["C"]);
  });

  test("nothing new", () => {
    const rows = [row("A", { ltv: "fail" })];
    assert.deepEqual(mergeQueue(rows, [row("A", { ltv: "fail" })]), { rows: [row("A", { ltv: "fail" })], added: [], changed: [], removed: [] });
    assert.deepEqual(mergeQueue(rows, null).removed, ["A"]);
  });
});

describe("queries", () => {
  test("the flags of a filter", () => {
    assert.equal(flagsUrl("cleared"), "/api/risk/flags/?status=cleared&limit=200");
    assert.equal(flagsUrl("all", 50), "/api/risk/flags/?status=all&limit=50");
    assert.equal(flagsUrl("drop table"), "/api/risk/flags/?status=open&limit=200");
  });

  test("the blacklist: only known filters", () => {
    assert.equal(blacklistUrl(), "/api/risk/blacklist/?limit=100");
    assert.equal(blacklistUrl({ type: "vin", active: "true" }), "/api/risk/blacklist/?type=vin&active=true&limit=100");
    assert.equal(blacklistUrl({ type: "email", active: "maybe" }, { offset: 100 }), "/api/risk/blacklist/?limit=100&offset=100");
  });
});

describe("the pre-screen", () => {
  test("the body: trimmed texts, empty ones left out, scores as integers", () => {
    const { body, errors } = prescreenBody({
      region: " EAST-01 ",
      channel: "wechat",
      phone: "138 0013 8000",
      applicant_key: "",
      device_id: "   ",
      vin: "",
      lead_score: "40",
      credit_score: "",
    });
    assert.deepEqual(body, { region: "EAST-01", channel: "wechat", phone: "138 0013 8000", lead_score: 40 });
    assert.deepEqual(errors, {});
  });

  test("what the server would refuse anyway", () => {
    const { body, errors } = prescreenBody({ region: "", lead_score: "101", credit_score: "6.5" });
    assert.deepEqual(errors, { region: "required", channel: "required", lead_score: "range", credit_score: "range" });
    assert.deepEqual(body, {});
    assert.deepEqual(prescreenBody({ region: "R", channel: "c", credit_score: "0" }).body.credit_score, 0);
  });

  test("reasons in the reader's words, from their codes", () => {
    const t = translate({
      reason_blacklist: "在黑名单上：{kind}",
      reason_credit: "信用评分 {score} 低于最低信用评分（{min}）",
      reason_lead: "线索评分 {score} 低于线索评分阈值（{cutoff}）",
    });
    assert.equal(detailText({ code: "blacklist", kind: "vin" }, t, (k) => ({ vin: "车架号" })[k]), "在黑名单上：车架号");
    assert.equal(
      detailText({ code: "credit_score", value: 550, threshold: 600, parameter: "risk.min_credit_score" }, t),
      "信用评分 550 低于最低信用评分（600）",
    );
    assert.equal(detailText({ code: "lead_score", value: 12, threshold: 50 }, t), "线索评分 12 低于线索评分阈值（50）");
    // A code this page does not know yet: the server's words
    assert.equal(detailText({ code: "income" }, t, undefined, "income: too low"), "income: too low");
    assert.equal(detailText(undefined, t, undefined, "as written"), "as written");
  });

  test("the thresholds it used: those the answer names, else the live values", () => {
    const live = { "marketing.lead_score_cutoff": 55, "risk.min_credit_score": 610 };
    assert.deepEqual(usedThresholds({}, live), live);
    assert.deepEqual(usedThresholds({ thresholds: { "risk.min_credit_score": 600, "marketing.lead_score_cutoff": 50 } }, live), {
      "marketing.lead_score_cutoff": 50,
      "risk.min_credit_score": 600,
    });
    assert.deepEqual(usedThresholds(null), { "marketing.lead_score_cutoff": null, "risk.min_credit_score": null });
  });

  test("400 answers placed by field", () => {
    assert.deepEqual(fieldErrors({ phone: ["is not a phone number"], non_field_errors: ["bad"], detail: "x" }), {
      byField: { phone: ["is not a phone number"] },
      general: ["bad", "x"],
    });
    assert.deepEqual(fieldErrors(null), { byField: {}, general: [] });
  });
});

describe("a ring", () => {
  test("its size, flagged applications and shared identifiers", () => {
    const ring = {
      application_id: "A",
      nodes: [
        { application_id: "A", flagged: true },
        { application_id: "B", flagged: true },
        { application_id: "C", flagged: false },
      ],
      groups: [{ type: "phone" }, { type: "phone" }, { type: "vin" }],
      truncated: true,
    };
    assert.deepEqual(ringSummary(ring), {
      applications: 3,
      others: 2,
      flagged: 2,
      othersFlagged: 1,
      shared: 3,
      byType: { phone: 2, device: 0, vin: 1 },
      truncated: true,
    });
    assert.equal(ringSummary(null).applications, 0);
  });
});

describe("the hash and dates", () => {
  test("routes", () => {
    assert.deepEqual(route("#blacklist"), { tab: "blacklist", application: null });
    assert.deepEqual(route("#application-AP%2F1"), { tab: "queue", application: "AP/1" });
    assert.deepEqual(route(""), { tab: "queue", application: null });
    assert.deepEqual(route("#nonsense"), { tab: "queue", application: null });
    assert.deepEqual(route("#application-%E0%A4%A"), { tab: "queue", application: "%E0%A4%A" });
  });

  test("a day in the business zone", () => {
    assert.equal(dateIn("2026-11-01T17:30:00+00:00", "Asia/Shanghai"), "2026-11-02");
    assert.equal(dateIn("2026-11-01T17:30:00+00:00", "UTC"), "2026-11-01");
    assert.equal(dateIn("not a date", "UTC"), "not a date".slice(0, 10));
    assert.equal(dateIn("", "UTC"), "");
  });
});
