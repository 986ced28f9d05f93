"""The pages of contract section 4a: sign-in, navigation, languages, and nothing from outside."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from carloan.loanbook.kinds import KINDS
from carloan.models import ImportRun
from tests.factories import PASSWORD, make_user

PAGES = [
    "/",
    "/metrics/overdue_rate/",
    "/kanban/",
    "/parameters/",
    "/kpi/",
    "/valuation/",
    "/risk/",
    "/compliance/",
    "/imports/",
]
NAV_ZH = ["仪表盘", "看板", "关键绩效指标与复盘", "参数", "车辆估值", "风控筛查", "合规", "导入"]


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        if tag == "script":
            self._script, self._text = values, []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def parse(html: bytes | str) -> Tags:
    parser = Tags()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser


def signed_in(user: User, **client_kwargs: Any) -> Client:
    client = Client(**client_kwargs)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/imports/", "/kanban/"])
def test_signed_out_visitor_is_sent_to_the_login_form(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.django_db
def test_login_page_has_username_and_password_fields_and_keeps_next() -> None:
    response = Client().get("/login/?next=/kanban/")
    assert response.status_code == 200
    page = parse(response.content)
    assert page.find("input", name="username")
    assert page.find("input", name="password", type="password")
    assert page.find("input", name="next", value="/kanban/")
    assert page.find("input", name="csrfmiddlewaretoken")
    # Signed out: no navigation, no user box.
    assert not page.find("nav")
    assert b"Sign out" not in response.content


@pytest.mark.django_db
def test_signing_in_goes_to_the_page_asked_for() -> None:
    make_user("hana_head", "department_head", "marketing")
    client = Client()
    response = client.post(
        "/login/", {"username": "hana_head", "password": PASSWORD, "next": "/imports/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/imports/"
    page = client.get("/imports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "hana_head" in html
    assert "Department head" in html and "Marketing" in html


@pytest.mark.django_db
def test_wrong_password_shows_an_error_and_keeps_the_username() -> None:
    make_user("hana_head", "department_head", "marketing")
    response = Client().post("/login/", {"username": "hana_head", "password": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "notice--error" in html
    assert parse(html).find("input", name="username", value="hana_head")


@pytest.mark.django_db
def test_sign_out_is_a_post_that_ends_the_session(viewer: User) -> None:
    client = signed_in(viewer)
    page = parse(client.get("/").content)
    assert page.find("form", action="/logout/", method="post")
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/kanban/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_a_viewer(viewer: User, path: str) -> None:
    response = signed_in(viewer).get(path)
    assert response.status_code == 200
    page = parse(response.content)
    links = {a["href"] for a in page.find("a")}
    assert {"/", "/kanban/", "/kpi/", "/parameters/", "/valuation/", "/imports/"} <= links
    assert page.find("a", **{"aria-current": "page"}), "the active page is marked in the nav"
    assert page.find("span", id="live-status")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "client_kwargs",
    [{"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}],
)
def test_chinese_from_accept_language(viewer: User, client_kwargs: dict[str, str]) -> None:
    html = signed_in(viewer, **client_kwargs).get("/imports/").content.decode()
    assert 'lang="zh-Hans"' in html
    for label in NAV_ZH:
        assert label in html
    assert "最近导入" in html


@pytest.mark.django_db
def test_chinese_from_language_cookie_and_switcher(viewer: User) -> None:
    client = signed_in(viewer)
    assert "看板" not in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/kanban/"})
    assert response.status_code == 302
    assert response["Location"] == "/kanban/"
    html = client.get("/kanban/").content.decode()
    assert "看板" in html and "仪表盘" in html
    cookie_client = signed_in(viewer)
    cookie_client.cookies["django_language"] = "zh-hans"
    assert "关键绩效指标与复盘" in cookie_client.get("/kpi/").content.decode()


@pytest.mark.django_db
def test_signed_out_login_page_in_chinese() -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/login/").content.decode()
    assert "登录" in html and "用户名" in html and "密码" in html


def _external(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://", "//"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/login/"])
def test_pages_load_nothing_from_outside(viewer: User, path: str) -> None:
    client = signed_in(viewer) if path != "/login/" else Client()
    page = parse(client.get(path).content)
    sources = [
        value
        for tag, attrs in page.tags
        for name, value in attrs.items()
        if (name == "src" and tag in {"script", "img", "iframe", "source", "audio", "video"})
        or (name == "href" and tag == "link")
        or (name == "srcset")
    ]
    assert sources, "the page loads its own style and scripts"
    assert [s for s in sources if _external(s)] == []
    for tag, attrs in page.tags:
        if tag == "link":
            assert attrs["href"].startswith("/static/"), attrs


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/login/"])
def test_scripts_are_files_or_data_never_inline_code(viewer: User, path: str) -> None:
    """A Content Security Policy without 'unsafe-inline' scripts must break nothing."""
    client = signed_in(viewer) if path != "/login/" else Client()
    page = parse(client.get(path).content)
    for attrs, text in page.scripts:
        if attrs.get("src"):
            assert attrs["src"].startswith("/static/"), attrs
            assert not text.strip()
        else:
            assert attrs.get("type") == "application/json", f"inline script on {path}"
            json.loads(text)
    for _tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")], "no inline handlers"


@pytest.mark.django_db
def test_static_files_are_served_from_this_server(viewer: User) -> None:
    client = signed_in(viewer)
    for path in ["/static/css/app.css", "/static/js/live.js", "/static/js/imports.js"]:
        response = client.get(path)
        assert response.status_code == 200, path


@pytest.mark.django_db
def test_plotly_js_is_served_from_our_server() -> None:
    response = Client().get("/static/plotly/plotly.min.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    head = b"".join(response.streaming_content)[:2000] if response.streaming else response.content
    assert b"plotly" in head.lower()


@pytest.mark.django_db
def test_imports_page_lists_every_kind_with_its_columns(marketing_head: User) -> None:
    html = signed_in(marketing_head).get("/imports/").content.decode()
    page = parse(html)
    options = [a["value"] for a in page.find("option")]
    assert options == list(KINDS)
    for kind in KINDS.values():
        for column in kind.columns:
            assert f"<code>{column.name}</code>" in html
    assert "Prospective borrowers from marketing channels" in html
    # A department head may import: the form is enabled and posts to the API.
    assert page.find("form", id="import-form", action="/api/imports/")
    assert not page.find("fieldset", disabled="")
    assert 'id="may-not-import"' not in html


@pytest.mark.django_db
def test_viewers_see_the_import_form_disabled(viewer: User) -> None:
    html = signed_in(viewer).get("/imports/").content.decode()
    page = parse(html)
    assert page.find("fieldset", disabled="")
    assert 'id="may-not-import"' in html


@pytest.mark.django_db
def test_recent_imports_are_rendered_on_the_server(marketing_head: User, viewer: User) -> None:
    ImportRun.objects.create(
        kind="leads",
        file_name="leads_may.csv",
        imported_by=marketing_head,
        status="succeeded",
        rows=12,
        created=10,
        updated=2,
    )
    ImportRun.objects.create(
        kind="loans",
        file_name="bad_loans.csv",
        imported_by=marketing_head,
        status="rejected",
        errors=[{"line": 4, "column": "principal", "reason": "not a decimal"}],
    )
    html = signed_in(viewer).get("/imports/").content.decode()
    assert "leads_may.csv" in html and "bad_loans.csv" in html
    assert "Succeeded" in html and "Rejected" in html and "1 bad row" in html
    assert "Recomputing…" in html  # not refreshed yet
    assert "mia_marketing" in html
    zh = signed_in(viewer, HTTP_ACCEPT_LANGUAGE="zh-hans").get("/imports/").content.decode()
    assert "成功" in zh and "已拒绝" in zh and "1 行有误" in zh


@pytest.mark.django_db
def test_imports_page_passes_translated_texts_to_its_script(viewer: User) -> None:
    client = signed_in(viewer, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = parse(client.get("/imports/").content)
    blocks = {
        attrs.get("id"): json.loads(text) for attrs, text in page.scripts if not attrs.get("src")
    }
    assert blocks["imports-i18n"]["rejectedTitle"] == "文件被拒绝：未保存任何数据。"
    assert blocks["import-kind-labels"]["leads"] == "线索"
