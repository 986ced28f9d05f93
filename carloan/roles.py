"""Roles (Django groups) and the permission checks every API view uses.

- `viewer` reads; any signed-in user reads.
- `department_head` (with a department) also edits cards and imports.
- `manager` also edits parameters and KPI definitions and approves calibrations.
- Superusers do everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission

VIEWER = "viewer"
DEPARTMENT_HEAD = "department_head"
MANAGER = "manager"
ROLES = (VIEWER, DEPARTMENT_HEAD, MANAGER)

User = AbstractBaseUser | AnonymousUser


def users_with_roles() -> QuerySet[Any]:
    """Users with their role names and profile (department) in the same query: every request
    needs both, and they would otherwise cost two more round trips each time."""
    return (
        get_user_model()
        .objects.select_related("profile")
        .annotate(role_array=ArrayAgg("groups__name", distinct=True))
    )


def _with_roles(user: Any) -> Any:
    user._role_names = {name for name in user.role_array if name}
    return user


class RoleLoadingBackend(ModelBackend):
    """Django's model backend (passwords, is_active), loading the signed-in user with roles."""

    def get_user(self, user_id: Any) -> Any:
        user = users_with_roles().filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        return _with_roles(user)


class RoleLoadingTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, with the user's roles in the same query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user = users_with_roles().select_related("auth_token").filter(auth_token__key=key).first()
        if user is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return _with_roles(user), user.auth_token


# For views whose anonymous callers should get 401 (with WWW-Authenticate) rather than 403.
TOKEN_FIRST = [RoleLoadingTokenAuthentication, SessionAuthentication]


def user_for_token(key: str) -> Any:
    """The active user of an API token, with roles; None for an unknown key or inactive user."""
    user = users_with_roles().filter(auth_token__key=key).first()
    return _with_roles(user) if user is not None and user.is_active else None


def _groups(user: Any) -> set[str]:
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._role_names = cached
    return cached


def is_manager(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or MANAGER in _groups(user)))


def can_edit(user: Any) -> bool:
    """Department heads and managers edit cards and import files."""
    return bool(
        user.is_authenticated and (user.is_superuser or _groups(user) & {DEPARTMENT_HEAD, MANAGER})
    )


def department_of(user: Any) -> str:
    profile = getattr(user, "profile", None) if user.is_authenticated else None
    return profile.department if profile else ""


def role_of(user: Any) -> str:
    if not user.is_authenticated:
        return ""
    if user.is_superuser or MANAGER in _groups(user):
        return MANAGER
    if DEPARTMENT_HEAD in _groups(user):
        return DEPARTMENT_HEAD
    return VIEWER


class CanRead(BasePermission):
    """Any signed-in user may read; writes need a more specific permission."""

    message = "Sign in first."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or getattr(view, "allow_any_signed_in_write", False)


class CanEditOrRead(BasePermission):
    """Reads for everyone signed in; writes for department heads and managers."""

    message = "Only department heads and managers may change this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or can_edit(request.user)


class ManagerOrRead(BasePermission):
    """Reads for everyone signed in; writes for managers."""

    message = "Only managers may change this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or is_manager(request.user)
