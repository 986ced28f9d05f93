"""`manage.py import_loanbook`: files and folders, all or nothing, the refresh before returning."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from carloan.models import ImportRun, Lead, LoanApplication
from carloan.signals import loanbook_changed

LEADS = """lead_id,created_at,region,channel,campaign
L1,2026-03-01T09:00:00Z,EAST-01,web,spring
L2,2026-03-04T09:00:00Z,EAST-02,partner,
"""
APPLICATIONS = """application_id,lead_id,region,applied_at,decision,decided_at,credit_score
A1,L1,EAST-01,2026-03-02T10:00:00Z,approved,2026-03-03T10:00:00Z,710
A2,L2,EAST-02,2026-03-05T10:00:00Z,pending,,
"""
BAD_APPLICATIONS = """application_id,region,applied_at,decision,decided_at
A1,EAST-01,2026-03-02T10:00:00Z,approved,
A2,all,2026-03-05T10:00:00Z,pending,
A3,EAST-01,2026-03-05T10:00:00Z,approved,2026-03-05T11:00:00Z
"""


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_loanbook", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp_path / "applications.csv").write_text(APPLICATIONS, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a csv", encoding="utf-8")
    return tmp_path


@pytest.fixture
def changes() -> Any:
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    loanbook_changed.connect(receiver, dispatch_uid="test-command-receiver")
    yield received
    loanbook_changed.disconnect(dispatch_uid="test-command-receiver")


@pytest.mark.django_db
def test_a_folder_is_imported_and_refreshed_before_the_command_returns(
    folder: Path, changes: list[dict[str, Any]]
) -> None:
    out, _ = run(str(folder))
    assert Lead.objects.count() == 2
    assert LoanApplication.objects.count() == 2
    assert "leads.csv: 2 rows, 2 created, 0 updated" in out
    assert "applications.csv: 2 rows, 2 created, 0 updated" in out
    assert "'campaign'" in out  # the extra column's warning
    assert "metrics refreshed" in out
    assert [(c["kind"], c["first_day"], c["last_day"]) for c in changes] == [
        ("leads", date(2026, 3, 1), date(2026, 3, 4)),
        ("applications", date(2026, 3, 2), date(2026, 3, 5)),
    ]
    assert all(run.refreshed_at for run in ImportRun.objects.all())

    again, _ = run(str(folder / "leads.csv"))
    assert "leads.csv: 2 rows, 0 created, 0 updated" in again


@pytest.mark.django_db
def test_no_refresh_stores_only(folder: Path, changes: list[dict[str, Any]]) -> None:
    out, _ = run(str(folder / "leads.csv"), "--no-refresh")
    assert Lead.objects.count() == 2
    assert changes == []
    assert ImportRun.objects.get().refreshed_at is None
    assert "refreshed" not in out


@pytest.mark.django_db
def test_a_bad_file_prints_every_bad_row_and_nothing_is_imported(
    folder: Path, changes: list[dict[str, Any]]
) -> None:
    (folder / "applications.csv").write_text(BAD_APPLICATIONS, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"applications\.csv was rejected \(2 errors\)"):
        call_command("import_loanbook", str(folder), stdout=out, stderr=err)
    printed = err.getvalue()
    assert "line 2, column decided_at: is required when the decision is approved" in printed
    assert "line 3, column region: 'all' is reserved" in printed
    # All or nothing: the good leads file of the same call is not kept either.
    assert not Lead.objects.exists()
    assert not LoanApplication.objects.exists()
    assert changes == []
    rejected = ImportRun.objects.get()
    assert (rejected.kind, rejected.status, len(rejected.errors)) == ("applications", "rejected", 2)


def test_a_file_name_that_names_no_kind_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "borrowers.csv").write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"borrowers\.csv"):
        run(str(tmp_path))


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="neither a file nor a folder"):
        run(str(tmp_path / "nowhere.csv"))
    with pytest.raises(CommandError, match=r"no \.csv file"):
        run(str(tmp_path))


@pytest.mark.django_db
def test_long_files_show_progress(tmp_path: Path) -> None:
    body = "".join(f"L{i},2026-03-01,E,web\n" for i in range(100_000))
    (tmp_path / "leads.csv").write_text("lead_id,created_at,region,channel\n" + body)
    out, _ = run(str(tmp_path / "leads.csv"), "--no-refresh")
    assert "leads.csv: 100,000 rows read" in out
    assert Lead.objects.count() == 100_000
