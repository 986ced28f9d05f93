"""How the settings read the database's environment: the connection pool by default, persistent
per-thread connections only without it, and a clear refusal of both at once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from carloan.settings import database_from_url

URL = "postgres://kpi:secret@db.example.com:6432/carloan"


def test_a_pool_per_process_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_POOL_SIZE", "DATABASE_POOL_TIMEOUT", "DATABASE_CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)

    db = database_from_url(URL)

    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == (
        "carloan",
        "kpi",
        "db.example.com",
        "6432",
    )
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"] == {  # type: ignore[index]
        "min_size": 1,
        "max_size": 20,
        "timeout": 10.0,
        "max_idle": 300,
    }


def test_the_pool_is_sized_from_the_environment_or_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "2.5")
    pool = database_from_url(URL)["OPTIONS"]["pool"]  # type: ignore[index]
    assert (pool["max_size"], pool["timeout"]) == (4, 2.5)

    monkeypatch.setenv("DATABASE_POOL_SIZE", "0")
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "60")
    db = database_from_url(URL)
    assert "pool" not in db["OPTIONS"]  # type: ignore[operator]
    assert db["CONN_MAX_AGE"] == 60


def test_kept_connections_and_the_pool_exclude_each_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "60")

    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_SIZE=0"):
        database_from_url(URL)


def test_prepared_statements_by_default_and_off_for_transaction_poolers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DATABASE_PREPARED_STATEMENTS", "DATABASE_PREPARE_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    options = database_from_url(URL)["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 2)  # type: ignore[index]

    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "false")  # e.g. behind PgBouncer
    options = database_from_url(URL)["OPTIONS"]
    assert "server_side_binding" not in options and "prepare_threshold" not in options  # type: ignore[operator]
