"""Routes of the kanban, included at the root by carloan/urls.py.

`api_urlpatterns` is the JSON API under /api/kanban/; `page_urlpatterns` are the `/kanban/`
board and its `/kanban/flow/` view (`kanban.views`).
"""

from typing import Any

from django.urls import path

from kanban import api, views

api_urlpatterns: list[Any] = [
    path("api/kanban/boards/", api.BoardListView.as_view(), name="api-kanban-boards"),
    path(
        "api/kanban/boards/<int:board_id>/", api.BoardDetailView.as_view(), name="api-kanban-board"
    ),
    path(
        "api/kanban/boards/<int:board_id>/flow/",
        api.BoardFlowView.as_view(),
        name="api-kanban-board-flow",
    ),
    path(
        "api/kanban/boards/<int:board_id>/export/",
        api.BoardExportView.as_view(),
        name="api-kanban-board-export",
    ),
    path("api/kanban/cards/", api.CardCreateView.as_view(), name="api-kanban-cards"),
    path("api/kanban/cards/<int:card_id>/", api.CardDetailView.as_view(), name="api-kanban-card"),
    path(
        "api/kanban/cards/<int:card_id>/move/",
        api.CardMoveView.as_view(),
        name="api-kanban-card-move",
    ),
    path(
        "api/kanban/cards/<int:card_id>/comments/",
        api.CardCommentsView.as_view(),
        name="api-kanban-card-comments",
    ),
    path(
        "api/kanban/cards/<int:card_id>/history/",
        api.CardHistoryView.as_view(),
        name="api-kanban-card-history",
    ),
    path(
        "api/kanban/cards/<int:card_id>/links/",
        api.CardLinksView.as_view(),
        name="api-kanban-card-links",
    ),
    path(
        "api/kanban/cards/<int:card_id>/links/<int:link_id>/",
        api.CardLinkDetailView.as_view(),
        name="api-kanban-card-link",
    ),
]

page_urlpatterns: list[Any] = [
    path("kanban/", views.kanban_page, name="kanban"),
    path("kanban/flow/", views.kanban_flow_page, name="kanban-flow"),
]

urlpatterns: list[Any] = [*api_urlpatterns, *page_urlpatterns]
