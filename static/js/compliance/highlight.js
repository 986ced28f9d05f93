// Highlighting findings in a text, in place: pure functions, no DOM (unit-tested in node,
// tests/js/compliance.test.mjs).
//
// The server's offsets (`start`, `end`) count characters as Python does: Unicode code points.
// JavaScript strings count UTF-16 code units, which differ for characters outside the Basic
// Multilingual Plane (emoji, rare CJK ideographs): every function here works in code points.

const SEVERITY_RANK = { high: 3, medium: 2, low: 1 };

/** The text as an array of code points (what the server's offsets index). */
export function codePoints(text) {
  return Array.from(typeof text === "string" ? text : "");
}

/** A UTF-16 offset into `text` (what a DOM Range gives) as a code-point offset. */
export function toCodePointOffset(text, utf16Offset) {
  return codePoints(String(text).slice(0, Math.max(0, utf16Offset))).length;
}

/** A stable identity of a finding (or a missed span): category, start, end. */
export function spanKey(span) {
  return `${span.category}:${span.start}:${span.end}`;
}

/** The worse of the severities given ("high" > "medium" > "low"); null for none. */
export function strongestSeverity(severities) {
  let best = null;
  for (const severity of severities) {
    if (best === null || (SEVERITY_RANK[severity] || 0) > (SEVERITY_RANK[best] || 0)) {
      best = severity;
    }
  }
  return best;
}

/**
 * A span clamped to the text, or null when it has no characters left (end ≤ start, not numbers).
 * @param {{start: number, end: number}} span
 * @param {number} length the text's length in code points
 */
export function clampSpan(span, length) {
  if (!span || !Number.isFinite(span.start) || !Number.isFinite(span.end)) return null;
  const start = Math.max(0, Math.min(length, Math.trunc(span.start)));
  const end = Math.max(0, Math.min(length, Math.trunc(span.end)));
  return end > start ? { start, end } : null;
}

/**
 * Findings in reading order, numbered from 1: by start, the longer first on a tie. Each keeps
 * its place in the list given (`index`) and gets its `key` and `n`.
 */
export function orderFindings(findings) {
  return (findings || [])
    .map((finding, index) => ({ ...finding, index, key: spanKey(finding) }))
    .sort((a, b) => a.start - b.start || b.end - a.end || a.index - b.index)
    .map((finding, position) => ({ ...finding, n: position + 1 }));
}

/**
 * Cut `text` into consecutive segments at every start and end of `spans`: each segment knows
 * which spans cover it (`covers`, indices into `spans`) and which start at it (`starts`).
 * Overlapping and nested spans are cut where they meet; spans outside the text are clamped, and
 * empty or malformed ones ignored. The segments' texts joined give the text back.
 *
 * @param {string} text
 * @param {Array<{start: number, end: number}>} spans offsets in code points
 * @returns {Array<{start: number, end: number, text: string, covers: number[], starts: number[]}>}
 */
export function segments(text, spans) {
  const chars = codePoints(text);
  const length = chars.length;
  if (length === 0) return [];
  const clamped = (spans || []).map((span) => clampSpan(span, length));
  const cuts = new Set([0, length]);
  for (const span of clamped) {
    if (span) {
      cuts.add(span.start);
      cuts.add(span.end);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i < points.length - 1; i += 1) {
    const start = points[i];
    const end = points[i + 1];
    const covers = [];
    const starts = [];
    clamped.forEach((span, index) => {
      if (!span) return;
      if (span.start <= start && span.end >= end) covers.push(index);
      if (span.start === start) starts.push(index);
    });
    const previous = out[out.length - 1];
    if (previous && starts.length === 0 && sameList(previous.covers, covers)) {
      previous.end = end;
      previous.text += chars.slice(start, end).join("");
      continue;
    }
    out.push({ start, end, text: chars.slice(start, end).join(""), covers, starts });
  }
  return out;
}

function sameList(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * What a segment looks like: the worst severity of the findings covering it, whether two or
 * more overlap there, whether a missed span (a reviewer's) covers it, and the numbers of the
 * findings that start at it. `spans` are the ordered findings followed by missed spans (with
 * `missed: true`).
 */
export function segmentLook(segment, spans) {
  const covering = segment.covers.map((i) => spans[i]).filter(Boolean);
  const findings = covering.filter((span) => !span.missed);
  return {
    marked: covering.length > 0,
    severity: strongestSeverity(findings.map((f) => f.severity)),
    overlap: findings.length > 1,
    missed: covering.some((span) => span.missed),
    keys: covering.map((span) => span.key || spanKey(span)),
    numbers: segment.starts
      .map((i) => spans[i])
      .filter((span) => span && !span.missed && span.n)
      .map((span) => span.n),
  };
}

/**
 * The code-point offsets of a selection inside a highlighted text, from its two boundaries,
 * each given as {segmentStart, utf16Offset, segmentText} (the segment element's data-start, the
 * DOM offset into its text, its text). Answers null for an empty selection; orders the ends.
 */
export function selectionSpan(anchor, focus) {
  if (!anchor || !focus) return null;
  const a = anchor.segmentStart + toCodePointOffset(anchor.segmentText, anchor.utf16Offset);
  const b = focus.segmentStart + toCodePointOffset(focus.segmentText, focus.utf16Offset);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return null;
  return { start: Math.min(a, b), end: Math.max(a, b) };
}

/** The excerpt of `text` between code-point offsets. */
export function excerpt(text, start, end) {
  return codePoints(text).slice(start, end).join("");
}
