// What an answer of /api/parameters/ means, in one place. Every call the page makes hands its
// {status, data} (common.js apiFetch) to handleAnswer with what to do for each kind of answer,
// instead of each call testing the statuses again. Pure: no DOM (unit-tested in node,
// tests/js/parameters_responses.test.mjs).
//
// The kinds:
//   ok          200 with the body the call expects (`accept`, default: any JSON body)
//   filed       202 {id, …}: a change request filed instead (risk.* values need four eyes)
//   conflict    409 {detail, current: [parameter states], request?}: someone changed it first
//   invalid     400 {field: [messages]} (nested for the budget split's `changes`)
//   forbidden   403 {detail}     signedOut   401     network   0 (the server was not reached)
//   unexpected  anything else
// Every answer carries `messages`, its failure in words: a kind a call has no handler for (a 202
// where nothing is four-eyes, a 409 where no version was sent) is reported like any failure.

/** The API's root: every call of the page goes to a path under it. */
export const API = "/api/parameters/";

/** A failed answer in words: field errors, detail, or the status. */
export function failure(t, status, data) {
  if (status === 0) return [t("network")];
  if (status === 401) return [t("signedOut")];
  if (status === 403) return [(data && data.detail) || t("forbidden")];
  if (data && typeof data === "object") {
    const messages = [];
    for (const [field, value] of Object.entries(data)) {
      // A 409's parameter states and request are not messages.
      if (field === "current" || field === "request" || field === "version") continue;
      for (const message of [].concat(value)) {
        if (typeof message === "string") messages.push(message);
        else if (message && typeof message === "object") messages.push(...failure(t, 400, message));
      }
    }
    if (messages.length) return messages;
  }
  return [t("unexpected", { status })];
}

/** The kind of an answer (see the header), with its data and its failure in words. */
export function readAnswer({ status, data }, t, { accept = () => true } = {}) {
  const answer = { kind: "unexpected", status, data, messages: failure(t, status, data) };
  if (status === 200 && data && accept(data)) answer.kind = "ok";
  else if (status === 202 && data && data.id) answer.kind = "filed";
  else if (status === 409 && data) {
    answer.kind = "conflict";
    answer.current = data.current || [];
    answer.request = data.request || null;
  } else if (status === 400) answer.kind = "invalid";
  else if (status === 403) answer.kind = "forbidden";
  else if (status === 401) answer.kind = "signedOut";
  else if (status === 0) answer.kind = "network";
  return answer;
}

/**
 * Read an answer and call the handler of its kind ({ok, filed, conflict, …}) with it, or else
 * `failed` (which shows `messages`); what the handler returns.
 */
export function handleAnswer(response, t, handlers, options) {
  const answer = readAnswer(response, t, options);
  const handler = handlers[answer.kind] || handlers.failed;
  return handler ? handler(answer) : undefined;
}
