// The one socket module every page uses (ARCHITECTURE.md, "Realtime, once").
//
//   import { connectLive } from this module (live.js), then:
//   const live = connectLive("/ws/imports/", {
//     onSnapshot(msg) { ... replace what the page shows ... },
//     onEvent(msg)    { ... apply one change ... },
//     onStatus(state) { ... "connecting" | "live" | "offline" ... },
//   });
//   live.close();   // stop for good
//
// - The session cookie goes along with the handshake: nothing else is sent for auth.
// - The server sends a snapshot ("<stream>.snapshot") on connect and on every reconnect, so a
//   page that was away misses nothing: onSnapshot must replace, not merge.
// - Messages that carry a numeric `seq` are checked per stream (`stream` field, else the path):
//   a gap sends {"type": "resync"} and the server answers with a fresh snapshot; a repeat is dropped.
// - A lost connection is retried with exponential backoff and jitter (0.5 s doubling to 15 s).
// - Close code 4401 (not signed in) sends the browser to the login page; 4403 (refused) stops.
// - The header's status element (#live-status) shows the worst state of every open socket.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const PING_EVERY_MS = 25000;
const SILENCE_LIMIT_MS = 60000;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

const connections = new Set();

// Once this page is being left (a link, a form such as "Sign out"), a socket that closes is
// part of leaving: it must not send the browser elsewhere, nor reconnect.
let leaving = false;
window.addEventListener("beforeunload", () => {
  leaving = true;
  // A download (the PDF, a CSV) starts like a navigation but the page stays: still here a
  // few seconds later means it was not left.
  setTimeout(() => {
    leaving = false;
  }, 5000);
});
window.addEventListener("pageshow", () => {
  leaving = false; // back from the bfcache: the page lives again
});

/** Show the worst state of all open connections in the header indicator. */
function paintIndicator() {
  const el = document.getElementById("live-status");
  if (!el) return;
  const states = [...connections].map((c) => c.status);
  if (states.length === 0) {
    el.hidden = true;
    return;
  }
  const state = states.includes("offline")
    ? "offline"
    : states.includes("connecting")
      ? "connecting"
      : "live";
  el.hidden = false;
  el.dataset.state = state;
  const label = el.querySelector("[data-role=label]") || el;
  label.textContent = el.dataset[`label${state[0].toUpperCase()}${state.slice(1)}`] || state;
}

/** ws(s)://<this host><path> */
export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

/** Where a signed-out socket sends the browser: the login page, coming back here after. */
function goToLogin() {
  const login = document.body.dataset.loginUrl || "/login/";
  const next = window.location.pathname + window.location.search;
  window.location.assign(`${login}?next=${encodeURIComponent(next)}`);
}

/**
 * Open a live socket on `path` and keep it open.
 * @param {string} path e.g. "/ws/imports/"
 * @param {{onSnapshot?: Function, onEvent?: Function, onStatus?: Function}} handlers
 * @returns {{close: () => void, send: (msg: object) => boolean, readonly status: string}}
 */
export function connectLive(path, { onSnapshot, onEvent, onStatus } = {}) {
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let lastHeard = 0;
  let stopped = false;
  const lastSeq = new Map();

  const conn = {
    status: "offline",
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      if (socket) socket.close(1000);
      connections.delete(conn);
      paintIndicator();
    },
    send(msg) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(msg));
      return true;
    },
  };

  function setStatus(state) {
    if (conn.status === state) return;
    conn.status = state;
    paintIndicator();
    if (onStatus) onStatus(state);
  }

  function scheduleReconnect() {
    if (stopped || retryTimer) return;
    const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: 50-100 % of the ceiling
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      open();
    }, delay);
  }

  function handle(msg) {
    if (!msg || typeof msg.type !== "string" || msg.type === "pong") return;
    const stream = msg.stream || path;
    if (msg.type.endsWith(".snapshot")) {
      if (typeof msg.seq === "number") lastSeq.set(stream, msg.seq);
      else lastSeq.delete(stream);
      if (onSnapshot) onSnapshot(msg);
      return;
    }
    if (typeof msg.seq === "number") {
      const last = lastSeq.get(stream);
      if (last !== undefined && msg.seq <= last) return; // already seen
      lastSeq.set(stream, msg.seq);
      if (last !== undefined && msg.seq > last + 1) {
        conn.send({ type: "resync" }); // missed something: the snapshot that follows repairs it
        return;
      }
    }
    if (onEvent) onEvent(msg);
  }

  function open() {
    if (stopped) return;
    setStatus("connecting");
    lastSeq.clear();
    try {
      socket = new WebSocket(socketUrl(path));
    } catch {
      setStatus("offline");
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", () => {
      attempt = 0;
      lastHeard = Date.now();
      setStatus("live");
      clearInterval(pingTimer);
      pingTimer = setInterval(() => {
        // A half-open connection never closes by itself: give up on it after a long silence.
        if (Date.now() - lastHeard > SILENCE_LIMIT_MS) socket.close(4000);
        else conn.send({ type: "ping" });
      }, PING_EVERY_MS);
    });
    socket.addEventListener("message", (event) => {
      lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return; // not ours
      }
      handle(msg);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      socket = null;
      if (stopped || leaving) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        setStatus("offline");
        goToLogin();
        return;
      }
      setStatus("offline");
      if (event.code === CLOSE_FORBIDDEN) return; // retrying cannot help
      scheduleReconnect();
    });
  }

  // Back online, or back to this tab: try at once rather than waiting out the backoff.
  const retryNow = () => {
    if (!stopped && !socket && retryTimer) {
      clearTimeout(retryTimer);
      retryTimer = null;
      attempt = 0;
      open();
    }
  };
  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") retryNow();
  });

  connections.add(conn);
  open();
  return conn;
}
