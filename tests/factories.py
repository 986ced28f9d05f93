"""Small builders for test data: people with roles, and CSV files as a lender would send them."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.models import Group, User

from carloan.models import Profile

PASSWORD = "s3cret-pass-for-tests"


def make_user(
    username: str, role: str = "viewer", department: str = "", *, superuser: bool = False
) -> User:
    """A signed-up person with a role (viewer, department_head, manager) and maybe a department."""
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    else:
        user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    Profile.objects.create(user=user, department=department)
    return user


def csv_file(text: str, name: str = "upload.csv", *, bom: bool = False, crlf: bool = False) -> Any:
    """An in-memory upload of `text` (dedented lines), optionally with a BOM and CRLF endings."""
    lines = [line.strip() for line in text.strip().splitlines()]
    body = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    data = (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8")
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def token_for(user: User, name: str = "tests") -> str:
    """A fresh API token of `user` (the token itself; only its hash is stored)."""
    from carloan.people.services import token_create

    return token_create(user=user, name=name)[1]
