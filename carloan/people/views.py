"""`/account/`: one's own password and API tokens (contract section 12); the people and audit
pages; a saved view's link and the start page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carloan.departments import DEPARTMENTS
from carloan.people import selectors, services


@login_required
def account_page(request: HttpRequest) -> HttpResponse:
    """Change one's password (Django's validators); make, list and revoke one's API tokens (the
    new token is shown once, on the page that made it)."""
    password_form = PasswordChangeForm(request.user)
    password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    new_token = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "password":
            password_form = PasswordChangeForm(request.user, request.POST)
            if password_form.is_valid():
                user = password_form.save()
                update_session_auth_hash(request, user)  # stay signed in here
                messages.success(request, _("Your password is changed."))
                return redirect("account")
        elif action == "token":
            try:
                days = int(request.POST.get("expires_in_days") or services.DEFAULT_DAYS)
                _token, new_token = services.token_create(
                    user=request.user, name=request.POST.get("name", ""), expires_in_days=days
                )
            except (ValueError, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        elif action == "revoke":
            try:
                services.token_revoke(user=request.user, token_id=int(request.POST["token"]))
                messages.success(request, _("The token is revoked: it opens nothing any more."))
            except (KeyError, ValueError, Http404, PermissionDenied):
                messages.error(request, _("There is no such token of yours."))
            return redirect("account")
    return render(
        request,
        "account.html",
        {
            "active": "account",
            "password_form": password_form,
            "tokens": selectors.tokens_of(request.user),
            "new_token": new_token,
            "max_days": services.MAX_DAYS,
            "default_days": services.DEFAULT_DAYS,
        },
    )


def _local_minutes(iso: str | None) -> str:
    import datetime as dt

    if not iso:
        return ""
    return f"{timezone.localtime(dt.datetime.fromisoformat(iso)):%Y-%m-%d %H:%M}"


@login_required
def people_page(request: HttpRequest) -> HttpResponse:
    """Managers add people, set their role and department, deactivate or reactivate them and
    reset a lost password (a temporary one, shown once)."""
    from carloan.roles import is_manager

    if not is_manager(request.user):
        raise PermissionDenied("Only managers manage people.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        target = int(request.POST.get("user") or 0)
        try:
            if action == "create":
                user, password = services.person_create(
                    by=request.user,
                    username=request.POST.get("username", ""),
                    email=request.POST.get("email", ""),
                    role=request.POST.get("role", ""),
                    department=request.POST.get("department", ""),
                )
                messages.success(
                    request,
                    _("%(who)s is added. Their temporary password (shown once): %(password)s")
                    % {"who": user.get_username(), "password": password},
                )
            elif action == "role":
                services.person_update(
                    by=request.user,
                    user_id=target,
                    role=request.POST.get("role", ""),
                    department=request.POST.get("department", ""),
                )
                messages.success(request, _("The role is changed."))
            elif action == "deactivate":
                services.person_deactivate(by=request.user, user_id=target)
                messages.success(request, _("Deactivated: signed out everywhere."))
            elif action == "reactivate":
                services.person_reactivate(by=request.user, user_id=target)
                messages.success(request, _("Reactivated."))
            elif action == "password":
                user, password = services.person_password_reset(by=request.user, user_id=target)
                messages.success(
                    request,
                    _("New temporary password of %(who)s (shown once): %(password)s")
                    % {"who": user.get_username(), "password": password},
                )
            return redirect("people")
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        except Http404 as exc:
            errors = {"detail": [str(exc)]}
    return render(
        request,
        "people.html",
        {
            "active": "people",
            "people": [
                {**person, "last_login_text": _local_minutes(person["last_login"])}
                for person in selectors.people()
            ],
            "roles": services.ROLE_NAMES,
            "departments": DEPARTMENTS,
            "errors": errors,
            "me": request.user.pk,
        },
        status=400 if errors else 200,
    )


@login_required
def audit_page(request: HttpRequest) -> HttpResponseBase:
    """The audit trail (managers): filter by action, person and days; `?format=csv` or
    `?format=xlsx` downloads every event the filter finds (the page shows the latest 500),
    spreadsheet-safe and streamed; another format is a 400."""
    import datetime as dt

    from carloan.exports import ExportFormatError, export_response
    from carloan.people import audit
    from carloan.roles import is_manager

    if not is_manager(request.user):
        raise PermissionDenied("Only managers read the audit trail.")

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    filters: dict[str, Any] = {
        "action": request.GET.get("action") or None,
        "actor": (request.GET.get("actor") or "").strip() or None,
        "start": day("start"),
        "end": day("end"),
    }
    if filters["action"] not in (None, *audit.ACTIONS):
        filters["action"] = None
    if "format" in request.GET:
        try:
            return export_response(
                request,
                request.GET["format"],
                f"audit-trail-{timezone.localdate():%Y-%m-%d}",
                audit.TRAIL_COLUMNS,
                audit.trail_rows(**filters),
                sheet_title=_("Audit trail"),
            )
        except ExportFormatError as exc:
            return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    rows = audit.trail(**filters, limit=500)
    for row in rows:
        row["when"] = (
            f"{timezone.localtime(dt.datetime.fromisoformat(row['at'])):%Y-%m-%d %H:%M:%S}"
        )
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "audit.html",
        {
            "active": "audit",
            "rows": rows,
            "actions": audit.ACTIONS,
            "filters": filters,
            "export_query": query.urlencode(),
        },
    )


class PasswordResetView(auth_views.PasswordResetView):
    """The forgotten-password form: a link by e-mail through EMAIL_URL. Without an SMTP server
    it says so (ask a manager, who resets it on /people/) instead of failing to send. Whether the
    address is known is never told."""

    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: Any) -> HttpResponse:
        from django.conf import settings

        if not settings.EMAIL_URL:
            form.add_error(
                None,
                _("E-mail is not set up here: ask a manager to reset your password on People."),
            )
            return self.form_invalid(form)
        from carloan.people import audit

        audit.record("password_reset_asked", detail=form.cleaned_data.get("email", ""))
        return super().form_valid(form)


@login_required
def saved_view_open(request: HttpRequest, slug: str) -> HttpResponse:
    """A saved view's link, `/v/<slug>/`: to the page as it was saved, for its owner and, when
    shared, for anyone signed in; otherwise a 404 (an unshared view's name stays private)."""
    view = selectors.saved_view_visible(request.user, slug=slug)
    if view is None:
        raise Http404("There is no such saved view.")
    return redirect(selectors.view_url(view.path, view.query))


def start_page_first(page: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the dashboard's route: `/` with no query string opens the signed-in person's start
    page (a pinned saved view) instead. Any query string (the navigation's `/?home=1`, a
    region, a period) shows the dashboard itself, so a start page that is the dashboard with
    settings cannot loop."""

    @functools.wraps(page)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            request.method == "GET"
            and not request.META.get("QUERY_STRING")
            and request.user.is_authenticated
        ):
            target = selectors.start_page_of(request.user)
            if target is not None:
                return redirect(target)
        return page(request, *args, **kwargs)

    return wrapper
