"""API routes of risk collaboration, under /api/compliance/."""

from django.urls import path

from carloan.compliance import api

urlpatterns = [
    path("check/", api.CheckView.as_view(), name="api-compliance-check"),
    path("scripts/", api.ScriptsView.as_view(), name="api-compliance-scripts"),
    path("scripts/<int:script_id>/", api.ScriptView.as_view(), name="api-compliance-script"),
    path(
        "scripts/<int:script_id>/history/",
        api.ScriptHistoryView.as_view(),
        name="api-compliance-script-history",
    ),
    path("calls/", api.CallsView.as_view(), name="api-compliance-calls"),
    # Before the call's own route: `export` is read as the download, not as a call id.
    path("calls/export/", api.CallsExportView.as_view(), name="api-compliance-calls-export"),
    path("calls/<str:call_id>/", api.CallView.as_view(), name="api-compliance-call"),
    path(
        "calls/<str:call_id>/verdicts/",
        api.CallVerdictView.as_view(),
        name="api-compliance-call-verdicts",
    ),
    path("precision/", api.PrecisionView.as_view(), name="api-compliance-precision"),
    path("library/", api.LibraryView.as_view(), name="api-compliance-library"),
    path("library/<str:category>/", api.CategoryView.as_view(), name="api-compliance-category"),
    path(
        "library/<str:category>/history/",
        api.CategoryHistoryView.as_view(),
        name="api-compliance-category-history",
    ),
    path(
        "library/<str:category>/revert/",
        api.CategoryRevertView.as_view(),
        name="api-compliance-category-revert",
    ),
    path("matrix/", api.MatrixView.as_view(), name="api-compliance-matrix"),
    path("figures/", api.FiguresView.as_view(), name="api-compliance-figures"),
    path("evaluation/", api.EvaluationView.as_view(), name="api-compliance-evaluation"),
]
