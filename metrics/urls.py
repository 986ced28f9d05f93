"""Routes of the metrics app. Included at the root by carloan/urls.py.

`api_urlpatterns` is the JSON API (under /api/); `page_urlpatterns` are the dashboard pages
(`/` and `/metrics/<key>/`, in `metrics.views`).
"""

from typing import Any

from django.urls import path

from carloan.people.views import start_page_first
from metrics import api, views
from metrics.kpi import urls as kpi_urls
from metrics.notify import api as notify_api
from metrics.notify import views as notify_views

api_urlpatterns: list[Any] = [
    path("api/metrics/", api.MetricListView.as_view(), name="api-metrics"),
    path("api/metrics/regions/", api.RegionListView.as_view(), name="api-metrics-regions"),
    path("api/metrics/panels/", api.PanelsView.as_view(), name="api-metrics-panels"),
    path("api/metrics/values/", api.ValuesView.as_view(), name="api-metrics-values"),
    path("api/metrics/series/", api.SeriesView.as_view(), name="api-metrics-series"),
    path("api/metrics/summary/", api.SummaryView.as_view(), name="api-metrics-summary"),
    path("api/metrics/compare/", api.CompareView.as_view(), name="api-metrics-compare"),
    path("api/metrics/samples/", api.SamplesView.as_view(), name="api-metrics-samples"),
    path("api/alerts/", api.AlertListView.as_view(), name="api-alerts"),
    path("api/alerts/export/", api.AlertExportView.as_view(), name="api-alerts-export"),
    path(
        "api/alerts/<int:alert_id>/acknowledge/",
        notify_api.AcknowledgeView.as_view(),
        name="api-alert-acknowledge",
    ),
    path(
        "api/alerts/<int:alert_id>/history/",
        notify_api.AlertHistoryView.as_view(),
        name="api-alert-history",
    ),
    path("api/alerts/silences/", notify_api.SilencesView.as_view(), name="api-alert-silences"),
    path(
        "api/alerts/silences/<int:silence_id>/end/",
        notify_api.SilenceEndView.as_view(),
        name="api-alert-silence-end",
    ),
    path(
        "api/notifications/channels/",
        notify_api.ChannelsView.as_view(),
        name="api-notify-channels",
    ),
    path(
        "api/notifications/channels/<int:channel_id>/",
        notify_api.ChannelView.as_view(),
        name="api-notify-channel",
    ),
    path(
        "api/notifications/channels/<int:channel_id>/test/",
        notify_api.ChannelTestView.as_view(),
        name="api-notify-channel-test",
    ),
    path(
        "api/notifications/deliveries/",
        notify_api.DeliveriesView.as_view(),
        name="api-notify-deliveries",
    ),
]

# The dashboard pages: the live panels and one metric in depth (an unknown key is a 404).
page_urlpatterns: list[Any] = [
    # `/` with no query string opens one's start page (a pinned saved view), if any.
    path("", start_page_first(views.dashboard), name="dashboard"),
    path("metrics/<slug:key>/", views.metric_detail, name="metric-detail"),
    path("notifications/", notify_views.notifications_page, name="notifications"),
    path(
        "alerts/<int:alert_id>/acknowledge/",
        notify_views.acknowledge_page,
        name="alert-acknowledge",
    ),
]

# KPI scoring: /api/kpi/..., /kpi/ and /kpi/review/ (metrics/kpi/urls.py).
urlpatterns: list[Any] = [*api_urlpatterns, *page_urlpatterns, *kpi_urls.urlpatterns]
