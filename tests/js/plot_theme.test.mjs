// Unit tests of the charts' light and dark templates (static/js/plot_theme.js): what a figure
// built in Python in the light palette looks like once themed for each mode.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { currentMode, modeColour, TEMPLATES, themedFigure } from "../../static/js/plot_theme.js";

const INK = "#15202b";
const GRID = "#eef2f6";

// A figure as the Python builders write it (carloan/charts.py's base_layout and its template).
function pythonFigure() {
  return {
    data: [
      { type: "scatter", line: { color: INK, width: 2 }, marker: { color: "#1f6feb", line: { color: ["#ffffff", INK] } } },
      { type: "bar", marker: { color: ["#2f9e6a", "#c0362c"], line: { color: "rgba(0,0,0,0)" } } },
      { type: "heatmap", colorscale: [[0, GRID], [1, "#1f4e9c"]] },
    ],
    layout: {
      font: { family: "system-ui", size: 12, color: INK },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      xaxis: { type: "date" },
      yaxis2: { gridcolor: GRID },
      legend: { orientation: "h" },
      annotations: [{ text: "note", font: { color: "#6b7a8c" }, bgcolor: "rgba(255, 255, 255, 0.85)" }],
      shapes: [{ type: "line", line: { color: "#6b7a8c", dash: "dash" } }],
      template: { layout: { font: { color: INK } } },
    },
  };
}

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

describe("templates", () => {
  test("each mode has paper, plot, font, axes, legend and hover label colours", () => {
    for (const mode of ["light", "dark"]) {
      const layout = TEMPLATES[mode].layout;
      assert.ok(layout.paper_bgcolor && layout.plot_bgcolor, mode);
      assert.ok(layout.font.color, mode);
      for (const axis of ["xaxis", "yaxis"]) {
        assert.ok(layout[axis].gridcolor && layout[axis].linecolor && layout[axis].zerolinecolor, mode);
      }
      assert.ok(layout.legend.bgcolor && layout.hoverlabel.bgcolor && layout.hoverlabel.font.color, mode);
    }
  });

  test("dark: light text on a dark paper, light: dark text", () => {
    const dark = TEMPLATES.dark.layout;
    assert.ok(luminance(dark.paper_bgcolor) < 0.05);
    assert.ok(luminance(dark.font.color) > 0.6);
    assert.ok(luminance(dark.hoverlabel.bgcolor) < 0.05);
    assert.ok(luminance(TEMPLATES.light.layout.font.color) < 0.05);
    assert.ok(luminance(dark.xaxis.gridcolor) < luminance(dark.xaxis.linecolor));
  });
});

describe("themedFigure", () => {
  test("light: the figure as built, with the light template and the backgrounds left to it", () => {
    const source = pythonFigure();
    const before = structuredClone(source);
    const { data, layout } = themedFigure(source.data, source.layout, "light");
    assert.deepEqual(source, before); // the arguments are not changed
    assert.deepEqual(data, before.data);
    assert.deepEqual(layout.template, TEMPLATES.light);
    assert.equal(layout.font.color, INK);
    assert.equal("paper_bgcolor" in layout, false);
    assert.equal("plot_bgcolor" in layout, false);
  });

  test("dark: the light neutrals a figure names become dark ones, meaningful colours stay", () => {
    const source = pythonFigure();
    const { data, layout } = themedFigure(source.data, source.layout, "dark");
    assert.deepEqual(layout.template, TEMPLATES.dark);
    assert.equal(layout.font.color, TEMPLATES.dark.layout.font.color);
    assert.equal(layout.yaxis2.gridcolor, TEMPLATES.dark.layout.yaxis.gridcolor);
    assert.equal(layout.annotations[0].font.color, TEMPLATES.dark.layout.annotationdefaults.font.color);
    assert.match(layout.annotations[0].bgcolor, /^rgba\(21,30,40,0\.85\)$/);
    assert.equal(layout.shapes[0].line.color, TEMPLATES.dark.layout.annotationdefaults.font.color);
    assert.equal(data[0].line.color, TEMPLATES.dark.layout.font.color);
    assert.deepEqual(data[0].marker.line.color, [TEMPLATES.dark.layout.paper_bgcolor, TEMPLATES.dark.layout.font.color]);
    assert.equal(data[0].marker.color, "#1f6feb");
    assert.deepEqual(data[1].marker.color, ["#2f9e6a", "#c0362c"]);
    assert.equal(data[1].marker.line.color, "rgba(0,0,0,0)");
    assert.deepEqual(data[2].colorscale, [[0, TEMPLATES.dark.layout.xaxis.gridcolor], [1, "#1f4e9c"]]);
    assert.equal("plot_bgcolor" in layout, false); // the white plot area is the template's now
  });

  test("going back to light restores the figure exactly", () => {
    const source = pythonFigure();
    const dark = themedFigure(source.data, source.layout, "dark");
    const light = themedFigure(source.data, source.layout, "light");
    assert.notDeepEqual(dark.data, light.data);
    assert.deepEqual(light.data, source.data);
  });

  test("a figure without data or layout", () => {
    const { data, layout } = themedFigure(undefined, undefined, "dark");
    assert.deepEqual(data, []);
    assert.deepEqual(layout.template, TEMPLATES.dark);
  });
});

describe("modeColour", () => {
  test("white in any spelling", () => {
    for (const white of ["#fff", "#FFFFFF", "white", "rgb(255, 255, 255)"]) {
      assert.equal(modeColour(white, "dark"), TEMPLATES.dark.layout.paper_bgcolor, white);
      assert.equal(modeColour(white, "light"), white);
    }
  });

  test("deep colours that would sink into the dark get lighter", () => {
    for (const deep of ["#b42318", "#137a4b", "#9a6100", "#c2410c", "#7C3AED", "#0e7490"]) {
      const light = modeColour(deep, "dark");
      assert.ok(luminance(light) > luminance(deep.toLowerCase()) * 2, deep);
    }
  });

  test("anything else is left alone", () => {
    assert.equal(modeColour("#1f6feb", "dark"), "#1f6feb");
    assert.equal(modeColour("#2f9e6a", "dark"), "#2f9e6a");
    assert.equal(modeColour(null, "dark"), null);
  });
});

test("without a document the mode is light", () => {
  assert.equal(currentMode(), "light");
});
