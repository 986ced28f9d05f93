// The /risk/ page's pure logic (no DOM, no fetch): what the page shows of a flagged
// application's checks, how a refreshed queue is merged with what the page knew, the pre-screen's
// request and reasons, and the summaries of a ring. Unit-tested in tests/js/screening.test.mjs.
//
// Identifiers only ever arrive masked from the server (`****8000`); nothing here unmasks them.

export const CHECK_KEYS = ["blacklist", "shared_phone", "vin_reuse", "ltv", "debt_to_income", "shared_device"];
export const RESULTS = ["pass", "fail", "not_applicable"];
export const STATUSES = ["open", "cleared", "all"];
export const BLACKLIST_TYPES = ["applicant", "phone", "vin", "dealer", "device"];
export const LINK_TYPES = ["phone", "device", "vin"];
export const IDENTIFIER_FIELDS = [
  ["applicant", "applicant_key"],
  ["phone", "phone"],
  ["vin", "vin"],
  ["device", "device_id"],
  ["dealer", "dealer_id"],
];

/** The six checks of a row in their order, each with its result (a missing one: null). */
export function checkResults(row) {
  const checks = (row && row.checks) || {};
  return CHECK_KEYS.map((key) => ({ key, result: RESULTS.includes(checks[key]) ? checks[key] : null }));
}

/** The failed checks of a row, in the checks' order. */
export function failedChecks(row) {
  if (row && Array.isArray(row.failed_checks)) {
    return CHECK_KEYS.filter((key) => row.failed_checks.includes(key));
  }
  return checkResults(row)
    .filter((c) => c.result === "fail")
    .map((c) => c.key);
}

/** What the explanations of a row depend on: the application and the results of its checks. */
export function explanationKey(row) {
  return `${row.application_id}|${checkResults(row)
    .map((c) => c.result || "-")
    .join(",")}`;
}

/**
 * Remember the explanations the server gave (the page's first state, or an application's ring):
 * a later answer without them (the flags API) keeps them while the checks stay the same.
 */
export function rememberExplanations(cache, rows) {
  const next = new Map(cache);
  for (const row of rows || []) {
    if (row && row.explanations && Object.keys(row.explanations).length) {
      next.set(explanationKey(row), row.explanations);
    }
  }
  return next;
}

/**
 * Why a check failed, in words: the server's own explanation (on the row, or remembered for the
 * same checks), else a sentence from the live thresholds (exact counts need the server: opening
 * the application brings them). `t` is the page's translator, `pct` writes a percentage.
 */
export function explanationFor(
  row,
  key,
  { cache = new Map(), t = (k) => k, thresholds = {}, pct = (v) => `${v} %` } = {},
) {
  const own = row && row.explanations && row.explanations[key];
  if (own) return own;
  const remembered = cache.get(explanationKey(row));
  if (remembered && remembered[key]) return remembered[key];
  const ids = (row && row.identifiers) || {};
  const values = {
    days: thresholds["risk.xcheck.window_days"] ?? "?",
    maxPhone: thresholds["risk.xcheck.max_applicants_per_phone"] ?? "?",
    maxDevice: thresholds["risk.xcheck.max_applicants_per_device"] ?? "?",
    maxLtv: pct(thresholds["risk.max_ltv_pct"] ?? "?"),
    maxDti: pct(thresholds["risk.xcheck.max_dti_pct"] ?? "?"),
    phone: ids.phone || "",
    device: ids.device_id || "",
    vin: ids.vin || "",
  };
  return t(`why_${key}`, values);
}

/**
 * A refreshed queue against the one shown: the new rows (in the server's order) and which
 * applications arrived, changed (another result of a check, or another status) or left.
 */
export function mergeQueue(previous, incoming) {
  const before = new Map((previous || []).map((row) => [row.application_id, row]));
  const rows = Array.isArray(incoming) ? incoming : [];
  const added = [];
  const changed = [];
  for (const row of rows) {
    const old = before.get(row.application_id);
    if (!old) added.push(row.application_id);
    else if (explanationKey(old) !== explanationKey(row) || old.status !== row.status) {
      changed.push(row.application_id);
    }
  }
  const now = new Set(rows.map((row) => row.application_id));
  const removed = [...before.keys()].filter((id) => !now.has(id));
  return { rows, added, changed, removed };
}

/** The masked identifiers of a row worth showing: [[kind, "****8000"], ...]. */
export function maskedIdentifiers(identifiers, kinds = IDENTIFIER_FIELDS.map(([kind]) => kind)) {
  const out = [];
  for (const [kind, field] of IDENTIFIER_FIELDS) {
    const value = identifiers && identifiers[field];
    if (kinds.includes(kind) && value) out.push([kind, String(value)]);
  }
  return out;
}

/** The query of GET /api/risk/flags/ for a filter. */
export function flagsUrl(status, limit = 200) {
  const chosen = STATUSES.includes(status) ? status : "open";
  return `/api/risk/flags/?status=${chosen}&limit=${limit}`;
}

/** The query of GET /api/risk/blacklist/ for the chosen filters ("" = any). */
export function blacklistUrl({ type = "", active = "" } = {}, { limit = 100, offset = 0 } = {}) {
  const params = new URLSearchParams();
  if (BLACKLIST_TYPES.includes(type)) params.set("type", type);
  if (active === "true" || active === "false") params.set("active", active);
  params.set("limit", String(limit));
  if (offset) params.set("offset", String(offset));
  return `/api/risk/blacklist/?${params.toString()}`;
}

const TEXT_FIELDS = ["region", "channel", "applicant_key", "phone", "device_id", "vin"];
const SCORE_FIELDS = [
  ["lead_score", 0, 100],
  ["credit_score", 0, 1000],
];

/**
 * The body of POST /api/leads/prescreen/ from the form's values: texts trimmed, empty ones left
 * out, scores as integers. `errors` lists the fields the server would refuse anyway (a score
 * that is not a whole number in its range; region and channel missing).
 */
export function prescreenBody(values) {
  const body = {};
  const errors = {};
  for (const name of TEXT_FIELDS) {
    const value = String((values && values[name]) ?? "").trim();
    if (value) body[name] = value;
  }
  for (const name of ["region", "channel"]) if (!body[name]) errors[name] = "required";
  for (const [name, min, max] of SCORE_FIELDS) {
    const raw = String((values && values[name]) ?? "").trim();
    if (!raw) continue;
    const number = Number(raw);
    if (!Number.isInteger(number) || number < min || number > max) errors[name] = "range";
    else body[name] = number;
  }
  return { body, errors };
}

const DETAIL_KEYS = { blacklist: "reason_blacklist", credit_score: "reason_credit", lead_score: "reason_lead" };

/**
 * A reason of the pre-screen in the reader's language, from its `details` entry
 * ({code, kind} or {code, value, threshold, parameter}); `fallback` (the reason in English, as
 * the server wrote it) when the code is not known.
 */
export function detailText(detail, t, kindLabel = (kind) => kind, fallback = "") {
  const key = detail && DETAIL_KEYS[detail.code];
  if (!key) return fallback;
  if (detail.code === "blacklist") return t(key, { kind: kindLabel(detail.kind) });
  const values = { score: detail.value, min: detail.threshold, cutoff: detail.threshold };
  return t(key, values);
}

/** The thresholds a pre-screen used: those the answer names, else the live values known. */
export function usedThresholds(answer, live = {}) {
  return {
    "marketing.lead_score_cutoff": live["marketing.lead_score_cutoff"] ?? null,
    "risk.min_credit_score": live["risk.min_credit_score"] ?? null,
    ...((answer && answer.thresholds) || {}),
  };
}

/**
 * 400 answers of the pre-screen placed by field: {field: [messages]} for the form's fields,
 * `general` for the rest (non_field_errors, a detail).
 */
export function fieldErrors(data, fields = [...TEXT_FIELDS, ...SCORE_FIELDS.map(([n]) => n)]) {
  const byField = {};
  const general = [];
  if (data && typeof data === "object" && !Array.isArray(data)) {
    for (const [name, messages] of Object.entries(data)) {
      const list = (Array.isArray(messages) ? messages : [messages]).map(String);
      if (fields.includes(name)) byField[name] = list;
      else general.push(...list);
    }
  } else if (data) {
    general.push(String(data));
  }
  return { byField, general };
}

/** What a ring holds: applications, how many flagged, and the shared identifiers by kind. */
export function ringSummary(ring) {
  const nodes = (ring && ring.nodes) || [];
  const groups = (ring && ring.groups) || [];
  const byType = Object.fromEntries(LINK_TYPES.map((type) => [type, 0]));
  for (const group of groups) if (group.type in byType) byType[group.type] += 1;
  const focus = ring && ring.application_id;
  return {
    applications: nodes.length,
    others: Math.max(0, nodes.length - 1),
    flagged: nodes.filter((n) => n.flagged).length,
    othersFlagged: nodes.filter((n) => n.flagged && n.application_id !== focus).length,
    shared: groups.length,
    byType,
    truncated: Boolean(ring && ring.truncated),
  };
}

/** The route a hash names: {tab, application}. */
export function route(hash, tabs = ["queue", "blacklist", "prescreen"], fallback = "queue") {
  let name = String(hash || "").replace(/^#/, "");
  try {
    name = decodeURIComponent(name);
  } catch {
    // a malformed escape: read it as it is
  }
  const match = /^application-(.+)$/.exec(name);
  if (match) return { tab: "queue", application: match[1] };
  return { tab: tabs.includes(name) ? name : fallback, application: null };
}

/** "YYYY-MM-DD" of an ISO time in `timeZone` (the business zone); the ISO's date if it fails. */
export function dateIn(iso, timeZone) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso).slice(0, 10);
  try {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(date);
  } catch {
    return String(iso).slice(0, 10);
  }
}
