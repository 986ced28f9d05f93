"""Roles (Django groups) and the permission checks every API view uses.

- `viewer` reads; any signed-in user reads.
- `department_head` (with a department) also edits cards and imports.
- `manager` also edits parameters and KPI definitions and approves calibrations.
- Superusers do everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import SAFE_METHODS, BasePermission

VIEWER = "viewer"
DEPARTMENT_HEAD = "department_head"
MANAGER = "manager"
ROLES = (VIEWER, DEPARTMENT_HEAD, MANAGER)

User = AbstractBaseUser | AnonymousUser


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
