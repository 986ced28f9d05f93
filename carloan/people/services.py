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

from carloan.departments import DEPARTMENTS
from carloan.people.audit import record
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
    record("token_created", actor=user, target=name or "", detail=f"{days} days")
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
        record("token_revoked", actor=user, target=f"{token.name} ({token.prefix}…)")
    return token


def tokens_revoke_all(user: Any) -> int:
    """Revoke every token of a person (deactivation)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


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
        record("person_deactivated", actor=by, target=user.get_username())
    return user


ROLE_NAMES = ("viewer", "department_head", "manager")


def _require_manager(by: Any, what: str) -> None:
    if by is None or not is_manager(by):
        raise PermissionDenied(f"Only managers may {what}.")


def _check_role(role: str, department: str) -> None:
    errors: dict[str, list[str]] = {}
    if role not in ROLE_NAMES:
        errors["role"] = [f"One of {', '.join(ROLE_NAMES)}."]
    if department and department not in DEPARTMENTS:
        errors["department"] = [f"One of {', '.join(DEPARTMENTS)}, or none."]
    if role == "department_head" and not department:
        errors["department"] = ["A department head needs a department."]
    if errors:
        raise ValidationError(errors)


def _set_role(user: Any, role: str, department: str) -> None:
    from django.contrib.auth.models import Group

    from carloan.models import Profile

    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    Profile.objects.update_or_create(user=user, defaults={"department": department})


def _temporary_password() -> str:
    return secrets.token_urlsafe(12)


def person_create(
    *, by: Any, username: str, email: str = "", role: str, department: str = ""
) -> tuple[Any, str]:
    """A manager adds a person with a role and department: (the person, a temporary password
    to hand over; they change it on /account/)."""
    from django.contrib.auth import get_user_model
    from django.core.validators import validate_email
    from django.db import transaction

    _require_manager(by, "add people")
    model = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 150:
        errors["username"] = ["A user name of 1 to 150 characters."]
    elif model.objects.filter(username=username).exists():
        errors["username"] = [f"{username} exists already."]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["An e-mail address, or nothing."]
    if errors:
        raise ValidationError(errors)
    _check_role(role, department)
    password = _temporary_password()
    with transaction.atomic():
        user = model.objects.create_user(username=username, email=email, password=password)
        _set_role(user, role, department)
        record("person_added", actor=by, target=username, detail=f"{role} {department}".strip())
    return user, password


def person_update(*, by: Any, user_id: int, role: str, department: str = "") -> Any:
    """A manager changes a person's role and department (not their own role: another manager
    does that, so the last manager cannot lock everyone out)."""
    from django.contrib.auth import get_user_model

    _require_manager(by, "change roles")
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(f"There is no person {user_id}.")
    _check_role(role, department)
    if user.pk == by.pk and role != "manager":
        raise ValidationError({"role": ["You cannot take your own manager role away."]})
    from carloan.roles import department_of, role_of

    before = f"{role_of(user)} {department_of(user)}".strip()
    _set_role(user, role, department)
    after = f"{role} {department}".strip()
    record("role_changed", actor=by, target=user.get_username(), detail=f"{before} → {after}")
    return user


def person_reactivate(*, by: Any, user_id: int) -> Any:
    from django.contrib.auth import get_user_model

    _require_manager(by, "reactivate people")
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(f"There is no person {user_id}.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    record("person_reactivated", actor=by, target=user.get_username())
    return user


def person_password_reset(*, by: Any, user_id: int) -> tuple[Any, str]:
    """A manager sets a temporary password (shown once) for a person who lost theirs; their
    sessions end (Django ties a session to the password)."""
    from django.contrib.auth import get_user_model

    _require_manager(by, "reset passwords")
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(f"There is no person {user_id}.")
    password = _temporary_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    record("password_reset", actor=by, target=user.get_username())
    return user, password
