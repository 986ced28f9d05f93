"""The charts' colours in light and dark mode (issue 23): every figure built in Python carries the
light template and leaves the neutral frame (grid and axis lines, backgrounds) to it, so a page in
dark mode swaps the whole template (static/js/plot_theme.js); and the pages' light template is the
Python one."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from carloan import charts as style
from tests.test_one_place import BUILDERS

ROOT = Path(__file__).resolve().parent.parent
FRAME_KEYS = {"gridcolor", "linecolor", "zerolinecolor", "plot_bgcolor"}


def _keys(node: Any, skip: str = "template") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == skip:
                continue
            yield key, value
            yield from _keys(value, skip)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item, skip)


@pytest.mark.parametrize("builder", list(BUILDERS), ids=lambda b: f"{b.__module__}.{b.__name__}")
def test_every_figure_carries_the_light_template_and_names_no_frame_colour(
    builder: Callable[..., Any],
) -> None:
    layout = BUILDERS[builder]()["layout"]
    assert layout["template"] == style.TEMPLATE
    named = {key: value for key, value in _keys(layout) if key in FRAME_KEYS}
    assert named in ({}, {"plot_bgcolor": style.TRANSPARENT}), named


def _plot_theme() -> dict[str, Any]:
    """TEMPLATES and DARK_COLOURS of static/js/plot_theme.js, as node reads them."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "import('./static/js/plot_theme.js').then((m) => process.stdout.write("
        "JSON.stringify({templates: m.TEMPLATES, dark: m.DARK_COLOURS})))"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_pages_light_template_is_the_python_one() -> None:
    templates = _plot_theme()["templates"]
    assert templates["light"] == style.TEMPLATE
    dark = templates["dark"]["layout"]
    assert set(dark) == set(style.TEMPLATE["layout"])
    assert dark["paper_bgcolor"] != style.TRANSPARENT and dark["font"]["color"] != style.INK


def test_in_dark_mode_a_department_has_the_same_colour_in_charts_and_on_the_board() -> None:
    """The dark shades of the departments' colours (app.css, [data-mode="dark"] .page-kanban)
    are what their chart colours become in dark mode."""
    dark = _plot_theme()["dark"]
    css = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
    block = re.search(r'\[data-mode="dark"\] \.page-kanban \{([^}]*)\}', css)
    assert block, "no dark colours for the kanban's departments"
    variables = {"marketing": "--mkt", "risk": "--risk", "tech": "--tech"}
    for department, variable in variables.items():
        match = re.search(rf"{variable}:\s*(#[0-9a-fA-F]{{6}})", block.group(1))
        assert match, variable
        assert dark[style.DEPARTMENT_COLOURS[department]] == match.group(1).lower(), department
    for colour, css_variable in ((style.GOOD, "--ok"), (style.BAD, "--error")):
        match = re.search(
            rf':root\[data-mode="dark"\] \{{[^}}]*?{css_variable}:\s*(#[0-9a-f]{{6}})', css
        )
        assert match, css_variable
        assert dark[colour] == match.group(1), css_variable
