"""The dashboard `/` and the metric page `/metrics/<key>/` through the Django client (panels in
two groups, grouped alerts, figures as JSON, Chinese, nothing from outside, 404 for an unknown
metric), and the pure figure functions of `metrics.charts` on hand-made numbers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from carloan.parameters.selectors import parameter_cache_invalidate, parameters_state
from carloan.parameters.services import parameters_change
from metrics import charts
from metrics.services import metrics_refresh
from tests.factories import PASSWORD
from tests.test_metrics_support import day, sample
from tests.test_pages import parse

# The statuses drawn here come from the relative rule (also for the technical samples).
pytestmark = pytest.mark.usefixtures("relative_modes")

API = "api_response_time"
P95 = "api_response_time_p95"
D = "2026-03-11"


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


@pytest.fixture
def book(db: Any) -> None:
    """EAST API latency: February's p95 are 90 and 110 (March baseline 100); March 10 is +6 %
    (warn), March 11 +13 % (critical): an episode since March 10, open."""
    sample(API, "2026-02-01T10:00", 90, region="EAST")
    sample(API, "2026-02-02T10:00", 110, region="EAST")
    sample(API, "2026-03-10T10:00", 106, region="EAST")
    sample(API, "2026-03-11T10:00", 113, region="EAST")
    sample(API, "2026-03-11T11:00", 113, region="WEST")
    metrics_refresh(start=day("2026-02-01"), end=day(D))


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_data(html: str, element_id: str) -> dict[str, Any]:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no json_script {element_id}"
    return json.loads(match.group(1))


# --- the dashboard -------------------------------------------------------------------------------


def test_the_dashboard_shows_fourteen_panels_in_two_groups(viewer: User, book: None) -> None:
    response = signed_in(viewer).get(f"/?region=EAST&date={D}")

    assert response.status_code == 200
    html = response.content.decode()
    tags = parse(html)
    panels = [a for t, a in tags.tags if t == "a" and "kpi" in a.get("class", "").split()]
    assert len(panels) == 14
    groups = re.findall(r'data-group="(business|technical)"', html)
    assert groups == ["business", "technical"]
    business = html[html.index('data-group="business"') : html.index('data-group="technical"')]
    assert business.count('class="kpi kpi--') == 8
    # The panel of the day: value, unit, change in the metric's direction, status, link.
    p95 = next(a for a in panels if a["data-key"] == P95)
    assert p95["data-status"] == "critical"
    assert p95["href"] == f"/metrics/{P95}/?region=EAST&date={D}"
    card = html[html.index(f'id="panel-{P95}"') :]
    card = card[: card.index("</a>")]
    assert ">113<" in card and ">ms<" in card
    assert "delta--bad" in card and "▲" in card and "+13.0 %" in card
    assert 'Baseline <strong data-role="baseline">100 ms</strong>' in card


def test_the_dashboard_hands_its_data_and_sparklines_to_the_script(
    viewer: User, book: None
) -> None:
    html = signed_in(viewer).get(f"/?region=EAST&date={D}").content.decode()

    data = page_data(html, "dashboard-data")
    assert (data["region"], data["date"], data["explicitDate"]) == ("EAST", D, True)
    assert len(data["panels"]) == 14
    spark = data["sparklines"][P95]
    assert spark["config"]["staticPlot"] is True and spark["config"]["displayModeBar"] is False
    assert spark["data"][0]["y"][-1] == pytest.approx(113.0)
    assert len(spark["data"][0]["x"]) == 30
    assert data["text"]["since"] == "since {date}"
    assert data["alerts"] and {a["status"] for a in data["alerts"]} == {"open"}


def test_open_alerts_are_grouped_by_metric_and_region(viewer: User, book: None) -> None:
    html = signed_in(viewer).get(f"/?date={D}").content.decode()

    items = re.findall(r'<li class="alert-item alert-item--(\w+)" data-group="([^"]+)">', html)
    # EAST: warn on March 10 and critical on March 11 make one line; `all` likewise; WEST has
    # no February, so no baseline and no alert.
    assert sorted(items) == [("critical", f"{P95}|EAST"), ("critical", f"{P95}|all")]
    east = html[html.index(f'data-group="{P95}|EAST"') :]
    east = east[: east.index("</li>")]
    assert "API response time p95" in east and "EAST" in east
    assert "since 2026-03-10" in east and "+13.0 %" in east


def test_a_region_shows_its_own_alerts_and_counts_the_others(viewer: User, book: None) -> None:
    html = signed_in(viewer).get(f"/?region=WEST&date={D}").content.decode()

    assert 'data-group="' + P95 + '|EAST"' not in html
    assert "No open alerts for this region." in html
    assert "2 more in other regions" in html


def test_a_bad_region_or_date_falls_back_to_all_and_today(viewer: User, book: None) -> None:
    response = signed_in(viewer).get("/?region=NOWHERE&date=yesterday")

    assert response.status_code == 200
    data = page_data(response.content.decode(), "dashboard-data")
    assert data["region"] == "all" and data["explicitDate"] is False


def test_pages_need_a_signed_in_user(db: Any) -> None:
    for path in ("/", f"/metrics/{P95}/"):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the metric page -----------------------------------------------------------------------------


@pytest.fixture
def threshold_changed(
    manager: User, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    key = f"alert.{P95}.warn_pct"
    version = parameters_state([key])[0]["version"]
    with django_capture_on_commit_callbacks(execute=True):
        parameters_change(changes={key: (4, version)}, user=manager, reason="tighter")


def test_the_metric_page_has_history_thresholds_markers_and_comparison(
    viewer: User, book: None, threshold_changed: None, settings: Any
) -> None:
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    response = signed_in(viewer).get(f"/metrics/{P95}/?region=EAST&range=365&date={today}")

    assert response.status_code == 200
    html = response.content.decode()
    data = page_data(html, "metric-data")
    history = data["figures"]["history"]
    names = [trace.get("name") for trace in history["data"]]
    assert names[:5] == [
        "Baseline (last month's mean)",
        "Tolerance (baseline to warn)",
        "Warn threshold",
        "Critical threshold",
        "Daily value",
    ]
    # The threshold change of today is a marker on the chart and a row under it.
    assert [s["x0"] for s in history["layout"]["shapes"]] == [today]
    assert "warn 5→4%" in history["layout"]["annotations"][0]["text"]
    assert f"alert.{P95}.warn_pct" in html
    comparison = data["figures"]["comparison"]
    assert comparison["data"][0]["x"][0] == "All regions"
    # Formula, CSV download of the series, the open alerts of this metric.
    assert "95th percentile of the day&#x27;s API response time samples" in html
    assert f"/api/metrics/series/?metric={P95}&amp;region=EAST" in html
    assert "format=csv" in html


def test_the_metric_page_shows_the_day_and_its_thresholds(viewer: User, book: None) -> None:
    html = signed_in(viewer).get(f"/metrics/{P95}/?region=EAST&date={D}").content.decode()

    assert "113" in html
    assert "105 ms" in html  # warn at +5 % of 100
    assert "112 ms" in html  # critical at +12 %
    history = page_data(html, "metric-data")["figures"]["history"]
    value = next(t for t in history["data"] if t["name"] == "Daily value")
    assert value["x"][-1] == D and value["y"][-1] == pytest.approx(113.0)
    critical = next(t for t in history["data"] if t["name"] == "Critical days")
    assert critical["x"] == [D]


def test_the_csv_download_answers_csv(viewer: User, book: None) -> None:
    client = signed_in(viewer)
    html = client.get(f"/metrics/{P95}/?region=EAST&date={D}&range=30").content.decode()
    url = re.search(r'id="download-csv" href="([^"]+)"', html).group(1).replace("&amp;", "&")

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("date,value,baseline,delta_pct,status")
    assert lines[-1].startswith(f"{D},113.0,100.0")


def test_an_unknown_metric_is_a_404(viewer: User) -> None:
    assert signed_in(viewer).get("/metrics/no_such_metric/").status_code == 404


# --- Chinese, and nothing from outside -----------------------------------------------------------


def test_the_pages_in_chinese(viewer: User, book: None) -> None:
    client = signed_in(viewer, "zh-hans")
    dashboard = client.get(f"/?region=EAST&date={D}").content.decode()
    metric = client.get(f"/metrics/overdue_rate/?date={D}").content.decode()

    for text in ("实时仪表盘", "业务指标", "技术指标", "未关闭告警", "逾期率", "严重", "基线"):
        assert text in dashboard, text
    assert "API 响应时间 p95" in dashboard
    assert "自 2026-03-10 起" in dashboard
    assert page_data(dashboard, "dashboard-data")["names"]["overdue_rate"]["name"] == "逾期率"
    for text in ("逾期率", "Overdue rate", "历史走势", "区域对比", "下载 CSV", "在贷贷款未偿本金"):
        assert text in metric, text


@pytest.mark.parametrize("path", ["/", f"/metrics/{P95}/", "/metrics/overdue_rate/"])
def test_pages_load_only_local_scripts_and_no_inline_code(
    viewer: User, book: None, path: str
) -> None:
    tags = parse(signed_in(viewer).get(path).content)

    sources = [a.get("src", "") for t, a in tags.tags if t in ("script", "img")]
    sources += [a.get("href", "") for t, a in tags.tags if t == "link"]
    assert all(s.startswith("/") and not s.startswith("//") for s in sources if s), sources
    assert "/static/plotly/plotly.min.js" in sources
    for attrs, text in tags.scripts:
        assert attrs.get("src") or attrs.get("type") == "application/json", text[:80]


# --- metrics.charts: pure functions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "direction", "tone"),
    [
        (12.0, "lower_is_better", "bad"),  # overdue rate rises: red
        (-12.0, "lower_is_better", "good"),
        (12.0, "higher_is_better", "good"),  # approval rate rises: green
        (-12.0, "higher_is_better", "bad"),
        (0.01, "lower_is_better", "flat"),
        (None, "lower_is_better", "none"),
    ],
)
def test_the_arrow_colour_follows_the_metric_direction(
    delta: float | None, direction: str, tone: str
) -> None:
    assert charts.delta_tone(delta, direction) == tone


def test_arrows_and_deltas_are_written_for_people() -> None:
    assert [charts.delta_arrow(d) for d in (3.0, -3.0, 0.0, None)] == ["▲", "▼", "▶", ""]
    assert charts.format_delta(38.24) == "+38.2 %"
    assert charts.format_delta(-5.0) == "−5.0 %"
    assert charts.format_delta(None) == "–"


def test_threshold_lines_sit_on_the_adverse_side_of_the_baseline() -> None:
    # Lower is better (overdue rate 2.0 %): warn at +5 %, critical at +12 % of the baseline.
    warn, critical = charts.threshold_values(2.0, 5, 12, "lower_is_better")
    assert (warn, critical) == (pytest.approx(2.1), pytest.approx(2.24))
    # Higher is better (approval rate 60 %): below the baseline.
    warn, critical = charts.threshold_values(60.0, 5, 12, "higher_is_better")
    assert (warn, critical) == (pytest.approx(57.0), pytest.approx(52.8))
    # A negative baseline: the distance is taken from |baseline|.
    assert charts.threshold_values(-10.0, 10, 20, "lower_is_better") == (
        pytest.approx(-9.0),
        pytest.approx(-8.0),
    )
    assert charts.threshold_values(None, 5, 12, "lower_is_better") == (None, None)
    assert charts.threshold_values(0.0, 5, 12, "lower_is_better") == (None, None)


def test_values_are_formatted_in_their_unit() -> None:
    assert charts.format_value(3.4167, "%") == ("3.42", "%")
    assert charts.format_value(2652.4, "CNY") == ("¥2,652", "")
    assert charts.format_value(264.4, "ms") == ("264", "ms")
    assert charts.format_value(1.514, "s") == ("1.51", "s")
    assert charts.format_value(2.25, "days", {"days": "天"}) == ("2.2", "天")
    assert charts.format_value(111.06, "per 10k loans") == ("111.1", "per 10k loans")
    assert charts.format_value(None, "%") == ("–", "")


def test_alerts_group_by_metric_and_region_with_the_latest_day() -> None:
    alerts = [
        {"id": 1, "metric": "overdue_rate", "region": "S", "day": "2026-11-10", "level": "warn",
         "delta_pct": 6.0},
        {"id": 2, "metric": "overdue_rate", "region": "S", "day": "2026-11-12", "level": "warn",
         "delta_pct": 9.0},
        {"id": 3, "metric": "overdue_rate", "region": "S", "day": "2026-11-12",
         "level": "critical", "delta_pct": 38.0},
        {"id": 4, "metric": "availability", "region": "N", "day": "2026-11-12", "level": "warn",
         "delta_pct": -7.0},
        {"id": 5, "metric": "npl_ratio", "region": "S", "day": "2026-11-01", "level": "critical",
         "delta_pct": 15.0, "status": "resolved"},
    ]  # fmt: skip

    groups = charts.alert_groups(alerts)

    assert [(g["metric"], g["region"], g["level"], g["since"], g["delta_pct"], g["count"])
            for g in groups] == [
        ("overdue_rate", "S", "critical", "2026-11-10", 38.0, 3),
        ("availability", "N", "warn", "2026-11-12", -7.0, 1),
    ]  # fmt: skip


def test_the_sparkline_is_static_and_coloured_by_status() -> None:
    series = [{"date": f"2026-03-0{n}", "value": v} for n, v in ((1, 1.0), (2, None), (3, 3.0))]

    figure = charts.sparkline_figure(series, "critical", baseline=2.0, warn=2.1)

    assert figure["config"]["staticPlot"] is True
    assert figure["data"][0]["line"]["color"] == charts.STATUS_COLORS["critical"]
    assert figure["data"][1]["x"] == ["2026-03-03"]  # the last point with a value
    assert [s["y0"] for s in figure["layout"]["shapes"]] == [2.0, 2.1]
    assert figure["layout"]["xaxis"]["visible"] is False


def test_the_history_draws_thresholds_per_day_in_the_metrics_direction() -> None:
    rows = [
        {"date": "2026-03-01", "value": 50.0, "baseline": 60.0, "status": "critical"},
        {"date": "2026-03-02", "value": None, "baseline": None, "status": "no_data"},
    ]
    markers = [{"date": "2026-03-01", "text": "warn 5→7%", "hover": "alert.x.warn_pct"}]

    figure = charts.history_figure(
        rows,
        direction="higher_is_better",
        warn_pct=5,
        critical_pct=12,
        unit="%",
        labels={},
        markers=markers,
    )

    by_name = {t["name"]: t for t in figure["data"]}
    assert by_name["Warn"]["y"] == [pytest.approx(57.0), None]
    assert by_name["Critical"]["y"] == [pytest.approx(52.8), None]
    assert by_name["critical"]["x"] == ["2026-03-01"]
    assert figure["layout"]["shapes"][0]["x0"] == "2026-03-01"
    assert figure["layout"]["annotations"][0]["text"] == "warn 5→7%"


def test_the_comparison_colours_each_region_by_status() -> None:
    rows = [
        {"region": "all", "value": 5.0, "baseline": 4.5, "status": "warn"},
        {"region": "SOUTH", "value": 7.0, "baseline": 5.0, "status": "critical"},
        {"region": "NORTH", "value": None, "baseline": None, "status": "no_data"},
    ]

    figure = charts.comparison_figure(
        rows, unit="%", labels={}, region_labels={"all": "All regions"}, selected="SOUTH"
    )

    bars = figure["data"][0]
    assert bars["x"] == ["All regions", "SOUTH", "NORTH"]
    assert bars["marker"]["color"] == [
        charts.BAR_COLORS["warn"],
        charts.BAR_COLORS["critical"],
        charts.BAR_COLORS["no_data"],
    ]
    assert bars["marker"]["line"]["color"][1] == charts.INK  # the chosen region is outlined


def test_figures_are_plain_json() -> None:
    figure = charts.sparkline_figure([{"date": "2026-03-01", "value": 1.0}], "ok")
    assert json.loads(json.dumps(figure)) == figure


def test_the_acquisition_cost_shows_the_live_target_cac(
    viewer: User, manager: User, book: None, django_capture_on_commit_callbacks: Any
) -> None:
    """`marketing.target_cac` bites: the acquisition cost's history draws it, and a manager's
    change moves the line."""
    key = "customer_acquisition_cost"

    def target_line() -> list[float]:
        html = signed_in(viewer).get(f"/metrics/{key}/?date={D}").content.decode()
        history = page_data(html, "metric-data")["figures"]["history"]
        return next(t for t in history["data"] if t["name"] == "Target (a live parameter)")["y"]

    assert target_line() == [2500.0, 2500.0]
    version = parameters_state(["marketing.target_cac"])[0]["version"]
    with django_capture_on_commit_callbacks(execute=True):
        parameters_change(changes={"marketing.target_cac": (1800, version)}, user=manager)
    assert target_line() == [1800.0, 1800.0]
    # No other metric has a target line.
    html = signed_in(viewer).get(f"/metrics/{P95}/?date={D}").content.decode()
    names = [t.get("name") for t in page_data(html, "metric-data")["figures"]["history"]["data"]]
    assert "Target (a live parameter)" not in names
