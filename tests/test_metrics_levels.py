"""Threshold modes (contract section 3): the technical metrics are judged against service levels
by default (absolute mode), the business ones against last month's baseline (relative mode);
a manager switches either way, and every status follows at once. Values built from samples in
the test; each expected status worked out by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from carloan.parameters.selectors import parameters_state
from carloan.parameters.services import parameters_change
from metrics.models import Alert
from metrics.services import metrics_refresh
from tests.test_metrics_support import day, row, sample

pytestmark = pytest.mark.django_db

AVAILABILITY = "availability"
API, P95 = "api_response_time", "api_response_time_p95"


@pytest.fixture
def set_parameters(
    manager: User, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> Callable[..., None]:
    """Change live parameters together as a manager, with the re-evaluation they queue."""

    def change(**values: Any) -> None:
        keys = [key.replace("__", ".") for key in values]
        versions = {s["key"]: s["version"] for s in parameters_state(keys)}
        with django_capture_on_commit_callbacks(execute=True):
            parameters_change(
                changes={
                    key: (value, versions[key])
                    for key, value in zip(keys, values.values(), strict=True)
                },
                user=manager,
            )

    return change


def availability_day(on: str, up: int, down: int) -> None:
    for n in range(up):
        sample(AVAILABILITY, f"{on}T{n % 24:02d}:00", 1, region="EAST")
    for n in range(down):
        sample(AVAILABILITY, f"{on}T{n % 24:02d}:30", 0, region="EAST")


def test_availability_is_judged_against_its_service_level_not_last_month() -> None:
    """A steady 99.8 % month then 99.8 % again: relative to its baseline nothing moved (ok), but
    it is below the 99.9 % warn level; 99.4 % is below the 99.5 % critical level; 99.95 % is
    fine. Under the relative rule availability would have had to fall by 5 % (to ~94.8 %)."""
    availability_day("2026-02-10", up=998, down=2)  # 99.8 %: February's baseline
    availability_day("2026-03-01", up=998, down=2)  # 99.8 %
    availability_day("2026-03-02", up=994, down=6)  # 99.4 %
    availability_day("2026-03-03", up=1999, down=1)  # 99.95 %
    availability_day("2026-03-04", up=999, down=1)  # 99.9 % exactly: warn (at or below)
    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-04"))

    march_1 = row(AVAILABILITY, "EAST", "2026-03-01")
    assert march_1.value == pytest.approx(99.8)
    assert march_1.delta_pct == pytest.approx(0)  # reported in both modes
    assert march_1.status == "warn"
    assert row(AVAILABILITY, "EAST", "2026-03-02").status == "critical"
    assert row(AVAILABILITY, "EAST", "2026-03-03").status == "ok"
    assert row(AVAILABILITY, "EAST", "2026-03-04").status == "warn"
    # March 3 was back to ok: only the episode that began after it raises (March 4, warn)
    raised = Alert.objects.filter(metric=AVAILABILITY, region="EAST")
    assert [(a.day.isoformat(), a.level) for a in raised] == [("2026-03-04", "warn")]


def test_a_lower_is_better_level_is_reached_at_or_above() -> None:
    sample(API, "2026-03-01T10:00", 299, region="EAST")
    sample(API, "2026-03-02T10:00", 300, region="EAST")
    sample(API, "2026-03-03T10:00", 799.9, region="EAST")
    sample(API, "2026-03-04T10:00", 800, region="EAST")
    metrics_refresh(start=day("2026-03-01"), end=day("2026-03-04"))
    statuses = [row(P95, "EAST", f"2026-03-0{n}").status for n in (1, 2, 3, 4)]
    assert statuses == ["ok", "warn", "warn", "critical"]
    # No baseline at all (nothing in February): the absolute mode still judges
    assert row(P95, "EAST", "2026-03-01").baseline is None


def test_switching_modes_re_evaluates_every_status_at_once(
    set_parameters: Callable[..., None],
) -> None:
    """February 100 ms, March 1 at 130 ms: +30 % (critical relative to the baseline) but well
    under the 300 ms warn level (ok in the absolute mode)."""
    sample(API, "2026-02-10T10:00", 100, region="EAST")
    sample(API, "2026-03-01T10:00", 130, region="EAST")
    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-01"))
    assert row(P95, "EAST", "2026-03-01").status == "ok"

    set_parameters(**{f"alert__{P95}__mode": "relative"})
    assert row(P95, "EAST", "2026-03-01").status == "critical"

    set_parameters(**{f"alert__{P95}__mode": "absolute"})
    assert row(P95, "EAST", "2026-03-01").status == "ok"

    # A stricter service level makes it critical without any relative change
    set_parameters(**{f"alert__{P95}__warn_at": 100, f"alert__{P95}__critical_at": 120})
    assert row(P95, "EAST", "2026-03-01").status == "critical"


def test_business_metrics_stay_relative_by_default_and_may_use_levels(
    set_parameters: Callable[..., None], client_for: Any, viewer: User
) -> None:
    client = client_for(viewer)
    definitions = {d["key"]: d for d in client.get("/api/metrics/").json()}
    assert definitions["overdue_rate"]["threshold_mode"] == "relative"
    assert definitions["availability"]["threshold_mode"] == "absolute"
    assert (definitions["availability"]["warn_at"], definitions["availability"]["critical_at"]) == (
        99.9,
        99.5,
    )
    assert definitions["incident_response_time"]["critical_at"] == 24
    set_parameters(alert__overdue_rate__mode="absolute")
    again = {d["key"]: d for d in client.get("/api/metrics/").json()}
    assert again["overdue_rate"]["threshold_mode"] == "absolute"


@pytest.mark.parametrize(
    ("key", "warn", "critical", "ok"),
    [
        ("api_response_time_p95", 300, 800, True),
        ("api_response_time_p95", 800, 300, False),  # lower is better: warn below critical
        ("api_response_time_p95", 500, 500, False),
        ("availability", 99.9, 99.5, True),
        ("availability", 99.5, 99.9, False),  # higher is better: warn above critical
    ],
)
def test_levels_must_put_warn_on_the_better_side(
    client_for: Any, manager: User, key: str, warn: float, critical: float, ok: bool
) -> None:
    client = client_for(manager)
    state = {s["key"]: s["version"] for s in client.get("/api/parameters/").json()}
    answer = client.patch(
        "/api/parameters/",
        {
            "changes": [
                {
                    "key": f"alert.{key}.warn_at",
                    "value": warn,
                    "version": state[f"alert.{key}.warn_at"],
                },
                {
                    "key": f"alert.{key}.critical_at",
                    "value": critical,
                    "version": state[f"alert.{key}.critical_at"],
                },
            ],
            "reason": "service levels",
        },
        format="json",
    )
    assert (answer.status_code == 200) is ok, answer.content
    if not ok:
        assert answer.status_code == 400
        assert "warn level" in str(answer.json())


def test_a_mode_is_relative_or_absolute(client_for: Any, manager: User) -> None:
    client = client_for(manager)
    key = "alert.availability.mode"
    version = next(s["version"] for s in client.get("/api/parameters/").json() if s["key"] == key)
    answer = client.patch(
        f"/api/parameters/{key}/", {"value": "sometimes", "version": version}, format="json"
    )
    assert answer.status_code == 400


def test_the_metric_page_draws_the_service_levels_flat(viewer: User) -> None:
    from tests.test_pages import signed_in

    sample(API, "2026-03-01T10:00", 250, region="EAST")
    sample(API, "2026-03-02T10:00", 350, region="EAST")
    metrics_refresh(start=day("2026-03-01"), end=day("2026-03-02"))
    html = signed_in(viewer).get(f"/metrics/{P95}/?region=EAST&date=2026-03-02").content.decode()
    assert "service level" in html
    import json

    data = json.loads(
        html.split('id="metric-data" type="application/json">')[1].split("</script>")[0]
    )
    traces = {t.get("name"): t for t in data["figures"]["history"]["data"]}
    warn = next(t for name, t in traces.items() if name and "arn" in name)
    critical = next(t for name, t in traces.items() if name and "ritical" in name)
    assert set(warn["y"]) == {300} and set(critical["y"]) == {800}


def test_the_error_budget_of_the_month_and_its_burn_rates(viewer: User) -> None:
    """Objective 99.9 %: the month may lose 0.1 % of its checks. 10,000 checks this month with 5
    failed: 0.05 % lost, half the budget (50 % left). The last hour: 100 checks, 2 failed (2 %):
    burn rate 20× (act now); the last six hours: 400 checks, 4 failed (1 %): 10×."""
    from datetime import timedelta

    from django.utils import timezone

    from carloan.models import Sample
    from metrics.budget import error_budget

    now = timezone.now().replace(microsecond=0)
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0)
    if now - month_start < timedelta(hours=8):
        now = month_start + timedelta(hours=8)  # room for six hours and older checks
    rows = []

    def checks(count: int, failed: int, at: Any) -> None:
        rows.extend(
            Sample(
                metric=AVAILABILITY,
                ts=at,
                value=0 if n < failed else 1,
                region="EAST",
                source=f"probe-{len(rows) + n}",
            )
            for n in range(count)
        )

    checks(100, 2, now - timedelta(minutes=30))  # the last hour
    checks(300, 2, now - timedelta(hours=3))  # the rest of the last six hours
    checks(9600, 1, month_start + timedelta(minutes=5))  # earlier this month
    checks(50, 50, month_start - timedelta(days=2))  # last month: not counted
    Sample.objects.bulk_create(rows)

    budget = error_budget("EAST", now=now)
    assert budget["objective_pct"] == 99.9
    assert budget["checks"] == 10_000
    assert budget["consumed_pct"] == pytest.approx(50.0)
    assert budget["left_pct"] == pytest.approx(50.0)
    assert budget["burn_1h"] == pytest.approx(20.0)
    assert budget["burn_6h"] == pytest.approx(10.0)
    assert budget["page"] is True and budget["ticket"] is True
    assert error_budget("WEST", now=now)["left_pct"] is None  # no checks, no figure

    from tests.test_pages import signed_in

    page = signed_in(viewer).get("/metrics/availability/?region=EAST").content.decode()
    assert 'id="error-budget"' in page
    assert 'id="error-budget"' not in signed_in(viewer).get(f"/metrics/{P95}/").content.decode()
