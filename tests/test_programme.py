"""The programme's targets (issue 19): the seed case's reported results set beside the
product's own figures from a baseline quarter; progress hand-computed on small data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from metrics.kpi.programme import programme
from metrics.kpi.quarters import Quarter
from tests.test_metrics_support import sample
from tests.test_pages import signed_in

pytestmark = pytest.mark.django_db


def test_targets_from_the_case_with_progress_from_the_baseline(viewer: User) -> None:
    # credit query p95: 15 s in the baseline quarter, 8.5 s now; the case's target is 2 s:
    # (8.5 - 15) / (2 - 15) = 50 % of the way. Incident response: 24 h then 2 h now: reached.
    sample("credit_query_latency", "2026-05-10T04:00", 15)
    sample("credit_query_latency", "2026-11-10T04:00", 8.5)
    sample("incident_response_time", "2026-05-11T04:00", 24)
    sample("incident_response_time", "2026-11-11T04:00", 2)
    rows = {r["metric"]: r for r in programme(Quarter.parse("2026Q2"), Quarter.parse("2026Q4"))}
    credit = rows["credit_query_latency_p95"]
    assert (credit["baseline"], credit["target"], credit["current"]) == (15, 2, 8.5)
    assert credit["progress"] == 50.0 and credit["reached"] is False
    incident = rows["incident_response_time"]
    assert incident["reached"] is True and incident["progress"] == pytest.approx(104.8, abs=0.1)
    # a change target needs a baseline; a level does not
    assert rows["approval_rate"]["target"] is None and rows["approval_rate"]["progress"] is None
    assert rows["npl_ratio"]["target"] == 3.5 and rows["overdue_rate"]["target"] == 1.2
    assert len(rows) == 9

    page = signed_in(viewer).get("/kpi/", {"quarter": "2026Q4", "baseline": "2026Q2"})
    html = page.content.decode()
    assert 'id="programme-table"' in html and "credit query 15 → 2 s" in html
    assert "50.0 %" in html


def test_the_default_targets_score_the_cases_reported_results_as_reached() -> None:
    """The case reports overdue 1.2 %, NPL 3.5 %, valuation accuracy 92 % and incident response
    3 h: with the default sets those KPIs score 100 (the old defaults scored NPL 3.5 % at 0 and
    missed the 3 h incident response), and the case's starting points score 0."""
    from metrics.kpi.models import KPIDefinition
    from metrics.kpi.scoring import kpi_score

    defaults = {
        (row["department"], row["metric"]): (row["target"], row["threshold"])
        for row in KPIDefinition.objects.values("department", "metric", "target", "threshold")
    }
    case = {
        ("risk", "overdue_rate"): 1.2,
        ("risk", "npl_ratio"): 3.5,
        ("risk", "valuation_accuracy"): 92.0,
        ("tech", "incident_response_time"): 3.0,
    }
    for key, result in case.items():
        target, threshold = defaults[key]
        assert kpi_score(result, target=target, threshold=threshold) == 100, key
    target, threshold = defaults[("tech", "incident_response_time")]
    assert kpi_score(24.0, target=target, threshold=threshold) == 0  # where the case started
