"""Writes of people and access: API tokens; people and roles; saved views.

A token is `cl_` and 40 random URL-safe characters; the database keeps its SHA-256 (a
high-entropy secret needs no slow hash) and its first 7 characters. It expires (90 days by
default, at most a year) and can be revoked; an expired or revoked token authenticates no one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from carloan.departments import DEPARTMENTS
from carloan.people import selectors
from carloan.people.audit import record
from carloan.people.models import ApiToken, SavedView
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


# ---- saved views ---------------------------------------------------------------------------------
#
# Not in the audit trail: a saved view is a link to a page, not access to anything (whoever
# opens it still needs the page's own rights), and the trail keeps what an auditor asks about.

VIEW_NAME_MAX = 80
VIEW_PATH_MAX = 200
VIEW_QUERY_MAX = 1000
VIEW_QUERY_FIELDS_MAX = 50
VIEWS_MAX = 100

# The pages a view may open, by URL name (contract section 4a and the pages built since): never
# the API, the admin, sign-in and -out, a form's action or a share link itself.
VIEW_PAGES = frozenset(
    {
        "dashboard",
        "metric-detail",
        "kanban",
        "kanban-flow",
        "kpi",
        "kpi-review",
        "parameters",
        "valuation",
        "risk",
        "compliance",
        "notifications",
        "imports",
        "people",
        "audit",
    }
)
# A local path only: "/" then segments of URL-safe characters, none starting with a dot, each
# ending in "/" (so no scheme, no host, no "//", no backslash, no "..", no encoded tricks).
_LOCAL_PATH = re.compile(r"/(?:[A-Za-z0-9_~-][A-Za-z0-9_.~-]*/)*")
# Query keys that are not a page's state: `home` only says "the plain dashboard, not my start
# page" (selectors.view_url adds it back where it is needed).
# Not part of a page's state: `home` (the dashboard itself), `format` (a download: a saved or
# pinned view must not start one, audited in the name of whoever opens it).
_DROPPED_KEYS = frozenset({selectors.HOME_KEY, "format"})


def _clean_view_name(name: str) -> tuple[str, list[str]]:
    text = (name or "").strip()
    if not 1 <= len(text) <= VIEW_NAME_MAX:
        return text, [_("A name of 1 to %(max)d characters.") % {"max": VIEW_NAME_MAX}]
    if any(unicodedata.category(char) == "Cc" for char in text):
        return text, [_("A name without control characters.")]
    return text, []


def _clean_view_path(path: str) -> tuple[str, list[str]]:
    from django.urls import Resolver404, resolve

    text = (path or "").strip()
    refused = [_("A page of this site, such as /kanban/ (its path only, without the address).")]
    if len(text) > VIEW_PATH_MAX or not _LOCAL_PATH.fullmatch(text):
        return text, refused
    try:
        match = resolve(text)
    except Resolver404:
        return text, refused
    if match.url_name not in VIEW_PAGES:
        return text, [_("This page cannot be saved as a view.")]
    return text, []


def _clean_view_query(query: str) -> tuple[str, list[str]]:
    """The query string, re-encoded from its parsed fields (so it cannot carry anything but
    fields: a `#`, a line break or a stray `?` come out encoded)."""
    text = (query or "").strip()
    text = text[1:] if text.startswith("?") else text
    too_long = [_("A query string of at most %(max)d characters.") % {"max": VIEW_QUERY_MAX}]
    if len(text) > VIEW_QUERY_MAX:
        return text, too_long
    try:
        fields = parse_qsl(text, keep_blank_values=True, max_num_fields=VIEW_QUERY_FIELDS_MAX)
    except ValueError:
        return text, [
            _("A query string of at most %(max)d fields.") % {"max": VIEW_QUERY_FIELDS_MAX}
        ]
    cleaned = urlencode([(key, value) for key, value in fields if key not in _DROPPED_KEYS])
    return cleaned, (too_long if len(cleaned) > VIEW_QUERY_MAX else [])


def _view_of_owner(*, user: Any, view_id: int) -> SavedView:
    """The view `view_id` for a change by `user`: 404 when they cannot see it, 403 when they
    can (shared with them) but it is not theirs."""
    view = selectors.saved_view_visible(user, view_id=view_id)
    if view is None:
        raise Http404(f"There is no saved view {view_id}.")
    if view.owner_id != user.pk:
        raise PermissionDenied(_("Only its owner may change or delete a saved view."))
    return view


def _name_taken(owner: Any, name: str, *, but: int | None = None) -> list[str]:
    views = SavedView.objects.filter(owner=owner, name__iexact=name)
    if but is not None:
        views = views.exclude(pk=but)
    return [_("You have a view of this name already.")] if views.exists() else []


def _save_view(view: SavedView, name_field: str = "name") -> None:
    """Save `view`; the (owner, name) rule broken by a concurrent save is a field error too."""
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise ValidationError({name_field: [_("You have a view of this name already.")]}) from None


def saved_view_create(
    *,
    owner: Any,
    name: str,
    path: str,
    query: str = "",
    shared: bool = False,
    pinned: bool = False,
) -> SavedView:
    """Save a page as `owner` sees it (its path and query string) under a name unique among
    their views; shared, every colleague sees it and may open its link; pinned, `/` opens it for
    the owner. Bad input is a ValidationError with every field's problems, and nothing is kept."""
    from django.db import transaction

    name, name_errors = _clean_view_name(name)
    path, path_errors = _clean_view_path(path)
    query, query_errors = _clean_view_query(query)
    errors = {
        field: problems
        for field, problems in (
            ("name", name_errors or _name_taken(owner, name)),
            ("path", path_errors),
            ("query", query_errors),
        )
        if problems
    }
    if errors:
        raise ValidationError(errors)
    if SavedView.objects.filter(owner=owner).count() >= VIEWS_MAX:
        raise ValidationError(
            {"detail": [_("At most %(max)d saved views: delete one first.") % {"max": VIEWS_MAX}]}
        )
    now = timezone.now()
    view = SavedView(
        owner=owner,
        name=name,
        path=path,
        query=query,
        shared=bool(shared),
        slug=secrets.token_urlsafe(9),
        created_at=now,
        updated_at=now,
    )
    with transaction.atomic():
        _save_view(view)
        if pinned:
            _pin(owner, view)
    return view


def saved_view_update(
    *,
    user: Any,
    view_id: int,
    name: str | None = None,
    path: str | None = None,
    query: str | None = None,
    shared: bool | None = None,
) -> SavedView:
    """Rename a view, point it at another page state, or share or stop sharing it (its owner
    only). Unshared, it stops being the start page of the colleagues who had pinned it."""
    from django.db import transaction

    from carloan.models import Profile

    view = _view_of_owner(user=user, view_id=view_id)
    errors: dict[str, list[str]] = {}
    if name is not None:
        view.name, problems = _clean_view_name(name)
        problems = problems or _name_taken(user, view.name, but=view.pk)
        if problems:
            errors["name"] = problems
    if path is not None:
        view.path, problems = _clean_view_path(path)
        if problems:
            errors["path"] = problems
    if query is not None:
        view.query, problems = _clean_view_query(query)
        if problems:
            errors["query"] = problems
    if errors:
        raise ValidationError(errors)
    unshared = shared is not None and view.shared and not shared
    if shared is not None:
        view.shared = bool(shared)
    view.updated_at = timezone.now()
    with transaction.atomic():
        _save_view(view)
        if unshared:
            Profile.objects.filter(start_view=view).exclude(user=user).update(start_view=None)
    return view


def saved_view_delete(*, user: Any, view_id: int) -> None:
    """Delete a view (its owner only); whoever had it as start page opens the dashboard again."""
    _view_of_owner(user=user, view_id=view_id).delete()


def _pin(user: Any, view: SavedView | None) -> None:
    from carloan.models import Profile

    profile, _created = Profile.objects.update_or_create(user=user, defaults={"start_view": view})
    # The request's user object (loaded with its profile) says the same from now on.
    user._meta.get_field("profile").set_cached_value(user, profile)


def saved_view_pin(*, user: Any, view_id: int) -> SavedView:
    """Make a view `user` can see (their own or one shared with them) their start page: `/`
    with no query string opens it. One start page a person; pinning another replaces it."""
    view = selectors.saved_view_visible(user, view_id=view_id)
    if view is None:
        raise Http404(f"There is no saved view {view_id}.")
    _pin(user, view)
    return view


def saved_view_unpin(*, user: Any, view_id: int) -> SavedView:
    """`/` opens the dashboard again, if `view_id` was the start page (else nothing changes).
    One's start page can be unpinned even when its owner has stopped sharing it."""
    pinned = selectors.start_view_id(user)
    view = (
        SavedView.objects.select_related("owner").filter(pk=view_id).first()
        if pinned == view_id
        else selectors.saved_view_visible(user, view_id=view_id)
    )
    if view is None:
        raise Http404(f"There is no saved view {view_id}.")
    if pinned == view.pk:
        _pin(user, None)
    return view
