// The period picker of the dashboard and the metric page (templates/partials/period_fields.html):
// a preset (today, last 7/30/… days, this month, last month, this quarter) or custom days, and
// the comparison (the previous period or the same period last year). The choice lives in the
// URL (?period=&start=&end=&compare=) so links and saved views keep it; the server computes the
// figures (GET /api/metrics/summary/, the same formulas over the period).
//
// The pure part (periodSearch, summaryQuery, periodReady) has no DOM and is unit-tested in node
// (tests/js/period.test.mjs); wirePeriodPicker connects it to the form.

const PERIOD_KEYS = ["period", "start", "end", "compare"];

/**
 * The page's query string with the period replaced by `choice` ({period, start, end, compare}),
 * every other parameter (region, date, kanban filters…) kept in order. An empty period removes
 * the period parameters; start and end are kept for `custom` only; the default comparison
 * (previous_period) is left out.
 */
export function periodSearch(search, choice) {
  const params = new URLSearchParams(search);
  for (const key of PERIOD_KEYS) params.delete(key);
  params.delete("range"); // the metric page's old fixed spans: a period replaces them
  if (choice.period) {
    params.set("period", choice.period);
    if (choice.period === "custom") {
      if (choice.start) params.set("start", choice.start);
      if (choice.end) params.set("end", choice.end);
    }
    if (choice.compare && choice.compare !== "previous_period") params.set("compare", choice.compare);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Whether a choice can be shown: a preset, or custom days with the first not after the last. */
export function periodReady(choice) {
  if (!choice.period) return true;
  if (choice.period !== "custom") return true;
  return Boolean(choice.start && choice.end && choice.start <= choice.end);
}

/** The query of GET /api/metrics/summary/ for a resolved period ({start, end, compare}). */
export function summaryQuery(period, region, extra = {}) {
  const params = new URLSearchParams({ start: period.start, end: period.end });
  if (period.compare && period.compare !== "previous_period") params.set("compare", period.compare);
  if (region && region !== "all") params.set("region", region);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

/** Connect the picker's fields to navigation: a preset or comparison applies at once, custom
 * days when both are set and in order. */
export function wirePeriodPicker(scope = document, navigate = (search) => window.location.assign(`${window.location.pathname}${search}`)) {
  const preset = scope.getElementById("pick-period");
  const start = scope.getElementById("pick-start");
  const end = scope.getElementById("pick-end");
  const compare = scope.getElementById("pick-compare");
  if (!preset) return;
  const customFields = Array.from(scope.querySelectorAll(".period-custom"));
  const compareField = scope.getElementById("period-compare-field");

  const choice = () => ({
    period: preset.value,
    start: start ? start.value : "",
    end: end ? end.value : "",
    compare: compare ? compare.value : "",
  });
  const layout = () => {
    const custom = preset.value === "custom";
    for (const field of customFields) field.hidden = !custom;
    if (start) start.disabled = !custom;
    if (end) end.disabled = !custom;
    if (compareField) compareField.hidden = !preset.value;
    if (compare) compare.disabled = !preset.value;
  };
  const apply = () => {
    const chosen = choice();
    if (!periodReady(chosen)) return;
    navigate(periodSearch(window.location.search, chosen));
  };
  preset.addEventListener("change", () => {
    layout();
    if (preset.value === "custom") {
      if (start && !start.value) start.focus();
      if (periodReady(choice())) apply();
      return;
    }
    apply();
  });
  for (const input of [start, end]) {
    if (input) input.addEventListener("change", apply);
  }
  if (compare) compare.addEventListener("change", apply);
  layout();
}
