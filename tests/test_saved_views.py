"""Saved views (issue 23, item 2): a person saves a page as it is (path and query string) under a
name, shares it by link with colleagues, and pins one as their start page.

Three people: Olga owns the views, Colin is a colleague, Vera another colleague. Bad input is a
400 with field errors and stores nothing; a view opens only pages of this site (never another
host); only its owner changes or deletes it; its link opens for colleagues only when shared;
`/` with no query string opens one's start page, `/?home=1` (the navigation's Dashboard) the
dashboard itself, and a start page that is the dashboard cannot loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from carloan.models import Profile
from carloan.people import services
from carloan.people.models import SavedView
from tests.factories import PASSWORD, make_user

API = "/api/views/"
ClientFor = Callable[[User | None], APIClient]


@pytest.fixture
def olga(db: Any) -> User:
    return make_user("olga_owner", "department_head", "risk")


@pytest.fixture
def colin(db: Any) -> User:
    return make_user("colin_colleague", "viewer")


@pytest.fixture
def vera(db: Any) -> User:
    return make_user("vera_viewer", "viewer")


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def save(owner: User, name: str, path: str = "/kanban/", query: str = "", **more: Any) -> Any:
    return services.saved_view_create(owner=owner, name=name, path=path, query=query, **more)


# ---- creating, and what is refused ------------------------------------------------------------


@pytest.mark.django_db
def test_a_person_saves_a_page_with_its_query_string(client_for: ClientFor, olga: User) -> None:
    answer = client_for(olga).post(
        API,
        {"name": " Risk lane, overdue ", "path": "/kanban/", "query": "?department=risk&overdue=1"},
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["name"] == "Risk lane, overdue"
    assert (body["path"], body["query"]) == ("/kanban/", "department=risk&overdue=1")
    assert body["url"] == "/kanban/?department=risk&overdue=1"
    assert (body["shared"], body["mine"], body["pinned"], body["owner"]) == (
        False,
        True,
        False,
        "olga_owner",
    )
    view = SavedView.objects.get(pk=body["id"])
    assert body["share_url"] == f"/v/{view.slug}/" and len(view.slug) >= 12
    assert view.owner == olga


@pytest.mark.django_db
def test_the_query_is_kept_as_fields_only(client_for: ClientFor, olga: User) -> None:
    """Re-encoded from its fields: a fragment, a line break or a header cannot ride along; the
    navigation's `home` marker is not part of a page's state."""
    answer = client_for(olga).post(
        API,
        {
            "name": "Odd",
            "path": "/",
            "query": "home=1&region=EAST-01&q=a b#frag\r\nLocation: https://evil.example/",
        },
        format="json",
    )

    assert answer.status_code == 201
    query = answer.json()["query"]
    assert query.startswith("region=EAST-01&q=a+b%23frag%0D%0ALocation%3A+https%3A%2F%2Fevil")
    assert not any(char in query for char in "#\r\n /")


# Paths that must never be stored: other hosts (open redirects), pages that are not pages.
REFUSED_PATHS = [
    "https://evil.example/",
    "http://evil.example/kanban/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "javascript:alert(1)",
    "kanban/",
    "/kanban",
    "/kanban/?department=risk",
    "/kanban/#x",
    "/../admin/",
    "/./kanban/",
    "/%2F%2Fevil.example/",
    "/api/views/",
    "/api/metrics/panels/",
    "/admin/",
    "/accounts/",
    "/login/",
    "/logout/",
    "/password-reset/",
    "/i18n/setlang/",
    "/healthz",
    "/v/abcdefghijkl/",
    "/account/",
    "/no-such-page/",
    "",
    "/" + "a/" * 120,
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", REFUSED_PATHS)
def test_only_pages_of_this_site_can_be_saved(client_for: ClientFor, olga: User, path: str) -> None:
    answer = client_for(olga).post(API, {"name": "Sneaky", "path": path}, format="json")

    assert answer.status_code == 400
    assert list(answer.json()) == ["path"]
    assert not SavedView.objects.exists()


PAGES = [
    "/",
    "/metrics/overdue_rate/",
    "/kanban/",
    "/kanban/flow/",
    "/kpi/",
    "/kpi/review/",
    "/parameters/",
    "/valuation/",
    "/risk/",
    "/compliance/",
    "/imports/",
    "/notifications/",
    "/people/",
    "/audit/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_with_a_state_can_be_saved(client_for: ClientFor, olga: User, path: str) -> None:
    answer = client_for(olga).post(API, {"name": "Page", "path": path}, format="json")

    assert answer.status_code == 201, answer.json()


@pytest.mark.django_db
def test_bad_input_answers_every_field_error_and_stores_nothing(
    client_for: ClientFor, olga: User
) -> None:
    client = client_for(olga)
    answer = client.post(
        API,
        {"name": "   ", "path": "https://evil.example/", "query": "x=" + "y" * 1000},
        format="json",
    )

    assert answer.status_code == 400
    assert set(answer.json()) == {"name", "path", "query"}
    assert all(isinstance(m, str) for ms in answer.json().values() for m in ms)
    for body in (
        {"name": "x" * 81, "path": "/kanban/"},
        {"name": "tab\there", "path": "/kanban/"},
        {"name": "", "path": "/kanban/"},
        {"path": "/kanban/"},
        {"name": "No path"},
        {"name": "Fields", "path": "/kanban/", "query": "&".join(f"k{i}=1" for i in range(60))},
        {"name": "Odd types", "path": ["/kanban/"], "shared": "maybe"},
    ):
        answer = client.post(API, body, format="json")
        assert answer.status_code == 400, body
        assert isinstance(answer.json(), dict) and answer.json(), body
    assert client.post(API, ["not", "an", "object"], format="json").status_code == 400
    assert not SavedView.objects.exists()


@pytest.mark.django_db
def test_a_name_is_used_once_per_person_whatever_its_case(
    client_for: ClientFor, olga: User, colin: User
) -> None:
    save(olga, "Morning risk")

    again = client_for(olga).post(API, {"name": "morning RISK", "path": "/"}, format="json")
    theirs = client_for(colin).post(API, {"name": "Morning risk", "path": "/"}, format="json")

    assert again.status_code == 400 and list(again.json()) == ["name"]
    assert theirs.status_code == 201
    assert SavedView.objects.filter(owner=olga).count() == 1


@pytest.mark.django_db
def test_signed_out_callers_get_401(client_for: ClientFor, olga: User) -> None:
    view = save(olga, "Mine", shared=True)
    anonymous = client_for(None)

    assert anonymous.get(API).status_code == 401
    assert anonymous.post(API, {"name": "x", "path": "/"}, format="json").status_code == 401
    assert anonymous.patch(f"{API}{view.pk}/", {"name": "y"}, format="json").status_code == 401
    assert anonymous.delete(f"{API}{view.pk}/").status_code == 401
    assert anonymous.post(f"{API}{view.pk}/pin/").status_code == 401
    assert anonymous.get(API)["WWW-Authenticate"] == "Token"


# ---- lists, changes and who may make them ---------------------------------------------------


@pytest.mark.django_db
def test_the_list_is_mine_then_those_shared_with_me(
    client_for: ClientFor, olga: User, colin: User, vera: User
) -> None:
    save(olga, "B private")
    save(olga, "A shared", shared=True)
    save(colin, "Colin's shared", path="/kpi/", shared=True)
    save(colin, "Colin's private")
    save(vera, "Vera's shared", shared=True)

    rows = client_for(olga).get(API).json()

    assert [(r["name"], r["mine"], r["owner"]) for r in rows] == [
        ("A shared", True, "olga_owner"),
        ("B private", True, "olga_owner"),
        ("Colin's shared", False, "colin_colleague"),
        ("Vera's shared", False, "vera_viewer"),
    ]
    assert "Colin's private" not in str(client_for(vera).get(API).json())


@pytest.mark.django_db
def test_the_owner_renames_shares_and_repoints_a_view(client_for: ClientFor, olga: User) -> None:
    view = save(olga, "Old name")
    save(olga, "Taken")
    client = client_for(olga)

    changed = client.patch(
        f"{API}{view.pk}/",
        {"name": "New name", "shared": True, "query": "department=tech"},
        format="json",
    )
    taken = client.patch(f"{API}{view.pk}/", {"name": "TAKEN"}, format="json")
    bad = client.patch(
        f"{API}{view.pk}/", {"name": "Fine", "path": "//evil.example/"}, format="json"
    )

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["name"], changed.json()["shared"]) == ("New name", True)
    assert changed.json()["url"] == "/kanban/?department=tech"
    assert taken.status_code == 400 and list(taken.json()) == ["name"]
    assert bad.status_code == 400 and list(bad.json()) == ["path"]
    view.refresh_from_db()
    assert (view.name, view.path, view.query, view.shared) == (
        "New name",
        "/kanban/",
        "department=tech",
        True,
    )


@pytest.mark.django_db
def test_only_the_owner_changes_or_deletes_a_view(
    client_for: ClientFor, olga: User, colin: User
) -> None:
    shared = save(olga, "Shared", shared=True)
    private = save(olga, "Private")
    colleague = client_for(colin)

    # A view shared with them: they see it, so they are told it is not theirs (403).
    rename = colleague.patch(f"{API}{shared.pk}/", {"name": "Mine now"}, format="json")
    assert rename.status_code == 403
    assert colleague.delete(f"{API}{shared.pk}/").status_code == 403
    # A private one: they cannot even tell it exists (404), as for one that does not.
    assert colleague.patch(f"{API}{private.pk}/", {"name": "x"}, format="json").status_code == 404
    assert colleague.delete(f"{API}{private.pk}/").status_code == 404
    assert colleague.delete(f"{API}999999/").status_code == 404
    assert SavedView.objects.filter(owner=olga).count() == 2
    shared.refresh_from_db()
    assert shared.name == "Shared"

    assert client_for(olga).delete(f"{API}{private.pk}/").status_code == 204
    assert not SavedView.objects.filter(pk=private.pk).exists()


# ---- the share link ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_shared_link_opens_the_page_for_a_colleague(olga: User, colin: User) -> None:
    view = save(olga, "Overdue", path="/kanban/", query="overdue=1&department=risk", shared=True)

    answer = browser(colin).get(f"/v/{view.slug}/")

    assert answer.status_code == 302
    assert answer["Location"] == "/kanban/?overdue=1&department=risk"


@pytest.mark.django_db
def test_an_unshared_link_is_a_404_for_others_but_opens_for_its_owner(
    olga: User, colin: User
) -> None:
    view = save(olga, "Just mine", path="/kpi/", query="quarter=2026Q3")

    assert browser(colin).get(f"/v/{view.slug}/").status_code == 404
    assert browser(colin).get("/v/not-a-real-one/").status_code == 404
    mine = browser(olga).get(f"/v/{view.slug}/")
    assert mine.status_code == 302 and mine["Location"] == "/kpi/?quarter=2026Q3"
    signed_out = Client().get(f"/v/{view.slug}/")
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_a_link_to_the_plain_dashboard_opens_the_dashboard_not_a_start_page(
    olga: User, colin: User
) -> None:
    dashboard = save(olga, "Dashboard", path="/", shared=True)
    save(colin, "Colin's board", path="/kanban/", pinned=True)

    answer = browser(colin).get(f"/v/{dashboard.slug}/")

    assert answer.status_code == 302 and answer["Location"] == "/?home=1"


# ---- the start page -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pinned_view_is_what_the_home_page_opens(client_for: ClientFor, olga: User) -> None:
    view = save(olga, "My board", path="/kanban/", query="department=risk")
    page = browser(olga)
    assert page.get("/").status_code == 200  # nothing pinned: the dashboard

    pinned = client_for(olga).post(f"{API}{view.pk}/pin/")

    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    assert [r["pinned"] for r in client_for(olga).get(API).json()] == [True]
    home = page.get("/")
    assert home.status_code == 302 and home["Location"] == "/kanban/?department=risk"
    # The navigation's Dashboard link, and any dashboard state, still show the dashboard.
    assert page.get("/?home=1").status_code == 200
    assert page.get("/?region=all").status_code == 200
    assert b'href="/?home=1"' in page.get("/?home=1").content


@pytest.mark.django_db
def test_signing_in_lands_on_the_start_page_unless_another_page_was_asked_for(
    olga: User,
) -> None:
    save(olga, "My board", path="/kanban/", query="overdue=1", pinned=True)
    client = Client()

    landing = client.post("/login/", {"username": olga.username, "password": PASSWORD})
    assert landing["Location"] == "/"
    assert client.get("/")["Location"] == "/kanban/?overdue=1"
    asked = Client().post(
        "/login/", {"username": olga.username, "password": PASSWORD, "next": "/risk/"}
    )
    assert asked["Location"] == "/risk/"


@pytest.mark.django_db
def test_unpinning_brings_the_dashboard_back(client_for: ClientFor, olga: User) -> None:
    view = save(olga, "My board", pinned=True)
    page = browser(olga)
    assert page.get("/").status_code == 302

    unpinned = client_for(olga).delete(f"{API}{view.pk}/pin/")

    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    assert page.get("/").status_code == 200
    assert Profile.objects.get(user=olga).start_view is None


@pytest.mark.django_db
def test_one_start_page_a_person_and_pinning_on_save(client_for: ClientFor, olga: User) -> None:
    client = client_for(olga)
    first = client.post(API, {"name": "First", "path": "/kpi/", "pinned": True}, format="json")
    second = client.post(API, {"name": "Second", "path": "/risk/", "pinned": True}, format="json")

    assert first.json()["pinned"] and second.json()["pinned"]
    assert {r["name"]: r["pinned"] for r in client.get(API).json()} == {
        "First": False,
        "Second": True,
    }
    assert browser(olga).get("/")["Location"] == "/risk/"


@pytest.mark.django_db
def test_a_start_page_that_is_the_dashboard_does_not_loop(olga: User, colin: User) -> None:
    save(olga, "Dashboard", path="/", query="home=1", pinned=True)  # stored as plain "/"
    save(colin, "East", path="/", query="region=EAST-01", pinned=True)

    assert browser(olga).get("/").status_code == 200
    colins = browser(colin)
    home = colins.get("/")
    assert home.status_code == 302 and home["Location"] == "/?region=EAST-01"
    assert colins.get(home["Location"]).status_code == 200


@pytest.mark.django_db
def test_a_colleagues_shared_view_can_be_my_start_page_while_it_is_shared(
    client_for: ClientFor, olga: User, colin: User
) -> None:
    shared = save(olga, "Team board", path="/kanban/", query="label=weekly", shared=True)
    private = save(olga, "Hers only")
    assert client_for(colin).post(f"{API}{private.pk}/pin/").status_code == 404

    assert client_for(colin).post(f"{API}{shared.pk}/pin/").status_code == 200
    assert browser(colin).get("/")["Location"] == "/kanban/?label=weekly"

    # Unshared, it is no one else's start page any more; deleted, no one's.
    services.saved_view_update(user=olga, view_id=shared.pk, shared=False)
    assert browser(colin).get("/").status_code == 200
    assert Profile.objects.get(user=colin).start_view is None
    services.saved_view_pin(user=olga, view_id=shared.pk)
    services.saved_view_delete(user=olga, view_id=shared.pk)
    assert browser(olga).get("/").status_code == 200


@pytest.mark.django_db
def test_the_menu_is_on_every_page_for_people_signed_in(olga: User) -> None:
    page = browser(olga).get("/kanban/").content.decode()

    assert 'id="views-menu"' in page and 'id="views-save"' in page
    assert "js/saved_views" in page
    assert 'id="views-menu"' not in Client().get("/login/").content.decode()


@pytest.mark.django_db
def test_the_home_page_pays_for_a_start_page_only_when_there_is_one(
    olga: User, colin: User, django_assert_num_queries: Any
) -> None:
    from carloan.people.selectors import start_page_of
    from carloan.roles import user_with_roles

    save(olga, "Board", pinned=True)
    plain, _token = user_with_roles(user_id=colin.pk)  # as every request loads its user
    pinned, _token = user_with_roles(user_id=olga.pk)

    with django_assert_num_queries(0):
        assert start_page_of(plain) is None
    with django_assert_num_queries(1):
        assert start_page_of(pinned) == "/kanban/"
