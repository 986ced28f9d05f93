"""The valuation cycle time's median over each window, without joining every valuation to the
(up to 30) frame days whose window holds it.

The median needs the values themselves, not counts. In SQL that meant one row per valuation and
window day (30 copies of each valuation, then a sort per region and day): the recompute's largest
cost on a big book. Here the completed valuations are read once, sorted by business day, and
for each frame day the window's values are one contiguous slice (two binary searches): the
median of a slice is found by partial selection (O(window)), so the work is the book's size ×
the window's days in C, with no rows multiplied in the database. The result, (region, day,
median, n), goes into a temporary table that `business.valuation_sql` reads.

The median is PostgreSQL's `percentile_cont(0.5)` to the bit: for an even count the lower
middle value plus half the difference to the upper (`lo + (hi - lo) * 0.5`), so a recompute of
unchanged data rewrites nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from metrics.formulas import ALL, WINDOW_DAYS, Frame, business_day, on_days

CYCLE_TABLE = "metrics_cycle_median"
EPOCH = date(1970, 1, 1).toordinal()


def percentile_cont_median(values: np.ndarray) -> float:
    """The median as PostgreSQL's percentile_cont(0.5) computes it (float8 interpolation)."""
    n = values.size
    if n % 2:
        return float(np.partition(values, n // 2)[n // 2])
    part = np.partition(values, [n // 2 - 1, n // 2])
    lo, hi = float(part[n // 2 - 1]), float(part[n // 2])
    return lo + (hi - lo) * 0.5


def window_medians(
    days_of_values: np.ndarray, values: np.ndarray, frame_days: np.ndarray, window: int | None
) -> list[tuple[int, float | None, int]]:
    """(frame day, median, count) of the values whose day is in each frame day's window
    [d − window + 1, d] (`window` None: every value). `days_of_values` sorted ascending."""
    out: list[tuple[int, float | None, int]] = []
    if window is None:
        lows = np.zeros(frame_days.size, dtype=np.int64)
        highs = np.full(frame_days.size, values.size, dtype=np.int64)
    else:
        lows = np.searchsorted(days_of_values, frame_days - (window - 1), side="left")
        highs = np.searchsorted(days_of_values, frame_days, side="right")
    for day, lo, hi in zip(frame_days.tolist(), lows.tolist(), highs.tolist(), strict=True):
        n = hi - lo
        out.append((day, percentile_cont_median(values[lo:hi]) if n else None, n))
    return out


def prepare_cycle_medians(cursor: Any, frame: Frame, regions: Sequence[str]) -> int:
    """Fill the temporary table CYCLE_TABLE (dropped at commit) with the median cycle time of
    every region (and `all`) on every frame day that has valuations in its window. Rows."""
    params = frame.params(regions)
    cursor.execute(
        f"""
        SELECT region, {business_day("completed_at")} - DATE '1970-01-01' AS x,
               (extract(epoch FROM completed_at - requested_at) / 86400)::float8 AS cycle_days
        FROM loanbook_valuation WHERE {on_days("completed_at", "flow_start")}
        ORDER BY x
        """,
        params,
    )
    rows = cursor.fetchall()
    first, last = frame.first_day.toordinal() - EPOCH, frame.end.toordinal() - EPOCH
    frame_days = np.arange(first, last + 1, dtype=np.int64)
    window = None if frame.period else WINDOW_DAYS
    medians: list[tuple[str, int, float | None, int]] = []
    if rows:
        region = np.array([r[0] for r in rows], dtype=object)
        day = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        cycle = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
        wanted = set(regions)
        groups: list[tuple[str, np.ndarray]] = [(ALL, np.arange(len(rows)))]
        groups += [
            (str(code), np.flatnonzero(region == code))
            for code in sorted(set(region.tolist()))
            if code in wanted
        ]
        for code, index in groups:
            # a stable selection keeps the rows' day order
            for frame_day, median, n in window_medians(
                day[index], cycle[index], frame_days, window
            ):
                if n:
                    medians.append((code, frame_day, median, n))
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {CYCLE_TABLE} "
        "(region text, day date, median float8, n bigint) ON COMMIT DROP"
    )
    cursor.execute(f"TRUNCATE {CYCLE_TABLE}")
    with cursor.copy(f"COPY {CYCLE_TABLE} (region, day, median, n) FROM STDIN") as copy:
        for code, frame_day, median, n in medians:
            copy.write_row((code, date.fromordinal(frame_day + EPOCH), median, n))
    return len(medians)
