// Shared by the KPI page, the review mode and the print rendering: JSON blocks, translated text,
// element building, CSRF, and drawing the server's Plotly figures with the local plotly.js.

export function readJson(id, fallback) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return fallback;
  }
}

/** A translator over the page's text block: t("key", {n: 3}) fills {n}. */
export function translator(text) {
  return (key, values = {}) =>
    (text[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
}

export function el(tag, { cls, txt, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (txt !== undefined && txt !== null) node.textContent = String(txt);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input && input.value) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** fetch with JSON in and out; resolves to {status, body} (body null when not JSON). */
export async function api(url, { method = "GET", body } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  const response = await fetch(url, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, body: data };
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
      Plotly.newPlot(node, figure.data, layout, {
        displaylogo: false,
        responsive: !staticPlot,
        staticPlot,
        modeBarButtonsToRemove: ["lasso2d", "select2d"],
      }),
    );
  }
  return Promise.all(promises);
}
