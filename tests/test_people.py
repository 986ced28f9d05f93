"""People and access (contract section 12): the createuser command, the admin registered with
audit tables read only, and deactivation signing a person out everywhere at once (sessions,
tokens, open sockets)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from carloan.asgi import application
from carloan.realtime import CLOSE_UNAUTHENTICATED
from tests.factories import make_user, token_for

WAIT = 5


@pytest.mark.django_db
def test_createuser_makes_a_department_head_with_a_checked_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEW_PASSWORD", "a-long-enough-pass-2026")
    out = io.StringIO()
    call_command(
        "createuser",
        "ruth",
        "--role",
        "department_head",
        "--department",
        "risk",
        "--password-env",
        "NEW_PASSWORD",
        stdout=out,
    )
    user = User.objects.get(username="ruth")
    assert user.check_password("a-long-enough-pass-2026")
    assert list(user.groups.values_list("name", flat=True)) == ["department_head"]
    assert user.profile.department == "risk"
    assert "Created ruth: department_head (risk)." in out.getvalue()
    with pytest.raises(CommandError, match="exists already"):
        call_command("createuser", "ruth", "--role", "viewer", "--password-env", "NEW_PASSWORD")
    monkeypatch.setenv("WEAK", "123")
    with pytest.raises(CommandError, match="password is refused"):
        call_command("createuser", "pat", "--role", "viewer", "--password-env", "WEAK")
    with pytest.raises(CommandError, match="needs --department"):
        call_command(
            "createuser", "dan", "--role", "department_head", "--password-env", "NEW_PASSWORD"
        )
    call_command(
        "createuser", "ruth", "--role", "manager", "--password-env", "NEW_PASSWORD", "--update"
    )
    assert list(User.objects.get(username="ruth").groups.values_list("name", flat=True)) == [
        "manager"
    ]


@pytest.mark.django_db
def test_the_admin_shows_people_with_departments_and_audit_tables_read_only() -> None:
    User.objects.create_superuser("root_admin", "a@example.com", "x-long-pass-2026")
    client = Client()
    client.force_login(User.objects.get(username="root_admin"))
    person = make_user("pia", "department_head", "tech")
    page = client.get(f"/admin/auth/user/{person.pk}/change/")
    assert page.status_code == 200 and b"department" in page.content
    assert client.get("/admin/carloan/parameterchange/").status_code == 200
    assert client.get("/admin/carloan/apitoken/").status_code == 200
    assert client.get("/admin/carloan/parameterchange/add/").status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_deactivation_signs_a_person_out_everywhere_at_once() -> None:
    manager = await database_sync_to_async(make_user)("mona_manager", "manager")
    person = await database_sync_to_async(make_user)("leo_leaving", "department_head", "tech")
    key = await database_sync_to_async(token_for)(person)
    browser = Client()
    await database_sync_to_async(browser.force_login)(person)
    socket = WebsocketCommunicator(
        application,
        "/ws/imports/",
        headers=[(b"authorization", f"Token {key}".encode()), (b"origin", b"http://localhost")],
    )
    assert (await socket.connect(timeout=WAIT))[0]
    await socket.receive_json_from(timeout=WAIT)  # the snapshot

    boss = Client()
    await database_sync_to_async(boss.force_login)(manager)
    answer = await sync_to_async(boss.post)(f"/api/people/{person.pk}/deactivate/")
    assert answer.status_code == 200

    closed = await socket.receive_output(timeout=WAIT)
    assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_UNAUTHENTICATED)
    # the session and the token open nothing any more
    page = await sync_to_async(browser.get)("/")
    assert page.status_code == 302 and "/login/" in page["Location"]
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert (await sync_to_async(api.get)("/api/metrics/")).status_code == 401


@pytest.mark.django_db
def test_only_managers_deactivate_and_not_themselves(client_for: Any, manager: User) -> None:
    head = make_user("hal_head", "department_head", "risk")
    viewer = make_user("val_viewer", "viewer")
    assert client_for(head).post(f"/api/people/{viewer.pk}/deactivate/").status_code == 403
    assert client_for(manager).post(f"/api/people/{manager.pk}/deactivate/").status_code == 400
    assert client_for(manager).post("/api/people/999999/deactivate/").status_code == 404


@pytest.mark.django_db
def test_a_manager_adds_a_person_sets_their_role_and_resets_a_password(manager: User) -> None:
    from django.contrib.messages import get_messages

    boss = Client()
    boss.force_login(manager)
    assert b'href="/people/"' in boss.get("/").content  # in a manager's navigation
    added = boss.post(
        "/people/",
        {
            "action": "create",
            "username": "nina",
            "email": "nina@example.com",
            "role": "department_head",
            "department": "marketing",
        },
    )
    assert added.status_code == 302
    [note] = [str(m) for m in get_messages(added.wsgi_request)]
    password = note.rsplit(": ", 1)[1]
    nina = User.objects.get(username="nina")
    assert nina.check_password(password) and nina.profile.department == "marketing"
    assert Client().login(username="nina", password=password)

    bad = boss.post("/people/", {"action": "create", "username": "nina", "role": "department_head"})
    assert bad.status_code == 400
    assert "exists already" in bad.content.decode()
    assert (
        boss.post(
            "/people/", {"action": "role", "user": nina.pk, "role": "department_head"}
        ).status_code
        == 400
    )  # a department head needs a department
    moved = boss.post(
        "/people/", {"action": "role", "user": nina.pk, "role": "manager", "department": ""}
    )
    assert moved.status_code == 302
    assert list(User.objects.get(pk=nina.pk).groups.values_list("name", flat=True)) == ["manager"]
    reset = boss.post("/people/", {"action": "password", "user": nina.pk})
    new = [str(m) for m in get_messages(reset.wsgi_request)][-1].rsplit(": ", 1)[1]
    assert User.objects.get(pk=nina.pk).check_password(new)


@pytest.mark.django_db
def test_people_is_for_managers_only(risk_head: User) -> None:
    client = Client()
    client.force_login(risk_head)
    assert client.get("/people/").status_code == 403
    assert b'href="/people/"' not in client.get("/").content


@pytest.mark.django_db
def test_the_audit_trail_records_and_filters_and_exports_safely(
    manager: User, risk_head: User, client_for: Any
) -> None:
    from carloan.parameters.services import parameters_change

    # a failed and a good sign-in, a refusal, a role change, a token, a parameter change
    assert not Client().login(username=risk_head.username, password="wrong")
    browser = Client()
    browser.post("/login/", {"username": risk_head.username, "password": "s3cret-pass-for-tests"})
    assert client_for(risk_head).put("/api/kpi/departments/risk/kpis/", {}).status_code == 403
    boss = Client()
    boss.force_login(manager)
    boss.post(
        "/people/",
        {"action": "role", "user": risk_head.pk, "role": "manager", "department": "risk"},
    )
    client_for(manager).post("/api/auth/tokens/", {"name": '=HYPERLINK("x")'}, format="json")
    parameters_change(
        changes={"marketing.lead_score_cutoff": (55, 1)}, user=manager, reason="tighter"
    )

    page = boss.get("/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    for action in (
        "sign_in_failed",
        "sign_in",
        "permission_refused",
        "role_changed",
        "token_created",
        "parameter_changed",
    ):
        assert f'data-action="{action}"' in html, action
    assert "department_head risk → manager risk" in html
    only = boss.get("/audit/", {"action": "permission_refused"}).content.decode()
    assert (
        "PUT /api/kpi/departments/risk/kpis/" in only and 'data-action="role_changed"' not in only
    )
    mine = boss.get("/audit/", {"actor": risk_head.username}).content.decode()
    assert "HYPERLINK" not in mine and "lead_score_cutoff" not in mine  # the manager's

    export = boss.get("/audit/", {"format": "csv", "action": "token_created"})
    assert export["Content-Type"].startswith("text/csv")
    text = b"".join(export.streaming_content).decode("utf-8-sig")  # streamed
    assert "'=HYPERLINK" in text  # a formula is escaped
    assert Client().get("/audit/").status_code == 302
    heads = Client()
    heads.force_login(make_user("hugo_head", "department_head", "tech"))
    assert heads.get("/audit/").status_code == 403


@pytest.mark.django_db
def test_a_forgotten_password_is_reset_through_an_emailed_link(settings: Any) -> None:
    import re

    from django.core import mail

    person = make_user("fay_forgot", "viewer")
    person.email = "fay@example.com"
    person.save()
    client = Client()
    assert b'href="/password-reset/"' in client.get("/login/").content
    settings.EMAIL_URL = ""
    refused = client.post("/password-reset/", {"email": "fay@example.com"})
    assert refused.status_code == 200 and b"ask a manager" in refused.content
    assert mail.outbox == []

    settings.EMAIL_URL = "smtp://127.0.0.1:2525"  # the test runner keeps mail in memory
    sent = client.post("/password-reset/", {"email": "fay@example.com"})
    assert sent.status_code == 302 and sent["Location"] == "/password-reset/sent/"
    unknown = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert unknown.status_code == 302  # the same answer: who has an account is not told
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert b'id="new-password-form"' in form.content
    new = "brand-new-pass-2026"
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": new, "new_password2": new},
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    person.refresh_from_db()
    assert person.check_password(new)
    again = client.get(link, follow=True)
    assert b"used or too old" in again.content


@pytest.mark.django_db
def test_a_refused_page_is_in_the_audit_trail(risk_head: User) -> None:
    from carloan.people.models import AuditEvent

    client = Client()
    client.force_login(risk_head)
    assert client.get("/people/").status_code == 403
    event = AuditEvent.objects.get(action="permission_refused")
    assert (event.actor_name, event.target) == (risk_head.username, "GET /people/")
    assert "Only managers" in event.detail
