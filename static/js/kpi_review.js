// The full-screen quarterly review: one screen at a time (overview, one per department, alerts,
// parameter changes, hand-offs), moved with the arrow keys (also PageUp/PageDown, Home/End) or
// the on-screen buttons; the screen number is kept in the URL's hash. The kanban's hand-off
// statistics are fetched from its API; without it the screen says so.

import { el, readJson, translator } from "./common.js";
import { api, drawFigures, fmt } from "./kpi_common.js";

const t = translator(readJson("kpi-i18n", {}));
const figures = readJson("kpi-figures", {});
const meta = readJson("kpi-review-meta", {});
const slides = [...document.querySelectorAll(".slide")];
const position = document.getElementById("review-position");
const prev = document.getElementById("review-prev");
const next = document.getElementById("review-next");
const dots = document.querySelector(".review-dots");
let current = 0;

for (let i = 0; i < slides.length; i += 1) dots.append(el("span"));

function draw(slide) {
  if (slide.dataset.drawn) {
    if (window.Plotly) for (const node of slide.querySelectorAll(".js-plotly-plot")) window.Plotly.Plots.resize(node);
    return;
  }
  slide.dataset.drawn = "1";
  drawFigures(slide, figures);
}

function show(index) {
  current = Math.max(0, Math.min(slides.length - 1, index));
  slides.forEach((slide, i) => slide.classList.toggle("is-current", i === current));
  [...dots.children].forEach((dot, i) => dot.classList.toggle("is-current", i === current));
  position.textContent = `${current + 1} / ${slides.length}`;
  prev.disabled = current === 0;
  next.disabled = current === slides.length - 1;
  document.body.dataset.slide = slides[current].dataset.slide;
  history.replaceState(null, "", `#${slides[current].dataset.slide}`);
  draw(slides[current]);
}

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  // Typing a decision into the actions form moves no screen.
  if (event.target instanceof Element && event.target.closest("input, textarea, select")) return;
  const moves = {
    ArrowRight: current + 1,
    ArrowDown: current + 1,
    PageDown: current + 1,
    " ": current + 1,
    ArrowLeft: current - 1,
    ArrowUp: current - 1,
    PageUp: current - 1,
    Home: 0,
    End: slides.length - 1,
  };
  if (event.key in moves) {
    event.preventDefault();
    show(moves[event.key]);
  } else if (event.key === "f" || event.key === "F") {
    toggleFullscreen();
  }
});
prev.addEventListener("click", () => show(current - 1));
next.addEventListener("click", () => show(current + 1));

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen();
  else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
}
document.getElementById("review-fullscreen").addEventListener("click", toggleFullscreen);
window.addEventListener("resize", () => draw(slides[current]));

const start = slides.findIndex((s) => `#${s.dataset.slide}` === location.hash);
show(start >= 0 ? start : 0);

// ---- the kanban's hand-off statistics ----------------------------------------------------------

const handoffs = document.getElementById("handoff-stats");

function handoffTable(board, rows) {
  const label = (d) => (meta.labels && meta.labels[d]) || d;
  const body = rows.map((row) =>
    el("tr", {}, [
      el("td", { txt: label(row.from_department) }),
      el("td", { txt: label(row.to_department) }),
      el("td", { cls: "num", txt: row.count }),
      el("td", { cls: "num", txt: fmt(row.median_wait_hours) }),
      el("td", { cls: "num", txt: row.waiting_now }),
    ]),
  );
  return el("div", { cls: "handoff-board" }, [
    el("h2", { txt: `${t("board")}: ${board.name}` }),
    rows.length
      ? el("table", { cls: "table table--compact" }, [
          el("thead", {}, [
            el("tr", {}, [
              el("th", { txt: t("handoffFrom"), attrs: { scope: "col" } }),
              el("th", { txt: t("handoffTo"), attrs: { scope: "col" } }),
              el("th", { cls: "num", txt: t("handoffCount"), attrs: { scope: "col" } }),
              el("th", { cls: "num", txt: t("handoffWait"), attrs: { scope: "col" } }),
              el("th", { cls: "num", txt: t("handoffWaiting"), attrs: { scope: "col" } }),
            ]),
          ]),
          el("tbody", {}, body),
        ])
      : el("p", { cls: "review-note", txt: t("noHandoffs") }),
  ]);
}

async function loadHandoffs() {
  try {
    const boards = await api("/api/kanban/boards/");
    if (boards.status !== 200 || !Array.isArray(boards.body)) throw new Error("no boards");
    const parts = [];
    for (const board of boards.body.slice(0, 3)) {
      const query = new URLSearchParams({ start: meta.start, end: meta.end });
      const flow = await api(`/api/kanban/boards/${board.id}/flow/?${query}`);
      if (flow.status !== 200 || !flow.body) continue;
      parts.push(handoffTable(board, flow.body.handoffs || []));
    }
    if (!parts.length) throw new Error("no flow");
    handoffs.replaceChildren(...parts);
    handoffs.dataset.state = "loaded";
  } catch {
    handoffs.replaceChildren(el("p", { cls: "review-note", txt: t("kanbanUnavailable") }));
    handoffs.dataset.state = "unavailable";
  }
}
loadHandoffs();
