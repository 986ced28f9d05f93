"""The quarterly review as a PDF (printed by the system Chromium), and the pages behind it: the
document opens, has a page per department with its charts, and follows the request's language;
the /kpi/ page and the review mode render for everyone signed in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

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
    assert html.count('class="print-page"') == len(DEPARTMENTS) + 2  # cover and alerts
    assert "plotly.min.js" in html and "file://" in html  # plotly.js from the package, no network
    assert "http://" not in html and "https://" not in html
    assert "2026Q3 (2026-07-01 – 2026-09-30)" in html  # the filters it was made with


@pytest.mark.skipif(chromium_path() is None, reason="no Chromium to print with")
def test_the_review_pdf_opens_with_a_page_per_department(viewer: User, client_for: Clients) -> None:
    response = client_for(viewer).get("/api/kpi/review/", {"quarter": "2026Q3", "format": "pdf"})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="kpi-review-2026Q3.pdf"' in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF-")
    assert pdf_page_count(data) >= len(DEPARTMENTS) + 1
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


def test_a_bad_quarter_is_400_even_as_pdf(viewer: User, client_for: Clients) -> None:
    response = client_for(viewer).get("/api/kpi/review/", {"quarter": "nope", "format": "pdf"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


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
    assert review.content.decode().count('<section class="slide') == len(DEPARTMENTS) + 4
    assert signed_in(viewer).get("/kpi/review/", {"quarter": "2026Q7"}).status_code == 400
    assert Client().get("/kpi/").status_code == 302  # signed out: to the login form
