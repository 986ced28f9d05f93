"""The /valuation/ page: renders with and without a model, in English and Chinese, with the
collateral lists filtered by region and branch from the URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.factories import PASSWORD
from tests.test_valuation_api import _loan, store_sales
from valuation import engine
from valuation.services import collateral_revalue, valuation_fit


@pytest.fixture(autouse=True)
def fresh_model_cache() -> Any:
    engine.forget_active_model()
    yield
    engine.forget_active_model()


def signed_in(user: Any, language: str = "en") -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies["django_language"] = language
    return client


def test_signed_out_is_sent_to_login(db: Any) -> None:
    response = Client().get("/valuation/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_page_without_a_model_says_what_to_run(viewer) -> None:
    response = signed_in(viewer).get("/valuation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="no-model"' in html and "fit_valuation" in html
    assert "/static/plotly/plotly.min.js" in html and "js/valuation.js" in html
    assert "https://" not in html.split("<body")[0]


def test_page_with_model_and_collateral(viewer) -> None:
    store_sales()
    row = valuation_fit()
    _loan("PG1", region="EAST-01", branch="Pudong", principal=400_000, outstanding=400_000,
          appraised=900_000)  # fmt: skip
    _loan("PG2", region="WEST-01", branch="Chengdu", principal=400_000, outstanding=400_000,
          appraised=None)  # fmt: skip
    collateral_revalue()
    client = signed_in(viewer)
    response = client.get("/valuation/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Model v{row.version}" in html
    assert "PPE10" in html and "How the value is computed" in html
    assert 'id="model-support"' in html and "What the sales can carry" in html
    assert 'data-factor="market_timing" data-status="simplified"' in html
    assert "PG1" in html and "PG2" in html
    figure = json.loads(html.split('id="holdout-figure" type="application/json">')[1].split("<")[0])
    assert figure["data"][-1]["type"] == "scatter"  # SVG: no WebGL needed
    assert len(figure["data"][-1]["x"]) == row.holdout_count
    filtered = client.get("/valuation/", {"region": "EAST-01", "branch": "Pudong"}).content.decode()
    assert "PG1" in filtered and "PG2" not in filtered
    assert 'value="Pudong" selected' in filtered


def test_page_in_chinese(viewer) -> None:
    store_sales()
    valuation_fit()
    html = signed_in(viewer, "zh-hans").get("/valuation/").content.decode()
    assert "车辆估值" in html
    assert "估值如何计算" in html and "模型准确度" in html
