"""The six technical metrics as one SQL statement over the samples, for a `Frame`.

A sample counts for the business day its `ts` falls on (a period: for the whole period). Region r
counts the samples of r; `all` counts every sample, those without a region included. Percentiles
are `percentile_cont` (linear interpolation); each aggregate is computed only for the series that
needs it (FILTER), so a day's samples are sorted once at most. Means are taken in numeric, so a
recompute of unchanged samples gives the same bits.
"""

from __future__ import annotations

from metrics.formulas import Frame, all_or, business_day, grid_sql, on_days
from metrics.registry import METRICS, TECHNICAL_KEYS

# How each technical metric is made from its series: p95, median, or 100 × mean.
KIND: dict[str, str] = {
    "api_response_time_p95": "p95",
    "availability": "pct_mean",
    "credit_query_latency_p95": "p95",
    "data_sync_lag_p95": "p95",
    "data_consistency_rate": "pct_mean",
    "incident_response_time": "p50",
}


def _series(kind: str) -> str:
    names = [METRICS[k].sample_metric for k in TECHNICAL_KEYS if KIND[k] == kind]
    return ", ".join(f"'{name}'" for name in names)


def technical_sql(frame: Frame) -> str:
    """The six technical metrics for every region and day."""
    mapping = ", ".join(
        f"('{key}', '{METRICS[key].sample_metric}', '{KIND[key]}')" for key in TECHNICAL_KEYS
    )
    series = ", ".join(f"'{METRICS[key].sample_metric}'" for key in TECHNICAL_KEYS)
    return f"""
    WITH days AS ({frame.days_sql()}),
    grid AS ({grid_sql()}),
    samples AS (
        SELECT metric, region, {frame.point_day(business_day("ts"))} AS day, value
        FROM loanbook_sample
        WHERE metric IN ({series}) AND {on_days("ts", "start")}
    ),
    aggregated AS (
        SELECT metric, {all_or("region")} AS region, day,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY value)
                   FILTER (WHERE metric IN ({_series("p95")})) AS p95,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY value)
                   FILTER (WHERE metric IN ({_series("p50")})) AS p50,
               sum(value::numeric) FILTER (WHERE metric IN ({_series("pct_mean")})) AS total,
               count(*) AS n
        FROM samples
        GROUP BY GROUPING SETS ((metric, region, day), (metric, day))
    )
    SELECT k.metric, g.region, g.day,
           CASE k.kind
               WHEN 'p95' THEN a.p95
               WHEN 'p50' THEN a.p50
               ELSE (100 * a.total / nullif(a.n, 0))::float8
           END,
           CASE WHEN k.kind = 'pct_mean' THEN coalesce(a.total, 0)::float8 END,
           coalesce(a.n, 0)::float8
    FROM (VALUES {mapping}) AS k(metric, series, kind)
    CROSS JOIN grid AS g
    LEFT JOIN aggregated AS a ON a.metric = k.series AND a.region = g.region AND a.day = g.day
    """
