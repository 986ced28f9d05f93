// Shared by the KPI page and the review mode: calling the API the way their callers expect, the
// server's number format, and drawing the server's Plotly figures with the local plotly.js.
// (The print rendering, kpi_print.js, is a classic script and stands alone.)

import { apiFetch } from "./common.js";
import { newPlot } from "./plot_theme.js";

/** apiFetch, resolving to {status, body} (body null when not JSON); rejects when the server
 * could not be reached, so that the callers' catch says so. */
export async function api(url, { method = "GET", body } = {}) {
  const { status, data } = await apiFetch(url, { method, body });
  if (status === 0) throw new TypeError("network error");
  return { status, body: data };
}

/** A number as people read it (the server's `fmt`): about four significant digits. */
export function fmt(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return "0";
  return value.toFixed(3);
}

function lookup(figures, path) {
  return path.split(".").reduce((node, part) => (node ? node[part] : undefined), figures);
}

/** Draw every [data-figure] element under `root` from `figures` (dotted paths). */
export function drawFigures(root, figures, { staticPlot = false, height } = {}) {
  const Plotly = window.Plotly;
  const promises = [];
  if (!Plotly) return Promise.resolve([]);
  for (const node of root.querySelectorAll("[data-figure]")) {
    const figure = lookup(figures, node.dataset.figure);
    if (!figure) continue;
    const layout = { ...figure.layout, autosize: true };
    if (height || node.dataset.height) layout.height = Number(node.dataset.height || height);
    promises.push(
      newPlot(node, figure.data, layout, {
        displaylogo: false,
        responsive: !staticPlot,
        staticPlot,
        modeBarButtonsToRemove: ["lasso2d", "select2d"],
      }),
    );
  }
  return Promise.all(promises);
}
