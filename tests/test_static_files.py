"""Static files after `collectstatic` carry content-hashed names, so a release never serves
yesterday's JavaScript from a cache; each ES module imports its neighbours by their hashed names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("staticfiles")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env={**os.environ, "STATIC_ROOT": str(root), "DEBUG": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def test_collectstatic_hashes_every_file_and_rewrites_module_imports(collected: Path) -> None:
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    assert re.fullmatch(r"js/live\.[0-9a-f]{12}\.js", manifest["js/live.js"])
    assert re.fullmatch(r"plotly/plotly\.min\.[0-9a-f]{12}\.js", manifest["plotly/plotly.min.js"])

    dashboard = (collected / manifest["js/dashboard.js"]).read_text()
    imported = set(re.findall(r'from "\./([^"]+)"', dashboard))
    assert imported and all(re.fullmatch(r"[a-z_]+\.[0-9a-f]{12}\.js", name) for name in imported)
    assert f"./{Path(manifest['js/live.js']).name}" in dashboard


@pytest.mark.django_db
def test_pages_link_the_hashed_names_and_they_are_cached_for_good(collected: Path) -> None:
    with override_settings(STATIC_ROOT=collected):
        client = Client()
        page = client.get("/login/").content.decode()
        css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
        assert css, "the login page links the unhashed stylesheet"

        served = client.get(css.group(1))
        assert served.status_code == 200
        assert "immutable" in served["Cache-Control"]
