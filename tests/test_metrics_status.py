"""Baselines, deviations, statuses and alerts exactly per contract section 3, with default and
changed thresholds, the previous-month baseline, alerts raised once and resolved, alert episodes
(a later ok day ends them; a finished one raises nothing), and the noise guard
(`alert.min_denominator`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from carloan.models import Sample
from carloan.parameters.selectors import parameter_cache_invalidate, parameters_state
from carloan.parameters.services import parameters_change
from metrics.models import Alert
from metrics.services import alert_card_attach, metrics_refresh
from tests.test_metrics_support import application, day, row, sample

# These tests check the relative rule on technical samples too: every metric is judged relative
# here (the absolute service levels have their own tests, test_metrics_levels.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relative_modes")]

API = "api_response_time"
P95 = "api_response_time_p95"


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


@pytest.fixture
def set_parameter(
    manager: User, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> Callable[[str, Any], None]:
    """Change a live parameter as a manager would, running its after-commit work (the cache, and
    the `parameters_changed` listeners with the re-evaluation they queue) as a commit and the
    worker would."""

    def change(key: str, value: Any) -> None:
        version = parameters_state([key])[0]["version"]
        with django_capture_on_commit_callbacks(execute=True):
            parameters_change(changes={key: (value, version)}, user=manager)

    return change


@pytest.fixture
def latency_book() -> None:
    """EAST API latency: February's daily p95 are 90 and 110 (baseline 100 for March); March 10
    is +6 % (warn), March 11 +13 % (critical), and nothing later is computed yet, so the episode
    that began after February 2 (the last ok day; the days between have no data) is current."""
    sample(API, "2026-02-01T10:00", 90, region="EAST")
    sample(API, "2026-02-02T10:00", 110, region="EAST")
    sample(API, "2026-03-10T10:00", 106, region="EAST")  # +6 %: warn
    sample(API, "2026-03-11T10:00", 113, region="EAST")  # +13 %: critical
    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-11"))


def later_days(*points: tuple[str, float]) -> Any:
    """Add EAST samples on later March days and refresh exactly those days."""
    for when, value in points:
        sample(API, f"{when}T10:00", value, region="EAST")
    days = [day(when) for when, _ in points]
    return metrics_refresh(start=min(days), end=max(days))


def alerts_of(metric: str, region: str = "EAST") -> dict[tuple[str, str], str]:
    return {
        (a.day.isoformat(), a.level): a.status
        for a in Alert.objects.filter(metric=metric, region=region)
    }


def test_baseline_delta_and_status_with_default_thresholds(latency_book: None) -> None:
    later_days(("2026-03-12", 100), ("2026-03-14", 80))

    warn = row(P95, "EAST", "2026-03-10")
    assert warn.baseline == pytest.approx(100.0)
    assert warn.delta_pct == pytest.approx(6.0)
    assert warn.status == "warn"
    assert row(P95, "EAST", "2026-03-11").status == "critical"
    assert row(P95, "EAST", "2026-03-12").status == "ok"
    better = row(P95, "EAST", "2026-03-14")
    assert (better.delta_pct, better.status) == (pytest.approx(-20.0), "ok")
    missing = row(P95, "EAST", "2026-03-13")
    assert (missing.value, missing.baseline, missing.delta_pct, missing.status) == (
        None,
        pytest.approx(100.0),
        None,
        "no_data",
    )
    # February has no January to compare with: no baseline, status ok.
    first = row(P95, "EAST", "2026-02-01")
    assert (first.baseline, first.delta_pct, first.status) == (None, None, "ok")


def test_alerts_are_raised_once_per_metric_region_day_and_level(latency_book: None) -> None:
    assert alerts_of(P95) == {("2026-03-10", "warn"): "open", ("2026-03-11", "critical"): "open"}
    assert alerts_of(P95, "all") == alerts_of(P95)  # the same samples make up `all`

    again = metrics_refresh(start=day("2026-02-01"), end=day("2026-03-11"))
    metrics_refresh(start=day("2026-03-10"), end=day("2026-03-11"))

    assert Alert.objects.filter(metric=P95).count() == 4
    assert (again.alerts_raised, again.alerts_resolved) == (0, 0)


def test_a_later_day_back_to_ok_ends_the_episode(latency_book: None) -> None:
    # March 13 has no samples: no_data ends nothing, the episode goes on.
    nothing = metrics_refresh(start=day("2026-03-13"), end=day("2026-03-13"))
    assert row(P95, "EAST", "2026-03-13").status == "no_data"
    assert nothing.alerts_resolved == 0
    assert set(alerts_of(P95).values()) == {"open"}

    # March 14 is 100 (0 %): ok. Only March 14 is refreshed, yet the alerts of March 10 and 11
    # (whose own days are still warn and critical) resolve: their episode ended.
    ended = later_days(("2026-03-14", 100))

    assert row(P95, "EAST", "2026-03-10").status == "warn"
    assert row(P95, "EAST", "2026-03-11").status == "critical"
    assert alerts_of(P95) == {
        ("2026-03-10", "warn"): "resolved",
        ("2026-03-11", "critical"): "resolved",
    }
    assert (ended.alerts_raised, ended.alerts_resolved) == (0, 4)  # EAST and all
    assert Alert.objects.filter(status="open").count() == 0


def test_a_new_episode_raises_only_its_own_days(latency_book: None) -> None:
    later_days(("2026-03-12", 100))  # ok: the first episode ends
    # March 13 is +7 % (warn), March 16 +12.5 % (critical); March 14 and 15 have no data.
    result = later_days(("2026-03-13", 107), ("2026-03-16", 112.5))

    assert alerts_of(P95) == {
        ("2026-03-10", "warn"): "resolved",
        ("2026-03-11", "critical"): "resolved",
        ("2026-03-13", "warn"): "open",
        ("2026-03-16", "critical"): "open",
    }
    assert (result.alerts_raised, result.alerts_resolved) == (4, 0)


def test_a_finished_episode_of_the_past_raises_nothing() -> None:
    """A back-fill of history: the warn and critical days were followed by an ok day, so the
    episode was over before anyone could act on it. The statuses show it; no alert is raised."""
    sample(API, "2026-02-01T10:00", 90, region="EAST")
    sample(API, "2026-02-02T10:00", 110, region="EAST")
    sample(API, "2026-03-10T10:00", 106, region="EAST")  # warn
    sample(API, "2026-03-11T10:00", 113, region="EAST")  # critical
    sample(API, "2026-03-12T10:00", 95, region="EAST")  # -5 %: ok, the episode ends
    sample(API, "2026-03-14T10:00", 120, region="EAST")  # +20 %: critical, a current episode

    result = metrics_refresh(start=day("2026-02-01"), end=day("2026-03-14"))

    assert [row(P95, "EAST", f"2026-03-1{n}").status for n in range(5)] == [
        "warn",
        "critical",
        "ok",
        "no_data",
        "critical",
    ]
    assert alerts_of(P95) == {("2026-03-14", "critical"): "open"}
    assert result.alerts_raised == 2  # EAST and all
    assert result.alerts_resolved == 0


def test_an_ended_episode_that_comes_back_reopens_its_alerts(latency_book: None) -> None:
    ids = dict(Alert.objects.filter(metric=P95, region="EAST").values_list("level", "id"))
    later_days(("2026-03-12", 100))
    assert set(alerts_of(P95).values()) == {"resolved"}

    # March 12 corrected to +7 %: it was not ok after all, so the episode never ended.
    Sample.objects.filter(metric=API, ts__date=day("2026-03-12")).update(value=107)
    result = metrics_refresh(start=day("2026-03-12"), end=day("2026-03-12"))

    assert alerts_of(P95) == {
        ("2026-03-10", "warn"): "open",
        ("2026-03-11", "critical"): "open",
        ("2026-03-12", "warn"): "open",
    }
    reopened = dict(
        Alert.objects.filter(metric=P95, region="EAST", day__lt=day("2026-03-12")).values_list(
            "level", "id"
        )
    )
    assert reopened == ids  # the same alerts, not new ones
    assert result.alerts_raised == 6  # three days, EAST and all
    assert Alert.objects.filter(status="open", resolved_at__isnull=False).count() == 0


def test_a_change_in_one_month_moves_the_next_months_baseline(latency_book: None) -> None:
    Sample.objects.filter(metric=API, ts__date=day("2026-02-02")).update(value=130)

    result = metrics_refresh(start=day("2026-02-02"), end=day("2026-02-02"))

    march = row(P95, "EAST", "2026-03-10")
    assert march.baseline == pytest.approx(110.0)  # mean of 90 and 130
    assert march.delta_pct == pytest.approx(100 * (106 - 110) / 110)
    assert march.status == "ok"
    assert row(P95, "EAST", "2026-03-11").status == "ok"  # 113 is +2.7 %
    # Back to ok: the alerts resolve.
    assert alerts_of(P95) == {
        ("2026-03-10", "warn"): "resolved",
        ("2026-03-11", "critical"): "resolved",
    }
    assert result.alerts_resolved == 4  # EAST and all
    assert Alert.objects.filter(metric=P95, status="resolved", resolved_at=None).count() == 0


def test_a_threshold_change_reevaluates_at_once(
    latency_book: None, set_parameter: Callable[[str, Any], None]
) -> None:
    warn_id = Alert.objects.get(metric=P95, region="EAST", level="warn").id

    set_parameter(f"alert.{P95}.warn_pct", 7)

    assert row(P95, "EAST", "2026-03-10").status == "ok"
    assert alerts_of(P95)[("2026-03-10", "warn")] == "resolved"
    assert row(P95, "EAST", "2026-03-11").status == "critical"  # still above 12 %

    set_parameter(f"alert.{P95}.critical_pct", 14)

    assert row(P95, "EAST", "2026-03-11").status == "warn"  # 13 % >= 7 %
    # The critical alert stays open (the status is not back to ok); no warn alert below it.
    assert alerts_of(P95)[("2026-03-11", "critical")] == "open"
    assert ("2026-03-11", "warn") not in alerts_of(P95)

    set_parameter(f"alert.{P95}.warn_pct", 5)

    # The resolved alert is reopened, not duplicated.
    reopened = Alert.objects.get(metric=P95, region="EAST", day=day("2026-03-10"), level="warn")
    assert (reopened.id, reopened.status, reopened.resolved_at) == (warn_id, "open", None)


def test_a_threshold_is_reached_exactly() -> None:
    sample(API, "2026-02-01T10:00", 100, region="EAST")
    sample(API, "2026-03-01T10:00", 105, region="EAST")  # exactly +5 %
    sample(API, "2026-03-02T10:00", 112, region="EAST")  # exactly +12 %

    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-02"))

    assert row(P95, "EAST", "2026-03-01").status == "warn"
    assert row(P95, "EAST", "2026-03-02").status == "critical"


def test_higher_is_better_metrics_are_adverse_when_they_fall() -> None:
    sample("availability", "2026-02-01T10:00", 1, region="EAST")
    for value in (1, 1, 1, 1, 1, 1, 1, 1, 1, 0):  # 90 %
        sample("availability", "2026-03-01T10:00", value, region="EAST")
    for value in (1, 1, 1, 1, 1, 1, 0, 0):  # 75 %
        sample("availability", "2026-03-02T10:00", value, region="EAST")
    sample("availability", "2026-03-03T10:00", 1, region="EAST")  # 100 %, as before

    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-03"))

    assert row("availability", "EAST", "2026-03-01").delta_pct == pytest.approx(-10.0)
    assert row("availability", "EAST", "2026-03-01").status == "warn"
    assert row("availability", "EAST", "2026-03-02").status == "critical"
    assert row("availability", "EAST", "2026-03-03").status == "ok"


def test_a_zero_baseline_gives_no_delta_and_status_ok() -> None:
    sample("data_sync_lag", "2026-02-01T10:00", 0, region="EAST")
    sample("data_sync_lag", "2026-03-01T10:00", 50, region="EAST")

    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-01"))

    march = row("data_sync_lag_p95", "EAST", "2026-03-01")
    assert (march.baseline, march.delta_pct, march.status) == (0.0, None, "ok")


@pytest.fixture
def thin_approvals() -> None:
    """WEST approves its one February application; in March it rejects one: 100 % then 50 %."""
    application("WEST", "approved", "2026-02-15T10:00")
    application("WEST", "rejected", "2026-03-05T10:00")


def test_the_noise_guard_keeps_small_denominators_from_alerting(
    thin_approvals: None, set_parameter: Callable[[str, Any], None]
) -> None:
    set_parameter("alert.min_denominator", 5)

    metrics_refresh(start=day("2026-02-01"), end=day("2026-03-10"))

    march = row("approval_rate", "WEST", "2026-03-10")
    assert (march.value, march.denominator) == (pytest.approx(50.0), 2)
    assert march.status == "critical"  # shown...
    assert not Alert.objects.filter(metric="approval_rate").exists()  # ...but not alerted

    set_parameter("alert.min_denominator", 0)

    assert Alert.objects.filter(
        metric="approval_rate", region="WEST", day=day("2026-03-10"), level="critical"
    ).exists()


def test_the_kanban_links_a_card_to_an_alert(latency_book: None) -> None:
    alert = Alert.objects.get(metric=P95, region="EAST", level="critical")

    assert alert_card_attach(alert_id=alert.id, card_id=42)
    assert not alert_card_attach(alert_id=0, card_id=42)

    alert.refresh_from_db()
    assert alert.card_id == 42
