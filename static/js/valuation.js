// The valuation page: quote one vehicle through POST /api/valuations/quote/?chart=1 and draw the
// answer (value, 80 % range, LTV and appraisal flags, the waterfall of the twelve factors built
// by the server); draw the held-out scatter; keep the collateral filters in the URL.
//
// Answers (contract section 6): 200/201 quote; 400 {field: [messages]}; 401/403; 503 no model.

import { apiFetch, el, readJson, translator } from "./common.js";
import { newPlot, react } from "./plot_theme.js";

const t = translator(readJson("valuation-i18n", {}));
const form = document.getElementById("quote-form");
const busy = document.getElementById("quote-busy");
const errorBox = document.getElementById("quote-error");
const result = document.getElementById("quote-result");
const empty = document.getElementById("quote-empty");
const lang = document.documentElement.lang || "en";
const money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
const pct = new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const signedPct = new Intl.NumberFormat(lang, {
  maximumFractionDigits: 1,
  minimumFractionDigits: 1,
  signDisplay: "exceptZero",
});
const signedMoney = new Intl.NumberFormat(lang, { maximumFractionDigits: 0, signDisplay: "exceptZero" });
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const NUMBER_FIELDS = new Set([
  "year", "new_price", "mileage_km", "accidents", "repairs", "violations", "owners",
  "loan_amount", "appraised_value",
]);

// ---- Errors on fields --------------------------------------------------------------------------

function clearErrors() {
  errorBox.hidden = true;
  errorBox.textContent = "";
  for (const field of form.querySelectorAll(".field--error")) field.classList.remove("field--error");
  for (const note of form.querySelectorAll(".field__error")) note.remove();
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function showFieldErrors(errors) {
  let matched = false;
  for (const [name, messages] of Object.entries(errors || {})) {
    const input = form.elements.namedItem(name);
    const list = Array.isArray(messages) ? messages : [String(messages)];
    if (input && input.closest) {
      const field = input.closest(".field");
      field.classList.add("field--error");
      field.append(el("p", { cls: "field__error", txt: list.join(" ") }));
      matched = true;
    }
  }
  showError(matched ? t("badInput") : Object.values(errors || {}).flat().join(" ") || t("badInput"));
  const first = form.querySelector(".field--error input, .field--error select");
  if (first) first.focus();
}

// ---- The quote ---------------------------------------------------------------------------------

function payload() {
  const body = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (input.name === "csrfmiddlewaretoken") continue;
    const raw = input.value.trim();
    if (raw === "") continue;
    body[input.name] = NUMBER_FIELDS.has(input.name) && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  return body;
}

function renderFlags(quote) {
  const list = document.getElementById("quote-flags");
  list.replaceChildren();
  const ltvBox = document.getElementById("quote-ltv-box");
  ltvBox.hidden = quote.ltv_pct === undefined;
  if (quote.ltv_pct !== undefined) {
    document.getElementById("quote-ltv").textContent = `${pct.format(quote.ltv_pct)} %`;
  }
  if (!quote.flags) return;
  const limits = quote.limits || {};
  if (quote.flags.ltv_above_limit !== null) {
    const above = quote.flags.ltv_above_limit;
    list.append(
      el("li", {
        cls: `badge ${above ? "badge--error" : "badge--ok"}`,
        txt: t(above ? "ltvAbove" : "ltvOk", { limit: pct.format(limits.max_ltv_pct) }),
      }),
    );
  }
  if (quote.flags.inflated_appraisal !== null) {
    const inflated = quote.flags.inflated_appraisal;
    list.append(
      el("li", {
        cls: `badge ${inflated ? "badge--error" : "badge--ok"}`,
        txt: inflated
          ? t("inflated", { excess: pct.format(quote.appraisal_excess_pct) })
          : t("appraisalOk", { tolerance: pct.format(limits.appraisal_tolerance_pct) }),
      }),
    );
  }
}

function renderFactors(quote) {
  const table = document.getElementById("quote-factors");
  const head = el("tr", {}, [
    el("th", { txt: t("factor") }),
    el("th", { cls: "num", txt: t("effectCny") }),
    el("th", { cls: "num", txt: t("effectPct") }),
  ]);
  for (const cell of head.children) cell.scope = "col";
  table.tHead.replaceChildren(head);
  const rows = [
    el("tr", {}, [
      el("td", { txt: t("newPrice") }),
      el("td", { cls: "num", txt: money.format(quote.baseline) }),
      el("td", { cls: "num", txt: "" }),
    ]),
  ];
  for (const factor of quote.factors) {
    rows.push(
      el("tr", { cls: factor.effect_cny < 0 ? "val-down" : "val-up" }, [
        el("td", { txt: factor.label }),
        el("td", { cls: "num", txt: signedMoney.format(factor.effect_cny) }),
        el("td", { cls: "num", txt: `${signedPct.format(factor.effect_pct)} %` }),
      ]),
    );
  }
  rows.push(
    el("tr", { cls: "val-total" }, [
      el("td", { txt: t("value") }),
      el("td", { cls: "num", txt: money.format(quote.value) }),
      el("td", { cls: "num", txt: "" }),
    ]),
  );
  table.tBodies[0].replaceChildren(...rows);
}

// The factors of this vehicle the sales were too thin to estimate, and what stood in for them.
function renderFallbacks(quote) {
  const box = document.getElementById("quote-fallbacks");
  const items = quote.fallbacks || [];
  box.hidden = items.length === 0;
  box.replaceChildren(
    el("p", { txt: t("fallbacks") }),
    el(
      "ul",
      {},
      items.map((item) => el("li", { txt: `${item.label}: ${item.note}` })),
    ),
  );
}

function render(quote) {
  empty.hidden = true;
  result.hidden = false;
  document.getElementById("quote-value").textContent = `${money.format(quote.value)} CNY`;
  document.getElementById("quote-range").textContent =
    `${money.format(quote.low)} – ${money.format(quote.high)}`;
  const meta = [t("modelVersion", { version: quote.model_version }), quote.valuation_date];
  if (quote.valuation_id) {
    meta.push(t("recorded", { id: quote.valuation_id, application: quote.application_id }));
  }
  document.getElementById("quote-meta").textContent = meta.join(" · ");
  renderFlags(quote);
  renderFallbacks(quote);
  renderFactors(quote);
  const chart = document.getElementById("quote-waterfall");
  if (window.Plotly && quote.chart) {
    react(chart, quote.chart.data, quote.chart.layout, PLOT_CONFIG).then(() => {
      result.dataset.ready = "1";
    });
  } else {
    result.dataset.ready = "1";
  }
}

async function submitQuote(event) {
  event.preventDefault();
  clearErrors();
  delete result.dataset.ready;
  busy.hidden = false;
  const button = document.getElementById("quote-submit");
  button.disabled = true;
  const { status, data: body } = await apiFetch(`${form.action}?chart=1`, {
    method: "POST",
    body: payload(),
    csrfScope: form,
  });
  busy.hidden = true;
  button.disabled = false;
  if (status === 0) {
    showError(t("network"));
  } else if ((status === 200 || status === 201) && body) {
    render(body);
  } else if (status === 400 && body) {
    showFieldErrors(body);
  } else if (status === 503 && body && body.code === "no_model") {
    showError(t("noModel"));
  } else if (status === 401) {
    showError(t("signedOut"));
  } else if (status === 403) {
    showError((body && body.detail) || t("forbidden"));
  } else {
    showError(t("unexpected", { status }));
  }
}

// ---- The held-out scatter and the filters ------------------------------------------------------

function drawScatter() {
  const figure = readJson("holdout-figure", null);
  const target = document.getElementById("holdout-scatter");
  if (!figure || !target || !window.Plotly) return;
  newPlot(target, figure.data, figure.layout, PLOT_CONFIG);
}

function wireFilters() {
  const filters = document.getElementById("collateral-filters");
  if (!filters) return;
  const region = filters.elements.namedItem("region");
  region.addEventListener("change", () => {
    filters.elements.namedItem("branch").value = "";
    filters.requestSubmit();
  });
  filters.elements.namedItem("branch").addEventListener("change", () => filters.requestSubmit());
}

if (form) form.addEventListener("submit", submitQuote);
drawScatter();
wireFilters();
