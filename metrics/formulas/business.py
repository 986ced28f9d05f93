"""The eight business metrics as three SQL statements (families), over a `Frame`.

funnel     lead_conversion_rate, approval_rate, customer_acquisition_cost
           Flow rows (leads, funded loans, decided applications, spend) are first counted per
           region and business day, then each day's counts are added into every frame day whose
           window holds it (at most 30), with GROUPING SETS for `all`: never a row-by-day join.
portfolio  overdue_rate, npl_ratio, compliance_complaint_rate
           Stock on day d is each loan's latest snapshot with as_of <= d. A snapshot holds from its
           as_of until its successor's as_of (`superseded_on`, kept by the database), so it adds
           its amounts on the first day it holds (as_of, or the first frame day if earlier) and
           takes them away on its successor's day; a running sum over the days then gives the
           state of every day at once. Only the snapshots still holding on the first frame day
           are read (an index on superseded_on): a one-day frame reads the current book, not
           every loan's history. Only active
           snapshots carry amounts: closed and charged-off ones only end their predecessor.
           Snapshots of a loan missing from loanbook_loan have no region and are left out.
valuation  valuation_accuracy, valuation_cycle_time
           Accuracy from daily counts, as the funnel; the median needs the values themselves:
           `metrics.formulas.medians` computes it per window from the day-sorted values (no
           valuation joined to 30 days) into a temporary table this statement reads.

Sums of money are numeric (exact, so a recompute of unchanged data gives the same bits and
nothing is rewritten); every result is cast to double precision at the end.
"""

from __future__ import annotations

from metrics.formulas import Frame, all_or, business_day, grid_sql, on_days
from metrics.formulas.medians import CYCLE_TABLE


def funnel_sql(frame: Frame) -> str:
    """lead_conversion_rate, approval_rate and customer_acquisition_cost, every region and day."""
    return f"""
    WITH days AS ({frame.days_sql()}),
    grid AS ({grid_sql()}),
    daily AS (
        SELECT region, x, sum(leads) AS leads, sum(funded) AS funded, sum(approved) AS approved,
               sum(rejected) AS rejected, sum(spend) AS spend
        FROM (
            SELECT region, {business_day("created_at")} AS x, count(*) AS leads, 0 AS funded,
                   0 AS approved, 0 AS rejected, 0::numeric AS spend
            FROM loanbook_lead WHERE {on_days("created_at", "flow_start")}
            GROUP BY 1, 2
            UNION ALL
            SELECT region, {business_day("funded_at")}, 0, count(*), 0, 0, 0
            FROM loanbook_loan WHERE {on_days("funded_at", "flow_start")}
            GROUP BY 1, 2
            UNION ALL
            SELECT region, {business_day("decided_at")}, 0, 0,
                   count(*) FILTER (WHERE decision = 'approved'),
                   count(*) FILTER (WHERE decision = 'rejected'), 0
            FROM loanbook_application
            WHERE {on_days("decided_at", "flow_start")} AND decision IN ('approved', 'rejected')
            GROUP BY 1, 2
            UNION ALL
            SELECT region, date, 0, 0, 0, 0, sum(amount)
            FROM loanbook_marketing_spend WHERE date BETWEEN %(flow_start)s AND %(end)s
            GROUP BY 1, 2
        ) AS counted
        GROUP BY region, x
    ),
    windowed AS (
        SELECT {all_or("d.region")} AS region, f.day, sum(d.leads) AS leads,
               sum(d.funded) AS funded, sum(d.approved) AS approved,
               sum(d.rejected) AS rejected, sum(d.spend) AS spend
        FROM daily AS d CROSS JOIN LATERAL {frame.flow_days("d.x")} AS f
        GROUP BY GROUPING SETS ((d.region, f.day), (f.day))
    ),
    filled AS (
        SELECT g.region, g.day, coalesce(w.leads, 0) AS leads, coalesce(w.funded, 0) AS funded,
               coalesce(w.approved, 0) AS approved, coalesce(w.rejected, 0) AS rejected,
               coalesce(w.spend, 0) AS spend
        FROM grid AS g LEFT JOIN windowed AS w ON w.region = g.region AND w.day = g.day
    )
    SELECT m.metric, f.region, f.day, m.value::float8, m.numerator::float8, m.denominator::float8
    FROM filled AS f CROSS JOIN LATERAL (VALUES
        ('lead_conversion_rate', 100 * f.funded / nullif(f.leads, 0), f.funded, f.leads),
        ('approval_rate', 100 * f.approved / nullif(f.approved + f.rejected, 0), f.approved,
         f.approved + f.rejected),
        ('customer_acquisition_cost', f.spend / nullif(f.funded, 0), f.spend, f.funded)
    ) AS m(metric, value, numerator, denominator)
    """


def portfolio_sql(frame: Frame) -> str:
    """overdue_rate, npl_ratio and compliance_complaint_rate for every region and day."""
    return f"""
    WITH days AS ({frame.days_sql()}),
    grid AS ({grid_sql()}),
    regions AS (SELECT unnest(%(regions)s::text[]) AS region),
    held AS (
        SELECT l.region, s.as_of, s.status, s.superseded_on AS until,
               s.outstanding_principal AS outstanding, s.dpd
        FROM loanbook_snapshot AS s JOIN loanbook_loan AS l ON l.loan_id = s.loan_id
        WHERE s.as_of <= %(end)s
          AND (s.superseded_on IS NULL OR s.superseded_on > %(first_day)s)
    ),
    active AS (
        SELECT region, as_of, until, outstanding AS active_out,
               CASE WHEN dpd >= 1 THEN outstanding ELSE 0 END AS overdue_out,
               CASE WHEN dpd > 90 THEN outstanding ELSE 0 END AS npl_out
        FROM held
        WHERE status = 'active' AND (until IS NULL OR until > %(first_day)s)
    ),
    moves AS (
        -- One pass over the active snapshots: each adds on the first day it holds and takes
        -- away on its successor's day (when that falls in the frame).
        SELECT a.region, m.x, sum(m.sign * a.active_out) AS active_out,
               sum(m.sign * a.overdue_out) AS overdue_out, sum(m.sign * a.npl_out) AS npl_out,
               sum(m.sign) AS active_n
        FROM active AS a CROSS JOIN LATERAL (VALUES
            (greatest(a.as_of, %(first_day)s::date), 1),
            (CASE WHEN a.until <= %(end)s THEN a.until END, -1)
        ) AS m(x, sign)
        WHERE m.x IS NOT NULL
        GROUP BY a.region, m.x
    ),
    stock AS (
        SELECT r.region, d.day,
               sum(coalesce(m.active_out, 0)) OVER w AS active_out,
               sum(coalesce(m.overdue_out, 0)) OVER w AS overdue_out,
               sum(coalesce(m.npl_out, 0)) OVER w AS npl_out,
               sum(coalesce(m.active_n, 0)) OVER w AS active_n
        FROM regions AS r CROSS JOIN days AS d
        LEFT JOIN moves AS m ON m.region = r.region AND m.x = d.day
        WINDOW w AS (PARTITION BY r.region ORDER BY d.day)
    ),
    stock_all AS (
        SELECT region, day, active_out, overdue_out, npl_out, active_n FROM stock
        UNION ALL
        SELECT 'all', day, sum(active_out), sum(overdue_out), sum(npl_out), sum(active_n)
        FROM stock GROUP BY day
    ),
    complaints AS (
        SELECT {all_or("c.region")} AS region, f.day, sum(c.n) AS n
        FROM (
            SELECT region, {business_day("received_at")} AS x, count(*) AS n
            FROM loanbook_complaint WHERE {on_days("received_at", "flow_start")}
            GROUP BY 1, 2
        ) AS c CROSS JOIN LATERAL {frame.flow_days("c.x")} AS f
        GROUP BY GROUPING SETS ((c.region, f.day), (f.day))
    ),
    filled AS (
        SELECT g.region, g.day, coalesce(s.active_out, 0) AS active_out,
               coalesce(s.overdue_out, 0) AS overdue_out, coalesce(s.npl_out, 0) AS npl_out,
               coalesce(s.active_n, 0) AS active_n, coalesce(c.n, 0) AS complaints
        FROM grid AS g
        LEFT JOIN stock_all AS s ON s.region = g.region AND s.day = g.day
        LEFT JOIN complaints AS c ON c.region = g.region AND c.day = g.day
    )
    SELECT m.metric, f.region, f.day, m.value::float8, m.numerator::float8, m.denominator::float8
    FROM filled AS f CROSS JOIN LATERAL (VALUES
        ('overdue_rate', 100 * f.overdue_out / nullif(f.active_out, 0), f.overdue_out,
         f.active_out),
        ('npl_ratio', 100 * f.npl_out / nullif(f.active_out, 0), f.npl_out, f.active_out),
        ('compliance_complaint_rate', 10000 * f.complaints / nullif(f.active_n, 0),
         f.complaints, f.active_n)
    ) AS m(metric, value, numerator, denominator)
    """


def valuation_sql(frame: Frame) -> str:
    """valuation_accuracy and valuation_cycle_time for every region and day."""
    return f"""
    WITH days AS ({frame.days_sql()}),
    grid AS ({grid_sql()}),
    completed AS (
        SELECT region, {business_day("completed_at")} AS x,
               (extract(epoch FROM completed_at - requested_at) / 86400)::float8 AS cycle_days,
               (model_value IS NOT NULL AND reference_value IS NOT NULL) AS judged,
               coalesce(abs(model_value - reference_value) <= 0.1 * reference_value, false)
                   AS accurate
        FROM loanbook_valuation WHERE {on_days("completed_at", "flow_start")}
    ),
    accuracy AS (
        SELECT {all_or("c.region")} AS region, f.day, sum(c.judged) AS judged,
               sum(c.accurate) AS accurate
        FROM (
            SELECT region, x, count(*) FILTER (WHERE judged) AS judged,
                   count(*) FILTER (WHERE judged AND accurate) AS accurate
            FROM completed GROUP BY 1, 2
        ) AS c CROSS JOIN LATERAL {frame.flow_days("c.x")} AS f
        GROUP BY GROUPING SETS ((c.region, f.day), (f.day))
    ),
    cycle AS (SELECT region, day, median, n FROM {CYCLE_TABLE}),
    filled AS (
        SELECT g.region, g.day, coalesce(a.judged, 0) AS judged,
               coalesce(a.accurate, 0) AS accurate, y.median, coalesce(y.n, 0) AS n
        FROM grid AS g
        LEFT JOIN accuracy AS a ON a.region = g.region AND a.day = g.day
        LEFT JOIN cycle AS y ON y.region = g.region AND y.day = g.day
    )
    SELECT m.metric, f.region, f.day, m.value::float8, m.numerator::float8, m.denominator::float8
    FROM filled AS f CROSS JOIN LATERAL (VALUES
        ('valuation_accuracy', (100 * f.accurate::numeric / nullif(f.judged, 0))::float8,
         f.accurate::float8, f.judged::float8),
        ('valuation_cycle_time', f.median, NULL::float8, f.n::float8)
    ) AS m(metric, value, numerator, denominator)
    """
