"""API routes of screening."""

from django.urls import path

from carloan.screening import api

urlpatterns = [
    path(
        "api/risk/applications/<str:application_id>/checks/",
        api.ApplicationChecksView.as_view(),
        name="api-risk-application-checks",
    ),
    path("api/risk/flags/", api.FlagsView.as_view(), name="api-risk-flags"),
    path("api/leads/prescreen/", api.PrescreenView.as_view(), name="api-leads-prescreen"),
]
