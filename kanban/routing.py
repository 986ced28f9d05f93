"""WebSocket routes of the kanban (picked up by `carloan.routing`)."""

from typing import Any

from django.urls import path

from kanban.consumers import KanbanConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/kanban/<int:board_id>/", KanbanConsumer.as_asgi()),
]
