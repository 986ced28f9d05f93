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
