"""WebSocket routes: the core's own, then each app's `routing.websocket_urlpatterns`.

Apps are found by name (as URL includes are), so the core never imports an app's code directly.
"""

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.urls import path

from carloan.compliance.consumers import ComplianceConsumer
from carloan.consumers import ImportsConsumer
from carloan.parameters.consumers import ParametersConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/imports/", ImportsConsumer.as_asgi()),
    path("ws/parameters/", ParametersConsumer.as_asgi()),
    path("ws/compliance/", ComplianceConsumer.as_asgi()),
]

for _app in ("metrics", "kanban", "valuation"):
    if find_spec(f"{_app}.routing") is not None:
        websocket_urlpatterns += import_module(f"{_app}.routing").websocket_urlpatterns
