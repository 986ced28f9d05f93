"""The quarterly review as a PDF (printed by the system Chromium), and the pages behind it: the
document opens, has a page per department with its charts, and follows the request's language;
the /kpi/ page and the review mode render for everyone signed in."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client
from rest_framework.test import APIClient

from metrics.kpi.exports import chromium_path, pdf_page_count
from metrics.kpi.quarters import Quarter
from metrics.kpi.scoring import DEPARTMENTS
from metrics.kpi.views import print_context
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
Clients = Callable[[User | None], APIClient]
RESULTS = Path(__file__).resolve().parents[1] / "test-results"


def signed_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_print_rendering_has_a_page_per_department_with_its_charts(viewer: User) -> None:
    html = render_to_string(
        "kpi_review_print.html", print_context(Quarter.parse("2026Q3"), user=viewer, language="en")
    )
    for department in DEPARTMENTS:
        assert f'data-department="{department}"' in html
        assert f'data-figure="departments.{department}.score"' in html
    assert html.count('class="print-page"') == len(DEPARTMENTS) + 3  # cover, alerts, decisions
    assert "plotly.min.js" in html and "file://" in html  # plotly.js from the package, no network
    assert "http://" not in html and "https://" not in html
    assert "2026Q3 (2026-07-01 – 2026-09-30)" in html  # the filters it was made with


@pytest.mark.skipif(chromium_path() is None, reason="no Chromium to print with")
def request_pdf(client: APIClient, quarter: str = "2026Q3") -> Any:
    return client.post("/api/kpi/review/pdf/", {"quarter": quarter}, format="json")


def test_the_review_pdf_is_printed_by_the_worker_with_a_page_per_department(
    viewer: User,
    client_for: Clients,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(viewer)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        asked = request_pdf(client)
    # The web request only records the request: nothing is printed in it.
    assert asked.status_code == 202, asked.content[:300]
    body = asked.json()
    assert body["status"] == "queued" and body["download_url"] is None
    assert asked["Location"] == body["status_url"]
    assert len(queued) == 1
    queued[0]()  # the commit hands it to the worker (here, in-process)

    state = client.get(body["status_url"]).json()
    assert state["status"] == "done", state
    assert state["pages"] >= len(DEPARTMENTS) + 1
    response = client.get(state["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="kpi-review-2026Q3.pdf"' in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF-")
    assert pdf_page_count(data) == state["pages"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kpi-review-test.pdf").write_bytes(data)
    if shutil.which("pdfinfo"):
        import subprocess

        info = subprocess.run(
            ["pdfinfo", str(RESULTS / "kpi-review-test.pdf")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
        assert pages == pdf_page_count(data)


def test_pdf_requests_are_bounded_and_a_repeat_is_the_same_request(
    viewer: User, risk_head: User, client_for: Clients
) -> None:
    client = client_for(viewer)
    first = request_pdf(client, "2026Q3").json()
    assert request_pdf(client, "2026Q3").json()["id"] == first["id"]  # a double click
    assert request_pdf(client, "2026Q2").status_code == 202

    refused = request_pdf(client, "2026Q1")  # a third unfinished one of the same person
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "2 PDFs" in refused.json()["detail"]
    # Another person is not held up by the first one's requests.
    assert request_pdf(client_for(risk_head), "2026Q1").status_code == 202


def test_an_unfinished_pdf_is_not_downloadable(viewer: User, client_for: Clients) -> None:
    client = client_for(viewer)
    body = request_pdf(client).json()
    early = client.get(body["status_url"] + "download/")
    assert early.status_code == 409
    assert "queued" in early.json()["detail"]


def test_a_bad_quarter_is_400_and_the_old_pdf_format_says_where_to_go(
    viewer: User, client_for: Clients
) -> None:
    client = client_for(viewer)
    assert request_pdf(client, "nope").status_code == 400
    old = client.get("/api/kpi/review/", {"quarter": "2026Q3", "format": "pdf"})
    assert old.status_code == 400
    assert old["Content-Type"].startswith("application/json")
    assert "/api/kpi/review/pdf/" in old.json()["detail"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_prints_the_pdf_asked_for_on_the_page(
    celery_worker_process: str,
    viewer: User,
    client_for: Clients,
) -> None:
    client = client_for(viewer)
    body = request_pdf(client).json()
    deadline = time.monotonic() + 120
    while body["status"] in {"queued", "rendering"} and time.monotonic() < deadline:
        time.sleep(0.5)
        body = client.get(body["status_url"]).json()
    assert body["status"] == "done", body
    assert client.get(body["download_url"]).content.startswith(b"%PDF-")


def test_review_json(viewer: User, client_for: Clients) -> None:
    body = client_for(viewer).get("/api/kpi/review/", {"quarter": "2026Q3"}).json()
    assert body["review"]["quarter"] == "2026Q3"
    assert set(body) >= {"review", "trends", "alerts", "parameter_changes"}
    assert body["alerts"]["total"] == 0


def test_pages_render(viewer: User, manager: User) -> None:
    page = signed_in(viewer).get("/kpi/", {"quarter": "2026Q3"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "KPI scorecards and quarterly review" in html
    assert 'id="card-marketing"' in html and 'href="/metrics/lead_conversion_rate/"' in html
    assert 'id="close-quarter"' not in html  # viewers neither close nor edit
    assert 'id="close-quarter"' in signed_in(manager).get("/kpi/").content.decode()
    review = signed_in(viewer).get("/kpi/review/", {"quarter": "2026Q3"})
    assert review.status_code == 200
    assert (
        review.content.decode().count('<section class="slide') == len(DEPARTMENTS) + 6
    )  # overview, alerts, parameters, strategy, hand-offs, actions
    assert signed_in(viewer).get("/kpi/review/", {"quarter": "2026Q7"}).status_code == 400
    assert Client().get("/kpi/").status_code == 302  # signed out: to the login form
