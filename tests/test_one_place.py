"""One place for each word and each look (the code-shape issue, item 4): the departments' codes
and names (`carloan.departments`), "is the reader's language Chinese?" (`carloan.i18n`), and the
charts' palette, font and base layout (`carloan.charts`), used by every page and figure."""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from carloan import charts as style
from carloan.compliance import charts as compliance_charts
from carloan.departments import DEPARTMENT_LABELS, DEPARTMENTS
from carloan.i18n import is_chinese
from carloan.models import Department
from carloan.screening import charts as screening_charts
from kanban import charts as kanban_charts
from metrics import charts as metric_charts
from metrics import registry
from metrics.kpi import charts as kpi_charts
from valuation import charts as valuation_charts

ROOT = Path(__file__).resolve().parent.parent
APPS = ("carloan", "kanban", "metrics", "valuation")
CHINESE = {"marketing": "市场部", "risk": "风控部", "tech": "技术部"}


def _sources() -> list[Path]:
    paths = [path for app in APPS for path in (ROOT / app).rglob("*.py")]
    return [path for path in paths if "migrations" not in path.parts]


def _offenders(pattern: str, allowed: tuple[str, ...]) -> list[str]:
    found = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        if relative in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


# --- departments: one list, one name each --------------------------------------------------------


def test_the_department_names_are_written_in_one_module() -> None:
    found = _offenders(r'(gettext(_lazy)?|\b_)\(\s*"(Marketing|Risk control|Tech)"\s*\)', ())
    assert [line.split(":")[0] for line in found] == ["carloan/departments.py"] * 3, found


def test_the_department_list_is_written_in_one_module() -> None:
    allowed = (
        "metrics/registry.py",  # a Literal type (not built from a tuple): checked below
        "carloan/dev/runner.py",  # the demo people's usernames
        "kanban/management/commands/kanban_seed_demo.py",  # the same usernames
    )
    assert _offenders(r'"marketing",\s*"risk",\s*"tech"', allowed) == []
    assert get_args(registry.Department) == DEPARTMENTS
    assert Department.values == list(DEPARTMENTS)
    assert [str(label) for label in Department.labels] == [
        str(DEPARTMENT_LABELS[d]) for d in DEPARTMENTS
    ]


def _page(user: User, path: str) -> str:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def _json(html: str, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, element_id
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_a_department_has_the_same_chinese_name_on_every_page(risk_head: User) -> None:
    with translation.override("zh-hans"):
        assert {d: str(DEPARTMENT_LABELS[d]) for d in DEPARTMENTS} == CHINESE
        assert {d: str(label) for d, label in Department.choices} == CHINESE
    kpi = _json(_page(risk_head, "/kpi/"), "kpi-editor-data")
    assert kpi["labels"] == CHINESE
    board = _page(risk_head, "/kanban/")
    assert _json(board, "kanban-config")["departments"] == CHINESE
    assert "部门负责人 · 风控部" in re.sub(r"\s+", " ", board)  # the user box of every page
    flow = _json(_page(risk_head, "/kanban/flow/"), "kanban-flow-figures")
    assert flow["handoffs"]["data"][0]["x"] == list(CHINESE.values())
    risk = _json(_page(risk_head, "/risk/"), "screening-i18n")
    assert {d: risk[f"dept_{d}"] for d in DEPARTMENTS} == CHINESE


# --- "is the reader's language Chinese?" ---------------------------------------------------------


def test_one_helper_says_whether_the_language_is_chinese() -> None:
    assert _offenders(r'startswith\(\s*"zh"|==\s*"zh"\b', ("carloan/i18n.py",)) == []
    assert is_chinese("zh-hans") and is_chinese("zh-CN") and not is_chinese("en")
    with translation.override("zh-hans"):
        assert is_chinese()
    with translation.override("en"):
        assert not is_chinese()


# --- charts: one style, one palette, one font ----------------------------------------------------

ROWS = [
    {"date": "2026-03-01", "value": 1.0, "baseline": 2.0, "status": "ok"},
    {"date": "2026-03-02", "value": 2.5, "baseline": 2.0, "status": "warn"},
]
QUARTERS = ["2026Q1", "2026Q2"]
SCORES = {d: [60.0, 70.0] for d in DEPARTMENTS}
CARDS = {
    "cards": [
        {"department": d, "lanes": 2, "done_at": "2026-03-01", "days": 2, "card": i, "title": d}
        for i, d in enumerate(DEPARTMENTS)
    ],
    "p50": 2,
    "p85": 3,
}
NAMES = {d: d.upper() for d in DEPARTMENTS}

# One call of each figure builder (a new builder must be added here: see the test below).
BUILDERS: dict[Callable[..., Any], Callable[[], dict[str, Any]]] = {
    metric_charts.sparkline_figure: lambda: metric_charts.sparkline_figure(ROWS, "ok", 2.0, 2.1),
    metric_charts.history_figure: lambda: metric_charts.history_figure(
        ROWS, direction="lower_is_better", warn_pct=10, critical_pct=20, unit="%", labels={}
    ),
    metric_charts.comparison_figure: lambda: metric_charts.comparison_figure(
        [{"region": "a", "value": 1.0, "baseline": 2.0, "status": "ok"}], unit="%", labels={}
    ),
    kpi_charts.score_trend: lambda: kpi_charts.score_trend(
        QUARTERS, SCORES, title="t", department_labels=NAMES
    ),
    kpi_charts.kpi_trend: lambda: kpi_charts.kpi_trend(
        QUARTERS, [1.0, 2.0], target=2.0, threshold=3.0, title="t", unit="%", labels={}
    ),
    kpi_charts.department_comparison: lambda: kpi_charts.department_comparison(
        QUARTERS, SCORES, title="t", department_labels=NAMES
    ),
    kpi_charts.strategy_split: lambda: kpi_charts.strategy_split(
        [], title="t", pillar_labels={}, target_label="b", done_label="w"
    ),
    kanban_charts.cumulative_flow_figure: lambda: kanban_charts.cumulative_flow_figure(
        {"days": ["2026-03-01"], "columns": [{"id": 1, "name": "Backlog", "counts": [1]}]}
    ),
    kanban_charts.cycle_time_figure: lambda: kanban_charts.cycle_time_figure(
        CARDS, department_names=NAMES
    ),
    kanban_charts.handoff_figure: lambda: kanban_charts.handoff_figure([]),
    valuation_charts.waterfall_figure: lambda: valuation_charts.waterfall_figure(
        {"baseline": 100.0, "value": 90.0, "factors": []}, baseline_label="b", value_label="v"
    ),
    valuation_charts.holdout_scatter: lambda: valuation_charts.holdout_scatter(
        [[1.0, 1.1]], x_label="x", y_label="y", hover="h"
    ),
    compliance_charts.flagged_calls_figure: lambda: compliance_charts.flagged_calls_figure(
        [{"day": "2026-03-01", "calls": 10, "flagged": 1, "per_100": 10.0}]
    ),
    compliance_charts.risk_matrix_figure: lambda: compliance_charts.risk_matrix_figure(
        {"scripts": [], "agents": []}
    ),
    screening_charts.ring_figure: lambda: screening_charts.ring_figure(
        {"application_id": "A", "nodes": [{"application_id": "A", "depth": 0}], "edges": []}
    ),
}
CHART_MODULES: tuple[ModuleType, ...] = (
    metric_charts,
    kpi_charts,
    kanban_charts,
    valuation_charts,
    compliance_charts,
    screening_charts,
)


def test_every_figure_builder_is_checked() -> None:
    """Every public function of a chart module that answers a figure is in BUILDERS."""
    found = {
        function
        for module in CHART_MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and inspect.signature(function).return_annotation in ("Figure", "dict[str, Any]")
    }
    assert found == set(BUILDERS)


@pytest.mark.parametrize("builder", list(BUILDERS), ids=lambda b: f"{b.__module__}.{b.__name__}")
def test_every_figure_carries_the_shared_font_and_is_plain_json(builder: Callable) -> None:
    figure = BUILDERS[builder]()
    assert json.loads(json.dumps(figure)) == figure  # plain dicts, lists, strings and numbers
    font = figure["layout"].get("font", {})
    assert (font.get("family"), font.get("color")) == (style.FONT_FAMILY, style.INK)
    assert figure["layout"].get("paper_bgcolor") == style.TRANSPARENT


def test_one_charting_style_and_one_font_definition() -> None:
    """Figures are plain dicts: no graph_objects; the font family is written in carloan.charts."""
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("plotly.graph_objects"), path
            elif isinstance(node, ast.Import):
                assert all(not a.name.startswith("plotly.graph_objects") for a in node.names), path
    for module in CHART_MODULES:
        source = inspect.getsource(module)
        assert not re.search(r'"family"\s*:|\bFONT\s*=', source), module.__name__


def test_a_department_has_the_same_colour_on_the_kpi_and_kanban_pages() -> None:
    lines = {t["name"]: t["line"]["color"] for t in BUILDERS[kpi_charts.score_trend]()["data"]}
    bars = {
        t["name"]: t["marker"]["color"]
        for t in BUILDERS[kpi_charts.department_comparison]()["data"]
    }
    dots = {
        t["name"]: t["marker"]["line"]["color"]
        for t in BUILDERS[kanban_charts.cycle_time_figure]()["data"]
    }
    expected = {NAMES[d]: style.DEPARTMENT_COLOURS[d] for d in DEPARTMENTS}
    assert lines == bars == dots == expected
    assert len(set(expected.values())) == len(DEPARTMENTS)


def test_the_department_colours_are_the_stylesheets() -> None:
    css = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    variables = {"marketing": "--mkt", "risk": "--risk", "tech": "--tech"}
    for department, variable in variables.items():
        match = re.search(rf"{variable}:\s*(#[0-9a-fA-F]{{6}})", css)
        assert match, variable
        assert match.group(1).lower() == style.DEPARTMENT_COLOURS[department], department
