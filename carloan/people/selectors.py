"""Reads of people and access."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from carloan.people.models import ApiToken


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
