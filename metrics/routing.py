"""WebSocket routes of the metrics app (picked up by carloan/routing.py)."""

from typing import Any

from django.urls import path

from metrics.consumers import MetricsConsumer

websocket_urlpatterns: list[Any] = [path("ws/metrics/", MetricsConsumer.as_asgi())]
