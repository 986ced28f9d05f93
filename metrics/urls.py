"""Routes of the metrics app. Included at the root by carloan/urls.py.

`api_urlpatterns` is the JSON API (under /api/); `page_urlpatterns` is for the dashboard pages
(`/` and `/metrics/<key>/`), added by the pages' own module.
"""

from typing import Any

from django.urls import path

from metrics import api
from metrics.kpi import urls as kpi_urls

api_urlpatterns: list[Any] = [
    path("api/metrics/", api.MetricListView.as_view(), name="api-metrics"),
    path("api/metrics/regions/", api.RegionListView.as_view(), name="api-metrics-regions"),
    path("api/metrics/panels/", api.PanelsView.as_view(), name="api-metrics-panels"),
    path("api/metrics/values/", api.ValuesView.as_view(), name="api-metrics-values"),
    path("api/metrics/series/", api.SeriesView.as_view(), name="api-metrics-series"),
    path("api/metrics/compare/", api.CompareView.as_view(), name="api-metrics-compare"),
    path("api/metrics/samples/", api.SamplesView.as_view(), name="api-metrics-samples"),
    path("api/alerts/", api.AlertListView.as_view(), name="api-alerts"),
]

# The dashboard pages (`/`, `/metrics/<key>/`) go here.
page_urlpatterns: list[Any] = []

# KPI scoring: /api/kpi/..., /kpi/ and /kpi/review/ (metrics/kpi/urls.py).
urlpatterns: list[Any] = [*api_urlpatterns, *page_urlpatterns, *kpi_urls.urlpatterns]
