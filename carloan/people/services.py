"""Writes of people and access: API tokens.

A token is `cl_` and 40 random URL-safe characters; the database keeps its SHA-256 (a
high-entropy secret needs no slow hash) and its first 7 characters. It expires (90 days by
default, at most a year) and can be revoked; an expired or revoked token authenticates no one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from carloan.people.models import ApiToken
from carloan.roles import is_manager

PREFIX = "cl_"
DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_ACTIVE = 20


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(
    *, user: Any, name: str = "", expires_in_days: int | None = DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """A new token for `user`: (the stored token, the token itself, shown this once)."""
    days = DEFAULT_DAYS if expires_in_days is None else int(expires_in_days)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"expires_in_days": [f"From 1 to {MAX_DAYS} days."]})
    now = timezone.now()
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(
        expires_at__lte=now
    )
    if active.count() >= MAX_ACTIVE:
        raise ValidationError(
            {"detail": [f"At most {MAX_ACTIVE} tokens in use: revoke one you no longer need."]}
        )
    key = PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=(name or "").strip()[:100] or f"Token of {now:%Y-%m-%d}",
        key_hash=hash_key(key),
        prefix=key[:7],
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    return token, key


def token_revoke(*, user: Any, token_id: int) -> ApiToken:
    """Revoke a token: its owner, or a manager for anyone's."""
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise Http404(f"There is no token {token_id}.")
    if token.user_id != user.pk and not is_manager(user):
        raise PermissionDenied("You may revoke only your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def tokens_revoke_all(user: Any) -> int:
    """Revoke every token of a person (deactivation)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def token_used(token: ApiToken) -> None:
    """Note the use, at most once a minute (a write per request would cost more than it tells)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- people --------------------------------------------------------------------------------------


def person_deactivate(*, by: Any, user_id: int) -> Any:
    """A manager deactivates a person: signed out everywhere at once (sessions deleted, tokens
    revoked, open sockets closed); the account and its history stay."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session
    from django.db import transaction

    from carloan.realtime import user_sockets_close

    if by is None or not is_manager(by):
        raise PermissionDenied("Only managers may deactivate people.")
    if by.pk == user_id:
        raise ValidationError({"detail": ["You cannot deactivate yourself."]})
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(f"There is no person {user_id}.")
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        tokens_revoke_all(user)
        mine = [
            session.session_key
            for session in Session.objects.filter(expire_date__gt=timezone.now())
            if str(session.get_decoded().get("_auth_user_id")) == str(user.pk)
        ]
        Session.objects.filter(session_key__in=mine).delete()
        user_sockets_close(user.pk)
    return user
