// The flow view (/kanban/flow/): draws the Plotly figures the server built (kanban/charts.py)
// with the locally served plotly.js. Nothing is computed here.

import { readJson } from "./common.js";
import { newPlot } from "./plot_theme.js";

const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const TARGETS = { cfd: "chart-cfd", cycle: "chart-cycle", handoffs: "chart-handoffs" };

function draw() {
  const figures = readJson("kanban-flow-figures", null);
  if (!figures || !window.Plotly) return;
  for (const [key, id] of Object.entries(TARGETS)) {
    const target = document.getElementById(id);
    const figure = figures[key];
    if (!target || !figure) continue;
    newPlot(target, figure.data, figure.layout, PLOT_CONFIG);
    target.dataset.drawn = "1";
  }
}

draw();
