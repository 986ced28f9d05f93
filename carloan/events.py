"""Typed socket messages of the core (imports)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from carloan.models import ImportRun

IMPORTS_GROUP = "imports"


class ImportRunData(TypedDict):
    id: int
    kind: str
    file_name: str
    imported_by: str
    started_at: str
    status: str
    rows: int
    created: int
    updated: int
    warnings: list[str]
    errors: list[dict[str, Any]]
    first_day: str | None
    last_day: str | None
    refreshed_at: str | None
    refresh_error: str


class ImportsSnapshot(TypedDict):
    type: Literal["imports.snapshot"]
    imports: list[ImportRunData]


class ImportEvent(TypedDict):
    type: Literal["import.completed", "import.refreshed"]
    run: ImportRunData


def import_run_data(run: ImportRun) -> ImportRunData:
    return {
        "id": run.id,
        "kind": run.kind,
        "file_name": run.file_name,
        "imported_by": run.imported_by.get_username() if run.imported_by else "",
        "started_at": run.started_at.isoformat(),
        "status": run.status,
        "rows": run.rows,
        "created": run.created,
        "updated": run.updated,
        "warnings": list(run.warnings),
        "errors": list(run.errors),
        "first_day": run.first_day.isoformat() if run.first_day else None,
        "last_day": run.last_day.isoformat() if run.last_day else None,
        "refreshed_at": run.refreshed_at.isoformat() if run.refreshed_at else None,
        "refresh_error": run.refresh_error,
    }


def imports_snapshot(limit: int = 20) -> ImportsSnapshot:
    runs = ImportRun.objects.select_related("imported_by")[:limit]
    return {"type": "imports.snapshot", "imports": [import_run_data(r) for r in runs]}


def import_event(
    run: ImportRun, type_: Literal["import.completed", "import.refreshed"]
) -> ImportEvent:
    return {"type": type_, "run": import_run_data(run)}
