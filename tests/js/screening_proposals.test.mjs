// Unit tests of the blacklist's four-eyes logic on the /risk/ page
// (static/js/screening/proposals.js), with node's built-in runner.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  allowedDecisions,
  changeDiff,
  proposalBody,
  proposalErrors,
} from "../../static/js/screening/proposals.js";

describe("a proposal's body", () => {
  test("add: type, value and reason, trimmed; the expiry is the end of that day", () => {
    const { body, errors } = proposalBody({
      action: "add",
      type: "phone",
      value: " 139 1234 0077 ",
      reason: "fraud ring ",
      expires: "2027-03-31",
      department: "",
      note: "",
      entry_id: "",
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(body, {
      action: "add",
      type: "phone",
      value: "139 1234 0077",
      reason: "fraud ring",
      expires_at: "2027-03-31T23:59:59",
    });
  });

  test("add: what is missing is named, an unknown type is a choice to make", () => {
    const { errors } = proposalBody({ action: "add", type: "passport" });
    assert.deepEqual(errors, { type: "choice", value: "required", reason: "required" });
  });

  test("change: the entry and a note, and at least one new field", () => {
    assert.deepEqual(proposalBody({ action: "change", entry_id: "B1", note: "why" }).errors, { detail: "nothing" });
    const { body, errors } = proposalBody({ action: "change", entry_id: "B1", note: "why", no_expiry: true });
    assert.deepEqual(errors, {});
    assert.deepEqual(body, { action: "change", entry_id: "B1", note: "why", expires_at: null });
    // "never expires" wins over a date typed before ticking it
    assert.equal(
      proposalBody({ action: "change", entry_id: "B1", note: "n", expires: "2027-01-01", no_expiry: true }).body.expires_at,
      null,
    );
    assert.deepEqual(proposalBody({ action: "change", entry_id: "B1", note: "n", department: "tech" }).body, {
      action: "change",
      entry_id: "B1",
      note: "n",
      department: "tech",
    });
  });

  test("remove: the entry and why; nothing else is sent", () => {
    const { body, errors } = proposalBody({
      action: "remove",
      entry_id: "B1",
      note: "listed in error",
      type: "vin",
      value: "X",
      reason: "r",
      department: "risk",
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(body, { action: "remove", entry_id: "B1", note: "listed in error" });
    assert.deepEqual(proposalBody({ action: "remove" }).errors, { entry_id: "required", note: "required" });
  });

  test("an unknown action is an add", () => {
    assert.equal(proposalBody({ action: "drop" }).body.action, "add");
  });
});

describe("what a change does", () => {
  const before = {
    type: "phone",
    masked_value: "****0077",
    reason: "fraud ring",
    added_at: "2026-11-01T00:00:00+00:00",
    expires_at: null,
    department: "risk",
  };

  test("a change lists only the fields that differ, instants compared as instants", () => {
    const change = {
      action: "change",
      before,
      reason: "fraud ring",
      expires_at: "2027-01-01T08:00:00+08:00",
      department: "risk",
    };
    assert.deepEqual(changeDiff(change), [["expires_at", null, "2027-01-01T08:00:00+08:00"]]);
    const same = { ...change, before: { ...before, expires_at: "2027-01-01T00:00:00Z" } };
    assert.deepEqual(changeDiff(same), []);
  });

  test("an add shows what it lists; a removal has nothing to compare", () => {
    assert.deepEqual(changeDiff({ action: "add", reason: "r", expires_at: null, department: "tech" }), [
      ["reason", null, "r"],
      ["expires_at", null, null],
      ["department", null, "tech"],
    ]);
    assert.deepEqual(changeDiff({ action: "remove", before }), []);
  });
});

describe("who may decide", () => {
  const pending = { id: 4, status: "pending", proposed_by: "mia" };

  test("risk control confirms or rejects others' proposals; the proposer only withdraws", () => {
    assert.deepEqual(allowedDecisions(pending, { username: "rick", mayConfirm: true }), ["confirm", "reject"]);
    assert.deepEqual(allowedDecisions(pending, { username: "mia", mayConfirm: true }), ["withdraw"]);
    assert.deepEqual(allowedDecisions(pending, { username: "tom", mayConfirm: false }), []);
  });

  test("a decided change offers nothing", () => {
    assert.deepEqual(allowedDecisions({ ...pending, status: "confirmed" }, { username: "rick", mayConfirm: true }), []);
  });
});

describe("errors", () => {
  test("400 answers go to their fields; the expiry's to the date input", () => {
    assert.deepEqual(
      proposalErrors({ value: ["This phone is already listed (entry B1)"], expires_at: ["x"], detail: ["nothing"] }),
      { byField: { value: ["This phone is already listed (entry B1)"], expires: ["x"] }, general: ["nothing"] },
    );
    assert.deepEqual(proposalErrors(null), { byField: {}, general: [] });
  });
});
