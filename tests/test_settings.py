"""How the settings read the environment: DATABASE_URL as libpq reads it, every option passed
through; the connection pool by default, persistent per-thread connections only without it, and a
clear refusal of both at once; REDIS_URL with passwords and TLS."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured

from carloan.service_urls import database_url_with_name
from carloan.settings import database_from_url
from tests.dburl import this_test_database_url

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


# --- DATABASE_URL means what libpq means ---------------------------------------------------------


def test_every_libpq_option_of_the_url_reaches_the_connection() -> None:
    db = database_from_url(
        "postgres://kpi:s%40cret%2F1@db.example.com:6432/carloan?sslmode=verify-full"
        "&sslrootcert=/etc/ssl/rds.pem&application_name=carloan-web&connect_timeout=3"
        "&options=-c%20statement_timeout%3D5000&target_session_attrs=read-write"
    )

    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "carloan",
        "kpi",
        "s@cret/1",
        "db.example.com",
        "6432",
    )
    options = db["OPTIONS"]
    assert options["sslmode"] == "verify-full"  # type: ignore[index]
    assert options["sslrootcert"] == "/etc/ssl/rds.pem"  # type: ignore[index]
    assert options["application_name"] == "carloan-web"  # type: ignore[index]
    assert options["connect_timeout"] == "3"  # type: ignore[index] # the URL's, not our 5
    assert options["options"] == "-c statement_timeout=5000"  # type: ignore[index]
    assert options["target_session_attrs"] == "read-write"  # type: ignore[index]


def test_socket_directories_and_several_hosts_as_libpq_reads_them() -> None:
    socket = database_from_url("postgres://postgres@localhost/carloan?host=/var/run/postgresql")
    assert (socket["HOST"], socket["PORT"]) == ("/var/run/postgresql", "")
    encoded = database_from_url("postgresql://%2Ftmp%2Fpg:5433/carloan")
    assert (encoded["HOST"], encoded["PORT"]) == ("/tmp/pg", "5433")
    several = database_from_url("postgres://kpi@db-a:5432,db-b:5433/carloan")
    assert (several["HOST"], several["PORT"]) == ("db-a,db-b", "5432,5433")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://kpi@db/carloan", "must be a postgres:// URL"),
        ("postgres://kpi@db.example.com", "names no database"),
        ("postgres://kpi@db.example.com/carloan?sslmod=require", "sslmod"),
    ],
)
def test_a_url_libpq_would_not_take_stops_start_up(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url)


def test_database_url_with_name_keeps_every_option() -> None:
    url = "postgres://kpi:pw@db-a:5432,db-b:5433/carloan?sslmode=require&application_name=x"
    assert database_url_with_name(url, "test_carloan") == (
        "postgres://kpi:pw@db-a:5432,db-b:5433/test_carloan?sslmode=require&application_name=x"
    )
    assert database_url_with_name("postgres://h/?dbname=carloan&sslmode=disable", "other") == (
        "postgres://h/?dbname=other&sslmode=disable"
    )


@pytest.mark.django_db
def test_the_server_sees_the_application_name_and_options_of_the_url() -> None:
    """A product process started with options in DATABASE_URL: PostgreSQL's pg_stat_activity
    shows its application_name, and its session has the statement_timeout of `options`."""
    url = this_test_database_url()
    url += ("&" if "?" in url else "?") + (
        "application_name=carloan-probe&options=-c%20statement_timeout%3D4321"
    )
    probe = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SELECT application_name FROM pg_stat_activity "
        "WHERE pid = pg_backend_pid()')\n"
        "    print(c.fetchone()[0])\n"
        "    c.execute('SHOW statement_timeout')\n"
        "    print(c.fetchone()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", probe],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "carloan.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["carloan-probe", "4321ms"]


# --- REDIS_URL and CELERY_BROKER_URL: passwords and TLS -------------------------------------------

REDIS_PROBE = """
import asyncio
import django
django.setup()
from django.core.cache import cache
from channels.layers import get_channel_layer
from carloan.celery import app

cache.set("settings-probe", 41)
print("cache", cache.get("settings-probe") + 1)

async def round_trip():
    layer = get_channel_layer()
    name = await layer.new_channel()
    await layer.send(name, {"type": "probe"})
    print("channels", (await layer.receive(name))["type"])

asyncio.run(round_trip())
with app.connection_for_write() as connection:
    queue = connection.SimpleQueue("settings-probe")
    queue.put({"n": 7})
    message = queue.get(timeout=10)
    message.ack()
    print("broker", connection.as_uri().split("://")[0], message.payload["n"])
    queue.close()
"""
PASSWORD = "p@ss/w:rd#1"


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Debian's redis-server with TLS only and a password; answers (port, CA certificate)."""
    server = shutil.which("redis-server")
    if server is None or shutil.which("openssl") is None:
        pytest.skip("needs redis-server and openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
         "--tls-auth-clients", "no", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if process.poll() is not None:
                pytest.skip("this redis-server has no TLS support")
            assert time.monotonic() < deadline, "the TLS Redis did not start"
            time.sleep(0.1)
        yield port, cert
    finally:
        process.terminate()
        process.wait(10)


def _probe(env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", REDIS_PROBE],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "carloan.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


def test_a_rediss_url_with_a_password_serves_cache_channels_and_celery(
    tls_redis: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca = tls_redis
    url = f"rediss://:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    env = {"REDIS_URL": url}
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # the broker is REDIS_URL too

    assert _probe(env) == ["cache 42", "channels probe", "broker rediss 7"]


def test_celery_takes_its_own_broker_url_when_given(tls_redis: tuple[int, Path]) -> None:
    port, ca = tls_redis
    broker = f"rediss://:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/2?ssl_ca_certs={ca}"

    lines = _probe({"CELERY_BROKER_URL": broker})  # REDIS_URL stays this run's plain Redis

    assert lines[-1] == "broker rediss 7"


def test_a_copy_outside_the_checkout_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    """`pip install .` copies the packages without templates/, static/ and locale/: such an
    install must not start half-working (pages without templates) but say how to install."""
    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(repo / "carloan", tmp_path / "site" / "carloan")
    result = subprocess.run(
        [sys.executable, "-c", "import carloan.settings"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "pip install -e ." in result.stderr
