// Unit tests of how the /parameters/ page reads an API answer (static/js/parameters/responses.js):
// the one place every call's {status, data} is classified and handed to the call's handlers.
// Node's built-in runner: `node --test tests/js/` (tests/test_js_units.py runs it under pytest).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { translator } from "../../static/js/common.js";
import { failure, handleAnswer, readAnswer } from "../../static/js/parameters/responses.js";

const t = translator({
  network: "The server could not be reached.",
  signedOut: "Your session has ended.",
  forbidden: "Only managers may change parameters.",
  unexpected: "Unexpected answer from the server (HTTP {status}).",
});

const state = (key, version, value) => ({ key, version, value, type: "percent", unit: "%" });

describe("readAnswer: the kind of an answer", () => {
  test("200 with a body is ok, and carries the body", () => {
    const data = state("alert.overdue_rate.warn_pct", 2, 7);
    const answer = readAnswer({ status: 200, data }, t);
    assert.equal(answer.kind, "ok");
    assert.equal(answer.data, data);
  });

  test("200 the call does not expect (accept says no), or without a body, is unexpected", () => {
    const data = state("risk.max_ltv_pct", 2, 75);
    const other = readAnswer({ status: 200, data }, t, { accept: (d) => d.key === "alert.overdue_rate.warn_pct" });
    assert.equal(other.kind, "unexpected");
    assert.equal(readAnswer({ status: 200, data: [] }, t, { accept: Array.isArray }).kind, "ok");
    assert.equal(readAnswer({ status: 200, data: { detail: "x" } }, t, { accept: Array.isArray }).kind, "unexpected");
    const empty = readAnswer({ status: 200, data: null }, t);
    assert.equal(empty.kind, "unexpected");
    assert.deepEqual(empty.messages, ["Unexpected answer from the server (HTTP 200)."]);
  });

  test("202 with a request id is filed; without one it is unexpected", () => {
    const request = { id: 12, status: "pending", changes: { "risk.max_ltv_pct": 75 } };
    assert.equal(readAnswer({ status: 202, data: request }, t).kind, "filed");
    assert.equal(readAnswer({ status: 202, data: {} }, t).kind, "unexpected");
  });

  test("400: invalid, each field's messages in words (nested ones of the budget split too)", () => {
    const answer = readAnswer({ status: 400, data: { value: ["Must be between 0 and 100."], reason: "Too long." } }, t);
    assert.equal(answer.kind, "invalid");
    assert.deepEqual(answer.messages, ["Must be between 0 and 100.", "Too long."]);
    const split = readAnswer(
      { status: 400, data: { changes: [{ value: ["The three shares must sum to 100 %."] }] } },
      t,
    );
    assert.equal(split.kind, "invalid");
    assert.deepEqual(split.messages, ["The three shares must sum to 100 %."]);
    const bare = readAnswer({ status: 400, data: null }, t);
    assert.equal(bare.kind, "invalid");
    assert.deepEqual(bare.messages, ["Unexpected answer from the server (HTTP 400)."]);
  });

  test("409: conflict with the current versions and the request; they are not messages", () => {
    const current = [state("alert.overdue_rate.warn_pct", 3, 8)];
    const decided = { id: 4, status: "approved" };
    const answer = readAnswer(
      { status: 409, data: { detail: "Changed meanwhile.", value: 8, version: 3, current, request: decided } },
      t,
    );
    assert.equal(answer.kind, "conflict");
    assert.equal(answer.current, current);
    assert.equal(answer.request, decided);
    // `value` is a number, `version`, `current` and `request` are skipped: only the detail is said.
    assert.deepEqual(answer.messages, ["Changed meanwhile."]);
    const plain = readAnswer({ status: 409, data: { detail: "Decided already." } }, t);
    assert.deepEqual([plain.kind, plain.current, plain.request], ["conflict", [], null]);
    assert.equal(readAnswer({ status: 409, data: null }, t).kind, "unexpected");
  });

  test("403: forbidden, the server's detail or the page's own words", () => {
    const answer = readAnswer({ status: 403, data: { detail: "Only managers may approve." } }, t);
    assert.equal(answer.kind, "forbidden");
    assert.deepEqual(answer.messages, ["Only managers may approve."]);
    assert.deepEqual(readAnswer({ status: 403, data: null }, t).messages, ["Only managers may change parameters."]);
  });

  test("401: signed out; status 0: the network", () => {
    const out = readAnswer({ status: 401, data: { detail: "Authentication credentials were not provided." } }, t);
    assert.equal(out.kind, "signedOut");
    assert.deepEqual(out.messages, ["Your session has ended."]);
    const network = readAnswer({ status: 0, data: null }, t);
    assert.equal(network.kind, "network");
    assert.deepEqual(network.messages, ["The server could not be reached."]);
  });

  test("anything else is unexpected, named by its status", () => {
    const answer = readAnswer({ status: 502, data: null }, t);
    assert.equal(answer.kind, "unexpected");
    assert.deepEqual(answer.messages, ["Unexpected answer from the server (HTTP 502)."]);
    assert.deepEqual(failure(t, 500, { detail: "Server error." }), ["Server error."]);
  });
});

describe("handleAnswer: one handler per kind, else `failed`", () => {
  const calls = (response, handlerKinds, options) => {
    const seen = [];
    const handlers = Object.fromEntries(
      handlerKinds.map((kind) => [kind, (answer) => (seen.push([kind, answer.kind, answer.messages]), kind)]),
    );
    const returned = handleAnswer(response, t, handlers, options);
    return { seen, returned };
  };

  test("the handler of the answer's kind is called with it, and what it returns is returned", () => {
    const { seen, returned } = calls({ status: 409, data: { detail: "x", current: [] } }, ["ok", "conflict", "failed"]);
    assert.equal(returned, "conflict");
    assert.deepEqual(seen, [["conflict", "conflict", ["x"]]]);
  });

  test("a kind the call has no handler for goes to `failed`, with its messages", () => {
    const filed = calls({ status: 202, data: { id: 9, detail: "Filed as #9." } }, ["ok", "failed"]);
    assert.deepEqual(filed.seen, [["failed", "filed", ["Filed as #9."]]]);
    const forbidden = calls({ status: 403, data: null }, ["ok", "filed", "conflict", "failed"]);
    assert.deepEqual(forbidden.seen, [["failed", "forbidden", ["Only managers may change parameters."]]]);
    const network = calls({ status: 0, data: null }, ["ok", "failed"]);
    assert.deepEqual(network.seen, [["failed", "network", ["The server could not be reached."]]]);
  });

  test("`accept` decides what a 200 must carry to be ok", () => {
    const wrong = calls({ status: 200, data: { key: "b" } }, ["ok", "failed"], { accept: (d) => d.key === "a" });
    assert.equal(wrong.returned, "failed");
    const right = calls({ status: 200, data: { key: "a" } }, ["ok", "failed"], { accept: (d) => d.key === "a" });
    assert.equal(right.returned, "ok");
  });

  test("no handler at all: nothing is called", () => {
    assert.equal(handleAnswer({ status: 500, data: null }, t, {}), undefined);
  });
});
