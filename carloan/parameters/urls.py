"""Routes of `/api/parameters/` (fixed paths before the `<key>` ones)."""

from django.urls import path

from carloan.parameters import api

urlpatterns = [
    path("", api.ParameterListView.as_view(), name="parameters"),
    path("presets/", api.PresetListView.as_view(), name="parameters-presets"),
    path("presets/<str:name>/apply/", api.PresetApplyView.as_view(), name="parameters-preset"),
    path("requests/", api.RequestListView.as_view(), name="parameters-requests"),
    path("requests/<int:pk>/", api.RequestDetailView.as_view(), name="parameters-request"),
    path(
        "requests/<int:pk>/approve/",
        api.RequestApproveView.as_view(),
        name="parameters-request-approve",
    ),
    path(
        "requests/<int:pk>/reject/",
        api.RequestRejectView.as_view(),
        name="parameters-request-reject",
    ),
    path("calibrate/", api.CalibrateView.as_view(), name="parameters-calibrate"),
    path("<str:key>/", api.ParameterDetailView.as_view(), name="parameter"),
    path("<str:key>/history/", api.ParameterHistoryView.as_view(), name="parameter-history"),
    path("<str:key>/revert/", api.ParameterRevertView.as_view(), name="parameter-revert"),
    path("<str:key>/what-if/", api.WhatIfView.as_view(), name="parameter-what-if"),
]
