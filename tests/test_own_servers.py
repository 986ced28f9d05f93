"""The fault tests' own PostgreSQL runs from any clone: as root its tools run as the unprivileged
`pgserver` user, who cannot reach into a clone under a folder of mode 0700 (root's home)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.own_servers import _pg_install, _run_as

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the pgserver user exists for root")


def _pg_install_source() -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH).parent


def _initdb_version(install: Path) -> tuple[int, str]:
    """(exit code, output) of `initdb --version` run as the pgserver user; 126 when it cannot
    even be started."""
    try:
        result = subprocess.run(
            [str(install / "bin" / "initdb"), "--version"],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
            **_run_as(),
        )
    except PermissionError as exc:
        return 126, str(exc)
    return result.returncode, result.stdout + result.stderr


def test_postgres_tools_run_as_pgserver_from_a_clone_in_a_private_folder(tmp_path: Path) -> None:
    # A clone's virtual environment under a folder only root may enter.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o700)
    site = _pg_install_source().parent.parent
    clone_site = private / "clone" / ".venv" / "site-packages"
    shutil.copytree(site / "pgserver" / "pginstall", clone_site / "pgserver" / "pginstall")
    if (site / "pgserver.libs").is_dir():
        shutil.copytree(site / "pgserver.libs", clone_site / "pgserver.libs")
    in_clone = clone_site / "pgserver" / "pginstall"

    # Run where it lies, pgserver cannot even start it ...
    assert _initdb_version(in_clone)[0] != 0
    # ... from where the fault tests run it, it can.
    usable = _pg_install(in_clone)
    code, output = _initdb_version(usable)
    assert code == 0, output
    assert "initdb (PostgreSQL)" in output
    assert not usable.is_relative_to(private)
