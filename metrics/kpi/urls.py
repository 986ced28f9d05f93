"""Routes of KPI scoring: the API under /api/kpi/ and the pages /kpi/ and /kpi/review/.
Included by metrics/urls.py."""

from typing import Any

from django.urls import path

from metrics.kpi import api, views

api_urlpatterns: list[Any] = [
    path("api/kpi/departments/", api.DepartmentListView.as_view(), name="api-kpi-departments"),
    path(
        "api/kpi/departments/<str:department>/kpis/",
        api.KPISetView.as_view(),
        name="api-kpi-set",
    ),
    path(
        "api/kpi/departments/<str:department>/kpis/history/",
        api.KPISetHistoryView.as_view(),
        name="api-kpi-set-history",
    ),
    path("api/kpi/scorecards/", api.ScorecardsView.as_view(), name="api-kpi-scorecards"),
    path("api/kpi/trends/", api.TrendsView.as_view(), name="api-kpi-trends"),
    path("api/kpi/allocation/", api.AllocationView.as_view(), name="api-kpi-allocation"),
    path(
        "api/kpi/reviews/<str:quarter>/actions/",
        api.ReviewActionsView.as_view(),
        name="api-kpi-review-actions",
    ),
    path("api/kpi/review/", api.ReviewView.as_view(), name="api-kpi-review"),
    path("api/kpi/review/pdf/", api.ReviewPDFExportsView.as_view(), name="api-kpi-review-pdf"),
    path(
        "api/kpi/review/pdf/<uuid:export_id>/",
        api.ReviewPDFExportView.as_view(),
        name="api-kpi-review-pdf-status",
    ),
    path(
        "api/kpi/review/pdf/<uuid:export_id>/download/",
        api.ReviewPDFDownloadView.as_view(),
        name="api-kpi-review-pdf-download",
    ),
    path("api/kpi/quarters/", api.QuarterListView.as_view(), name="api-kpi-quarters"),
    path("api/kpi/quarters/<str:quarter>/", api.QuarterView.as_view(), name="api-kpi-quarter"),
    path(
        "api/kpi/quarters/<str:quarter>/close/",
        api.QuarterCloseView.as_view(),
        name="api-kpi-quarter-close",
    ),
    path(
        "api/kpi/quarters/<str:quarter>/reopen/",
        api.QuarterReopenView.as_view(),
        name="api-kpi-quarter-reopen",
    ),
]

page_urlpatterns: list[Any] = [
    path("kpi/", views.kpi_page, name="kpi"),
    path("kpi/review/", views.kpi_review_page, name="kpi-review"),
]

urlpatterns: list[Any] = [*api_urlpatterns, *page_urlpatterns]
