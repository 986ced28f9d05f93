// The blacklist's four-eyes on the /risk/ page, pure logic (no DOM, no fetch): the body of a
// proposal from the form's values, what a change does in words, and what a person may do with
// a pending change. Unit-tested in tests/js/screening.test.mjs.
//
// Values arrive masked from the server (`****8000`); the value typed into the form is sent once,
// whole, with the proposal and never shown again.

import { BLACKLIST_TYPES } from "./state.js";

export const ACTIONS = ["add", "change", "remove"];
export const DEPARTMENTS = ["marketing", "risk", "tech"];

/**
 * The body of POST /api/risk/blacklist/changes/ from the form's values, and the fields the server
 * would refuse anyway ({field: "required" | "nothing" | "choice"}).
 *
 * - add: type, value, reason required; expires (a date) optional, the end of that day in the
 *   business zone (sent without an offset: the server reads it in its zone).
 * - change: entry and note required, and at least one of a new reason, expiry, "no expiry" or
 *   department.
 * - remove: entry and note required.
 */
export function proposalBody(values) {
  const v = (name) => String((values && values[name]) ?? "").trim();
  const action = ACTIONS.includes(v("action")) ? v("action") : "add";
  const body = { action };
  const errors = {};
  const expiry = v("expires") ? `${v("expires")}T23:59:59` : "";
  if (action === "add") {
    if (!BLACKLIST_TYPES.includes(v("type"))) errors.type = "choice";
    else body.type = v("type");
    for (const name of ["value", "reason"]) {
      if (v(name)) body[name] = v(name);
      else errors[name] = "required";
    }
    if (v("entry_id")) body.entry_id = v("entry_id");
    if (expiry) body.expires_at = expiry;
  } else {
    for (const name of ["entry_id", "note"]) {
      if (v(name)) body[name] = v(name);
      else errors[name] = "required";
    }
  }
  if (action === "change") {
    if (v("reason")) body.reason = v("reason");
    if (values && values.no_expiry) body.expires_at = null;
    else if (expiry) body.expires_at = expiry;
    if (!("reason" in body) && !("expires_at" in body) && !v("department")) errors.detail = "nothing";
  }
  if (action !== "remove" && v("department")) {
    if (DEPARTMENTS.includes(v("department"))) body.department = v("department");
    else errors.department = "choice";
  }
  if (action === "add" && v("note")) body.note = v("note");
  return { body, errors };
}

/** What changed in the entry: [[field, before, after], ...] (values as the server gave them). */
export function changeDiff(change) {
  if (!change) return [];
  const before = change.before || {};
  if (change.action === "add") {
    return [
      ["reason", null, change.reason || ""],
      ["expires_at", null, change.expires_at ?? null],
      ["department", null, change.department ?? null],
    ];
  }
  if (change.action === "remove") return [];
  return ["reason", "expires_at", "department"]
    .map((field) => [field, before[field] ?? null, change[field] ?? null])
    .filter(([, old, now]) => !sameValue(old, now));
}

function sameValue(a, b) {
  if (a === null || b === null) return a === b;
  const da = Date.parse(a);
  const db = Date.parse(b);
  // Instants compare as instants (the server may spell one offset or another).
  if (typeof a === "string" && typeof b === "string" && /\d{4}-\d\d-\d\dT/.test(a) && !Number.isNaN(da)) {
    return da === db;
  }
  return a === b;
}

/**
 * What `username` may do with a change: "confirm" and "reject" for risk control (not their own
 * proposal: four-eyes), "withdraw" for its proposer; nothing once it is decided.
 */
export function allowedDecisions(change, { username, mayConfirm }) {
  if (!change || change.status !== "pending") return [];
  const own = Boolean(username) && change.proposed_by === username;
  if (own) return ["withdraw"];
  return mayConfirm ? ["confirm", "reject"] : [];
}

/** Field errors of a 400 answer placed on the proposal form; the rest as general messages. */
export function proposalErrors(data) {
  const fields = ["action", "entry_id", "type", "value", "reason", "expires_at", "department", "note"];
  const byField = {};
  const general = [];
  if (data && typeof data === "object" && !Array.isArray(data)) {
    for (const [key, messages] of Object.entries(data)) {
      const list = (Array.isArray(messages) ? messages : [messages]).map(String);
      if (fields.includes(key)) byField[key === "expires_at" ? "expires" : key] = list;
      else general.push(...list);
    }
  }
  return { byField, general };
}
