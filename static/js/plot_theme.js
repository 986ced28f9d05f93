// One Plotly template per colour mode, and the one way every page draws a figure.
//
// The figures are built in Python (carloan/charts.py and each app's charts.py) in the light
// palette, with the light template below as their layout.template (so the PDF of the quarterly
// review, drawn without this module, stays light). Every page draws through newPlot()/react()
// here: the figure gets the template of the current mode (<html data-mode>, set by theme.js),
// and in dark mode the light palette's neutrals that a figure names itself (the ink of a line,
// white marker outlines, a legend's white backing) become their dark counterparts. When the
// mode changes ("themechange" from theme.js) every chart drawn here is drawn again in the new
// mode; for printing it is drawn light.
//
// Pure parts (TEMPLATES, themedFigure) are unit-tested in node (tests/js/plot_theme.test.mjs);
// the light template is the same as carloan/charts.py's TEMPLATE (tests/test_plot_theme.py).

const LIGHT = {
  ink: "#15202b", // --ink
  ink3: "#6b7a8c", // --ink-3
  line: "#dde3ea", // --line
  grid: "#eef2f6", // --line-2
  surface: "#ffffff", // --surface
};
const DARK = {
  ink: "#e6edf3",
  ink3: "#8b98a6",
  line: "#34414f",
  grid: "#26313d",
  surface: "#151e28",
  surfaceRgb: "21,30,40",
  hover: "#1c2733",
};
const TRANSPARENT = "rgba(0,0,0,0)";

function axis(palette) {
  return { gridcolor: palette.grid, linecolor: palette.line, zerolinecolor: palette.line };
}

/** The layout templates (Plotly's `layout.template`), by mode. */
export const TEMPLATES = Object.freeze({
  light: {
    layout: {
      font: { color: LIGHT.ink },
      paper_bgcolor: TRANSPARENT,
      plot_bgcolor: TRANSPARENT,
      xaxis: axis(LIGHT),
      yaxis: axis(LIGHT),
      legend: { bgcolor: "rgba(255,255,255,0.8)" },
      hoverlabel: { bgcolor: LIGHT.surface, bordercolor: LIGHT.line, font: { color: LIGHT.ink } },
      annotationdefaults: { font: { color: LIGHT.ink3 } },
    },
  },
  dark: {
    layout: {
      font: { color: DARK.ink },
      // The page's dark card colour (--surface): a chart reads as dark even on a tinted panel.
      paper_bgcolor: DARK.surface,
      plot_bgcolor: TRANSPARENT,
      xaxis: axis(DARK),
      yaxis: axis(DARK),
      legend: { bgcolor: `rgba(${DARK.surfaceRgb},0.8)` },
      hoverlabel: { bgcolor: DARK.hover, bordercolor: DARK.line, font: { color: DARK.ink } },
      annotationdefaults: { font: { color: DARK.ink3 } },
    },
  },
});

// What the colours a figure names itself (carloan/charts.py's palette) become in dark mode:
// the light neutrals turn into dark ones, and the few deep colours that would sink into a dark
// background (good, bad, caution, the departments) into the lighter shades app.css gives them
// in dark mode. Other colours (statuses, brand, the charts' own) read on both and stay.
export const DARK_COLOURS = Object.freeze({
  [LIGHT.ink]: DARK.ink,
  "#4a5868": "#b4c0cc", // --ink-2
  [LIGHT.ink3]: DARK.ink3,
  [LIGHT.line]: DARK.line,
  [LIGHT.grid]: DARK.grid,
  [LIGHT.surface]: DARK.surface,
  "#0b1f33": DARK.ink, // the header's navy, used as an outline (the screening ring's focus)
  "#137a4b": "#3fb97d", // GOOD (--ok)
  "#b42318": "#f47067", // BAD (--error)
  "#9a6100": "#e3a63c", // CAUTION (--warn)
  "#c2410c": "#f0793a", // marketing (--mkt)
  "#7c3aed": "#a78bfa", // risk (--risk)
  "#0e7490": "#22b3cf", // tech (--tech)
});
const DARK_SWAPS = new Map(Object.entries(DARK_COLOURS));
const WHITE_ALPHA = /^rgba\(255,255,255,([0-9.]+)\)$/;

function normal(colour) {
  const value = colour.trim().toLowerCase().replace(/\s+/g, "");
  if (value === "white" || value === "#fff") return "#ffffff";
  if (value === "rgb(255,255,255)") return "#ffffff";
  return value;
}

/** `colour` as it is drawn in `mode` (light: unchanged). */
export function modeColour(colour, mode) {
  if (mode !== "dark" || typeof colour !== "string") return colour;
  const key = normal(colour);
  const swapped = DARK_SWAPS.get(key);
  if (swapped) return swapped;
  const white = WHITE_ALPHA.exec(key);
  if (white) return `rgba(${DARK.surfaceRgb},${white[1]})`;
  return colour;
}

function recolourValue(value, mode) {
  if (typeof value === "string") return modeColour(value, mode);
  if (Array.isArray(value)) return value.map((item) => recolourValue(item, mode));
  return value;
}

// Walks a figure's data or layout and swaps colours under keys that hold one (color, bgcolor,
// fillcolor, gridcolor, linecolor, bordercolor, ...; colorscale and colorway hold lists).
function recolour(node, mode) {
  if (Array.isArray(node)) {
    for (const item of node) recolour(item, mode);
    return;
  }
  if (!node || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "template") continue;
    if (/colou?r$|^colorscale$|^colorway$/i.test(key)) {
      node[key] = key === "colorscale" && Array.isArray(value)
        ? value.map((stop) => (Array.isArray(stop) ? [stop[0], modeColour(stop[1], mode)] : stop))
        : recolourValue(value, mode);
    } else if (value && typeof value === "object") {
      recolour(value, mode);
    }
  }
}

function copy(value) {
  return value === undefined ? undefined : structuredClone(value);
}

/**
 * The figure as it is drawn in `mode` ("light" or "dark"): copies of `data` and `layout` with the
 * mode's template, the backgrounds left to the template, and (dark) the light neutrals swapped.
 * The arguments are not changed.
 */
export function themedFigure(data, layout, mode) {
  const themeMode = mode === "dark" ? "dark" : "light";
  const outData = copy(data || []);
  const outLayout = copy(layout || {});
  delete outLayout.paper_bgcolor;
  delete outLayout.plot_bgcolor;
  recolour(outData, themeMode);
  recolour(outLayout, themeMode);
  outLayout.template = copy(TEMPLATES[themeMode]);
  return { data: outData, layout: outLayout };
}

/** The mode the page shows now (<html data-mode>, set by theme.js). */
export function currentMode() {
  if (typeof document === "undefined") return "light";
  return document.documentElement.dataset.mode === "dark" ? "dark" : "light";
}

// ---- drawing ------------------------------------------------------------------------------------

const drawn = new Set();
const sources = new WeakMap();

function draw(method, target, data, layout, config) {
  const Plotly = globalThis.Plotly;
  if (!Plotly || !target) return Promise.resolve(target);
  sources.set(target, { data, layout, config });
  // Charts whose node left the page (a card's sparkline redrawn) are forgotten as they go.
  for (const old of drawn) if (!old.isConnected) drawn.delete(old);
  drawn.add(target);
  const figure = themedFigure(data, layout, currentMode());
  return Plotly[method](target, figure.data, figure.layout, config);
}

/** Plotly.newPlot in the current mode; the chart follows later changes of mode. */
export function newPlot(target, data, layout, config) {
  return draw("newPlot", target, data, layout, config);
}

/** Plotly.react in the current mode; the chart follows later changes of mode. */
export function react(target, data, layout, config) {
  return draw("react", target, data, layout, config);
}

/** Draw every chart drawn here again, in `mode`. */
export function restyleAll(mode = currentMode()) {
  const Plotly = globalThis.Plotly;
  if (!Plotly) return Promise.resolve([]);
  const pending = [];
  for (const target of drawn) {
    const source = sources.get(target);
    if (!target.isConnected || !source) {
      drawn.delete(target);
      continue;
    }
    const figure = themedFigure(source.data, source.layout, mode);
    pending.push(Plotly.react(target, figure.data, figure.layout, source.config));
  }
  return Promise.all(pending);
}

if (typeof window !== "undefined" && typeof document !== "undefined") {
  document.addEventListener("themechange", () => restyleAll());
  // Paper is white: print the charts light, then back to the mode shown.
  window.addEventListener("beforeprint", () => {
    if (currentMode() !== "light") restyleAll("light");
  });
  window.addEventListener("afterprint", () => {
    if (currentMode() !== "light") restyleAll();
  });
}
