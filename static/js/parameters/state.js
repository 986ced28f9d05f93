// The /parameters/ page's state and how API answers and socket messages change it: pure, no DOM
// (unit-tested in node, tests/js/parameters_state.test.mjs). socket.js and the editors apply
// these, then repaint.
//
// params: key → parameter state, as GET /api/parameters/ answers ({key, value, version, type,
// updated_by, updated_at, four_eyes, …}); requests: id → pending change request; presets: the
// budget presets (they never change while the page is open). A parameter's `version` grows with
// every change: what is older than what the page holds is ignored.

/** The page's state from its json_script block (the shapes of the API and the snapshot). */
export function createState(initial = {}) {
  const state = { params: new Map(), requests: new Map(), presets: initial.presets || [] };
  for (const param of initial.parameters || []) state.params.set(param.key, param);
  for (const request of initial.requests || []) state.requests.set(request.id, request);
  return state;
}

/** A parameter's state from the API (or a 409's `current`) merged in, unless the page holds a
 * newer version: true when the version moved (or the key is new). */
export function updateParam(state, data) {
  const previous = state.params.get(data.key);
  if (previous && previous.version > data.version) return false;
  state.params.set(data.key, { ...(previous || {}), ...data });
  return !previous || previous.version !== data.version;
}

/** A change request kept while pending, dropped once decided. */
export function setRequest(state, request) {
  if (request.status === "pending") state.requests.set(request.id, request);
  else state.requests.delete(request.id);
}

/** The pending requests that would change `key`. */
export function pendingFor(state, key) {
  return [...state.requests.values()].filter((r) => key in (r.changes || {}));
}

/**
 * `parameter.changed` {key, value, version, changed_by, changed_at}: the parameter's new state,
 * or null when the event is ignored (a key the page does not show, or a version it has already).
 */
export function applyParameterChanged(state, msg) {
  const previous = state.params.get(msg.key);
  if (!previous || previous.version >= msg.version) return null;
  updateParam(state, {
    key: msg.key,
    value: msg.value,
    version: msg.version,
    updated_by: msg.changed_by,
    updated_at: msg.changed_at,
  });
  return state.params.get(msg.key);
}

/**
 * `parameters.snapshot` {parameters, requests}: replaces what the page holds (sent on connect and
 * on every reconnect). The keys whose version moved meanwhile, to highlight; none on the first
 * snapshot (`firstPaint`), which only confirms what the server rendered.
 */
export function applySnapshot(state, msg, { firstPaint = false } = {}) {
  const moved = [];
  for (const param of msg.parameters || []) {
    const previous = state.params.get(param.key);
    state.params.set(param.key, param);
    if (!firstPaint && previous && previous.version !== param.version) moved.push(param.key);
  }
  state.requests = new Map((msg.requests || []).map((r) => [r.id, r]));
  return moved;
}

/** The budget shares, in the order of `keys`, that the page has. */
export function budgetParams(state, keys) {
  return keys.map((key) => state.params.get(key)).filter(Boolean);
}

/** Every value of the preset is the parameter's current value. */
export function presetIsCurrent(state, preset) {
  return Object.entries(preset.values).every(([key, value]) => {
    const param = state.params.get(key);
    return param && Math.abs(param.value - value) <= 1e-9;
  });
}
