"""An HTTP import is refreshed by a real Celery worker, after the import has committed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User

from carloan.models import ImportRun
from tests.factories import csv_file

LEADS = """
lead_id,created_at,region,channel
L1,2026-03-01T09:00:00Z,EAST-01,web
L2,2026-03-04T09:00:00Z,EAST-02,partner
"""


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_refreshes_an_http_import(
    celery_worker_process: str,
    risk_head: User,
    client_for: Any,
) -> None:
    response = client_for(risk_head).post(
        "/api/imports/", {"kind": "leads", "file": csv_file(LEADS)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    run = ImportRun.objects.get(pk=response.json()["run_id"])
    deadline = time.monotonic() + 20
    while run.refreshed_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    assert run.refreshed_at is not None, "the worker did not refresh the import in 20 s"
    assert run.refreshed_at >= run.started_at
