"""The pages' pure JavaScript (highlighting, state reducers of socket events) is unit-tested with
node's built-in test runner (`node --test tests/js/`); this runs it as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript unit tests (tests/js/) cannot run")
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
