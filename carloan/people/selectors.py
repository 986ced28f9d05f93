"""Reads of people and access: tokens, people, saved views and start pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from carloan.people.models import ApiToken, SavedView


def token_data(token: ApiToken) -> dict[str, Any]:
    now = timezone.now()
    state = (
        "revoked"
        if token.revoked_at
        else ("expired" if token.expires_at and token.expires_at <= now else "active")
    )
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "state": state,
    }


def tokens_of(user: Any) -> list[dict[str, Any]]:
    return [token_data(t) for t in ApiToken.objects.filter(user=user)]


def people() -> list[dict[str, Any]]:
    """Everyone, with role, department, state and last sign-in."""
    from django.contrib.auth import get_user_model

    from carloan.roles import department_of, role_of

    rows = get_user_model().objects.select_related("profile").prefetch_related("groups")
    return [
        {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "role": role_of(user),
            "department": department_of(user),
            "is_active": user.is_active,
            "last_login": user.last_login.isoformat() if user.last_login else None,
        }
        for user in rows.order_by("username")
    ]


# ---- saved views ---------------------------------------------------------------------------------

# `/?home=1` is the plain dashboard: `/` with no query string opens one's start page instead.
HOME_KEY = "home"
HOME_URL = f"/?{HOME_KEY}=1"


def view_url(path: str, query: str) -> str:
    """Where a saved view opens: its path and query string (the bare dashboard as `HOME_URL`,
    so that opening it never lands on one's start page instead)."""
    if query:
        return f"{path}?{query}"
    return HOME_URL if path == "/" else path


def share_url(view: SavedView) -> str:
    return f"/v/{view.slug}/"


def _visible_to(user: Any) -> Q:
    return Q(owner_id=user.pk) | Q(shared=True)


def saved_view_visible(
    user: Any, *, view_id: int | None = None, slug: str | None = None
) -> SavedView | None:
    """A view `user` may open (their own, or shared), by id or by its link's slug; else None."""
    views = SavedView.objects.select_related("owner").filter(_visible_to(user))
    if view_id is not None:
        views = views.filter(pk=view_id)
    if slug is not None:
        views = views.filter(slug=slug)
    return views.first() if view_id is not None or slug is not None else None


def start_view_id(user: Any) -> int | None:
    """The id of `user`'s start page, read afresh (None when they have none)."""
    from carloan.models import Profile

    return Profile.objects.filter(user_id=user.pk).values_list("start_view_id", flat=True).first()


def saved_view_data(view: SavedView, *, user: Any, pinned_id: int | None) -> dict[str, Any]:
    return {
        "id": view.pk,
        "name": view.name,
        "path": view.path,
        "query": view.query,
        "url": view_url(view.path, view.query),
        "share_url": share_url(view),
        "shared": view.shared,
        "mine": view.owner_id == user.pk,
        "owner": view.owner.get_username(),
        "pinned": view.pk == pinned_id,
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
    }


def saved_views_for(user: Any) -> list[dict[str, Any]]:
    """`user`'s own views (by name), then those colleagues share (by owner, then name); two
    queries whatever their number."""
    pinned = start_view_id(user)
    views = SavedView.objects.select_related("owner").filter(_visible_to(user))
    rows = [saved_view_data(v, user=user, pinned_id=pinned) for v in views]
    mine = [row for row in rows if row["mine"]]
    shared = sorted((row for row in rows if not row["mine"]), key=lambda r: (r["owner"], r["name"]))
    return mine + shared


def start_page_of(user: Any) -> str | None:
    """Where `/` (with no query string) sends `user`: their start page, while they may still
    open it; None for the dashboard itself. Free when they have none: the profile comes with
    the signed-in user (carloan.roles)."""
    profile = getattr(user, "profile", None)
    pinned = profile.start_view_id if profile is not None else None
    if pinned is None:
        return None
    found = (
        SavedView.objects.filter(_visible_to(user), pk=pinned).values_list("path", "query").first()
    )
    if found is None:
        return None
    path, query = found
    return None if path == "/" and not query else view_url(path, query)
