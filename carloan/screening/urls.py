"""API routes of screening."""

from django.urls import path

from carloan.screening import api

urlpatterns = [
    path(
        "api/risk/applications/<str:application_id>/checks/",
        api.ApplicationChecksView.as_view(),
        name="api-risk-application-checks",
    ),
    path(
        "api/risk/applications/<str:application_id>/ring/",
        api.RingView.as_view(),
        name="api-risk-application-ring",
    ),
    path("api/risk/flags/", api.FlagsView.as_view(), name="api-risk-flags"),
    path("api/risk/flags/export/", api.FlagsExportView.as_view(), name="api-risk-flags-export"),
    path(
        "api/risk/flags/<str:application_id>/clear/",
        api.FlagClearView.as_view(),
        name="api-risk-flag-clear",
    ),
    path("api/risk/blacklist/", api.BlacklistView.as_view(), name="api-risk-blacklist"),
    path(
        "api/risk/blacklist/changes/",
        api.BlacklistChangesView.as_view(),
        name="api-risk-blacklist-changes",
    ),
    path(
        "api/risk/blacklist/changes/<int:change_id>/confirm/",
        api.BlacklistConfirmView.as_view(),
        name="api-risk-blacklist-confirm",
    ),
    path(
        "api/risk/blacklist/changes/<int:change_id>/reject/",
        api.BlacklistRejectView.as_view(),
        name="api-risk-blacklist-reject",
    ),
    path("api/leads/prescreen/", api.PrescreenView.as_view(), name="api-leads-prescreen"),
    path(
        "api/leads/prescreen/false-invitations/",
        api.FalseInvitationsView.as_view(),
        name="api-leads-false-invitations",
    ),
]
