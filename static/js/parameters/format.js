// How the /parameters/ page writes numbers, values and times: as the server renders them (the
// reader's locale, the unit suffixes and choice labels of the page's config, times in the business
// zone). Pure: no DOM, so node imports it (tests/js/parameters_values.test.mjs).

import { formatDateTime } from "../common.js";

/** Newer than this, a change says "x minutes ago" (and ages with the clock); older, its date. */
const RECENT_MS = 60 * 60 * 1000;

/**
 * The formatters over the page's config ({locale, units, choices, timeZone}) and translator `t`.
 * `now` is the clock in milliseconds (a test passes its own).
 */
export function createFormat(config, t, now = () => Date.now()) {
  const locale = config.locale || "en-US";

  function unitSuffix(unit) {
    if (!unit) return "";
    return (config.units && config.units[unit]) || ` ${unit}`;
  }

  function formatNumber(value, maxPlaces, minPlaces = 0) {
    return new Intl.NumberFormat(locale, {
      minimumFractionDigits: minPlaces,
      maximumFractionDigits: Math.max(minPlaces, maxPlaces),
    }).format(value);
  }

  function formatValue(param, value = param.value) {
    if (param.type === "boolean") return value ? config.choices.true : config.choices.false;
    if (param.type === "choice") return (config.choices && config.choices[value]) || String(value);
    if (typeof value !== "number") return String(value);
    const places = param.decimal_places ?? 0;
    const number =
      param.type === "decimal" && places
        ? formatNumber(value, places, places)
        : formatNumber(value, param.type === "integer" ? 0 : places || 6);
    return number + unitSuffix(param.unit);
  }

  function formatPct(value, places = 2) {
    if (value === null || value === undefined) return "—";
    return formatNumber(value, places) + unitSuffix("%");
  }

  function formatSigned(value, formatter) {
    if (value === null || value === undefined) return "—";
    if (value === 0) return formatter(0);
    return (value > 0 ? "+" : "−") + formatter(Math.abs(value));
  }

  /** "YYYY-MM-DD HH:MM" in the business zone; what was given when it is not a date. */
  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return formatDateTime(date, config.timeZone || undefined) ?? iso;
  }

  /** "just now", "5 minutes ago", or the date and time when older than an hour. */
  function relativeTime(iso) {
    const date = new Date(iso);
    const age = now() - date.getTime();
    if (Number.isNaN(age)) return "";
    if (age < 60 * 1000) return t("justNow");
    if (age < RECENT_MS) {
      try {
        return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(
          -Math.round(age / 60000),
          "minute",
        );
      } catch {
        return formatTime(iso);
      }
    }
    return formatTime(iso);
  }

  /** Changed within the hour (a minute ahead still counts: the clocks may differ a little). */
  function isRecent(iso) {
    const age = now() - new Date(iso).getTime();
    return age >= -60000 && age < RECENT_MS;
  }

  return { unitSuffix, formatNumber, formatValue, formatPct, formatSigned, formatTime, relativeTime, isRecent };
}
