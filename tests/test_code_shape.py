"""The house rules of ../shared/ARCHITECTURE.md that a grep can check: imports point one way
(kanban → metrics → carloan; valuation → carloan), and the product never imports its
development tooling (`carloan.dev`: the runner and the demo book)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("carloan", "kanban", "metrics", "valuation")
# Modules that are development tooling themselves, or seed the demo on request.
DEV_ALLOWED = ("carloan/dev/", "/management/commands/", "valuation/demo.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _sources(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def test_the_product_never_imports_its_development_tooling() -> None:
    offenders = []
    for app in APPS:
        for path in _sources(app):
            relative = path.relative_to(ROOT).as_posix()
            if any(part in f"/{relative}" for part in DEV_ALLOWED):
                continue
            if any(
                name == "carloan.dev" or name.startswith("carloan.dev.") for name in _imports(path)
            ):
                offenders.append(relative)
    assert offenders == [], offenders


def test_imports_point_one_way() -> None:
    """metrics and valuation never import kanban; carloan imports none of the other apps."""
    forbidden = {
        "carloan": ("kanban", "metrics", "valuation"),
        "metrics": ("kanban",),
        "valuation": ("kanban", "metrics"),
    }
    offenders = []
    for app, banned in forbidden.items():
        for path in _sources(app):
            for name in _imports(path):
                if name.split(".")[0] in banned:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == [], offenders
