"""Roles (Django groups) and the permission checks every API view uses.

- `viewer` reads; any signed-in user reads.
- `department_head` (with a department) also edits cards and imports.
- `manager` also edits parameters and KPI definitions and approves calibrations.
- Superusers do everything.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission

VIEWER = "viewer"
DEPARTMENT_HEAD = "department_head"
MANAGER = "manager"
ROLES = (VIEWER, DEPARTMENT_HEAD, MANAGER)

User = AbstractBaseUser | AnonymousUser


@functools.cache
def _user_query(by_token: bool) -> tuple[str, list[Any]]:
    """The statement that loads one user with profile, role names (and token), and the models
    whose columns it reads in order. Built once from the models' metadata.

    Every API request and socket runs it, so it is one plain statement (prepared by the
    connection after its first uses) rather than an ORM query compiled afresh each time: the
    compiled ORM form with ArrayAgg/GROUP BY cost about 4 ms a request on a 2-vCPU machine."""
    from carloan.models import Profile
    from carloan.people.models import ApiToken as Token

    user_model = get_user_model()
    groups = user_model._meta.get_field("groups")
    through = groups.remote_field.through._meta
    group = groups.related_model._meta
    models: list[Any] = [user_model, Profile] + ([Token] if by_token else [])
    aliases = ["u", "p", "t"]
    columns = ", ".join(
        f'{alias}."{field.column}"'
        for alias, model in zip(aliases, models, strict=False)
        for field in model._meta.concrete_fields
    )
    user_pk = user_model._meta.pk.column
    roles = (
        f'ARRAY(SELECT g."{group.get_field("name").column}" FROM "{through.db_table}" ug '
        f'JOIN "{group.db_table}" g ON g."{group.pk.column}" = ug."{groups.m2m_reverse_name()}" '
        f'WHERE ug."{groups.m2m_column_name()}" = u."{user_pk}")'
    )
    profile = Profile._meta
    profile_user = profile.get_field("user").column
    sql = (
        f'SELECT {columns}, {roles} FROM "{user_model._meta.db_table}" u '
        f'LEFT JOIN "{profile.db_table}" p ON p."{profile_user}" = u."{user_pk}" '
    )
    if by_token:
        token = Token._meta
        # The token's last use, noted in the same statement (at most once a minute): a request
        # still costs this one query, and the audit of tokens sees when each was last used.
        used = token.get_field("last_used_at").column
        sql = (
            f'WITH touched AS (UPDATE "{token.db_table}" SET "{used}" = now() '
            f'WHERE "{token.get_field("key_hash").column}" = %s '
            f'AND ("{used}" IS NULL OR "{used}" < now() - interval \'1 minute\') '
            "RETURNING 1) " + sql
        )
        # A token is looked up by its hash, and only while it is neither revoked nor expired.
        sql += (
            f'JOIN "{token.db_table}" t ON t."{token.get_field("user").column}" = u."{user_pk}" '
            f'WHERE t."{token.get_field("key_hash").column}" = %s '
            f'AND t."{token.get_field("revoked_at").column}" IS NULL '
            f'AND (t."{token.get_field("expires_at").column}" IS NULL '
            f'OR t."{token.get_field("expires_at").column}" > now())'
        )
    else:
        sql += f'WHERE u."{user_pk}" = %s'
    return sql, models


def user_with_roles(*, user_id: Any = None, token_key: str | None = None) -> tuple[Any, Any]:
    """(user, token) for a user id or an API token key, with the user's role names and profile
    (department) loaded in the same statement; (None, None) when there is no such user. The
    token is None when looked up by id."""
    from carloan.people.services import hash_key

    sql, models = _user_query(by_token=token_key is not None)
    with connection.cursor() as cursor:
        if token_key is not None:
            cursor.execute(sql, [hash_key(token_key)] * 2)
        else:
            cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None, None
    instances: list[Any] = []
    start = 0
    for model in models:
        fields = model._meta.concrete_fields
        values = row[start : start + len(fields)]
        start += len(fields)
        present = values[0] is not None  # a LEFT JOIN with no profile gives NULLs
        attnames = [field.attname for field in fields]
        instances.append(model.from_db(connection.alias, attnames, values) if present else None)
    user, profile = instances[0], instances[1]
    user._role_names = {name for name in row[-1] if name}
    # As select_related would: `user.profile` (or its absence) costs no further query.
    user._meta.get_field("profile").set_cached_value(user, profile)
    token = instances[2] if len(instances) > 2 else None
    if token is not None:
        token._meta.get_field("user").set_cached_value(token, user)
    return user, token


class RoleLoadingBackend(ModelBackend):
    """Django's model backend (passwords, is_active), loading the signed-in user with roles."""

    def get_user(self, user_id: Any) -> Any:
        user, _ = user_with_roles(user_id=user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


class RoleLoadingTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, with the user's roles in the same query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = user_with_roles(token_key=key)
        if user is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return user, token


# For views whose anonymous callers should get 401 (with WWW-Authenticate) rather than 403.
TOKEN_FIRST = [RoleLoadingTokenAuthentication, SessionAuthentication]


def user_for_token(key: str) -> Any:
    """The active user of an API token, with roles; None for an unknown key or inactive user."""
    user, _ = user_with_roles(token_key=key)
    return user if user is not None and user.is_active else None


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


def is_risk_control(user: Any) -> bool:
    """Risk control's department heads and managers: they confirm blacklist entries, import the
    blacklist and clear flags."""
    return is_manager(user) or bool(
        user.is_authenticated and DEPARTMENT_HEAD in _groups(user) and department_of(user) == "risk"
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
