"""Routes of the valuation app (included at the root by carloan/urls.py)."""

from typing import Any

from django.urls import path

from valuation import api, views

urlpatterns: list[Any] = [
    path("valuation/", views.valuation_page, name="valuation"),
    path("api/valuations/quote/", api.QuoteView.as_view(), name="api-valuation-quote"),
    path("api/valuations/quote/batch/", api.BatchQuoteView.as_view(), name="api-valuation-batch"),
    path(
        "api/valuations/collateral/", api.CollateralView.as_view(), name="api-valuation-collateral"
    ),
    path(
        "api/valuations/collateral/export/",
        api.CollateralExportView.as_view(),
        name="api-valuation-collateral-export",
    ),
    path("api/valuations/models/", api.ModelsView.as_view(), name="api-valuation-models"),
]
