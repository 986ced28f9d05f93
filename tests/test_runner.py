"""`make run` on a fresh machine: embedded PostgreSQL and Redis, the web server, a worker and beat,
all started by `python -m carloan.dev.runner` and all gone after Ctrl-C.

These tests start the real runner (about 15 s each); deselect them with `-m "not runner"`.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.runner

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    base_url: str
    var_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=5) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return 0

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the runner exited with {self.process.returncode}:\n{self.output()}")
            if self.get("healthz") == 200 and self.get("login/") == 200:
                return
            time.sleep(0.5)
        pytest.fail(f"not serving after {START_TIMEOUT:.0f} s:\n{self.output()[-5000:]}")

    def processes(self) -> list[psutil.Process]:
        """Everything this run started: the runner's descendants, PostgreSQL and Redis."""
        found = {child.pid: child for child in psutil.Process(self.process.pid).children(True)}
        for pidfile in (
            self.var_dir / "pgdata" / "postmaster.pid",
            self.var_dir / "redis/redis.pid",
        ):
            if pidfile.exists():
                server = psutil.Process(int(pidfile.read_text().split()[0]))
                found[server.pid] = server
                found.update({child.pid: child for child in server.children(True)})
        return list(found.values())

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the runner did not stop within 90 s:\n{self.output()[-5000:]}")


def mentioning(var_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if str(var_dir) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def assert_all_gone(processes: list[psutil.Process], var_dir: Path) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, f"still running: {[(p.pid, p.cmdline()) for p in alive]}"
    assert not mentioning(var_dir)


@pytest.fixture
def start_runner(tmp_path: Path) -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []
    var_dir = tmp_path / "var"

    def start(*, demo: bool, via_make: bool = False) -> Run:
        env = dict(os.environ)
        # A fresh machine: no servers named, so the runner starts its own.
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CELERY_BROKER_URL", "STATIC_ROOT"):
            env.pop(name, None)
        port = free_port()
        env.update({"CARLOAN_VAR_DIR": str(var_dir), "HOST": "127.0.0.1", "PORT": str(port)})
        if demo:
            env.pop("CARLOAN_SKIP_DEMO", None)
        else:
            env["CARLOAN_SKIP_DEMO"] = "1"
        log = tmp_path / f"runner-{len(runs)}.log"
        with log.open("wb") as out:
            # `make run` as the README says it (-o: the set-up of .venv is taken as done).
            argv = (
                ["make", "--no-print-directory", "-o", ".venv/.installed", "run"]
                if via_make
                else [sys.executable, "-m", "carloan.dev.runner"]
            )
            process = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        run = Run(process, f"http://127.0.0.1:{port}/", var_dir, log)
        runs.append(run)
        return run

    yield start

    # Whatever a failed test left behind must not outlive it.
    for run in runs:
        if run.process.poll() is None:
            run.process.send_signal(signal.SIGTERM)
            try:
                run.process.wait(60)
            except subprocess.TimeoutExpired:
                run.process.kill()
    for process in mentioning(var_dir):
        process.kill()


def test_ctrl_c_stops_everything_it_started(start_runner: Callable[..., Run]) -> None:
    run = start_runner(demo=False)
    run.wait_until_serving()

    started = run.processes()
    commands = " ".join(" ".join(p.cmdline()) for p in started)
    for part in ("uvicorn", "celery", "worker", "beat", "redis-server", "postgres"):
        assert part in commands
    assert (run.var_dir / "secret_key").stat().st_mode & 0o777 == 0o600

    assert run.stop(signal.SIGINT) == 0, run.output()[-5000:]
    assert_all_gone(started, run.var_dir)
    assert "[runner] stopped" in run.output()


def test_a_killed_run_leaves_nothing_that_stops_the_next_one(
    start_runner: Callable[..., Run],
) -> None:
    """SIGKILL takes the runner's children with it; PostgreSQL, which runs detached, is adopted by
    the next run, which loads the demo book and lets `manager` sign in, and is stopped by it."""
    first = start_runner(demo=False)
    first.wait_until_serving()
    children = psutil.Process(first.process.pid).children(True)
    first.process.kill()
    first.process.wait(10)
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"orphans of a killed runner: {[p.cmdline() for p in alive]}"

    second = start_runner(demo=True)
    second.wait_until_serving()
    has_demo = "seed_demo command does not exist" not in second.output()
    if has_demo:
        assert sign_in(second.base_url, "manager", "carloan-demo")

    started = second.processes()
    assert second.stop(signal.SIGTERM) == 0, second.output()[-5000:]
    assert_all_gone(started, second.var_dir)
    assert "adopting the PostgreSQL left running by an earlier run" in second.output()
    if not has_demo:
        pytest.skip("seed_demo is not written yet: the demo sign-in was not checked")


@pytest.mark.parametrize(
    "how",
    ["SIGTERM to make", "SIGKILL to make", "SIGHUP to the terminal's group"],
)
def test_the_runner_stops_with_make(start_runner: Callable[..., Run], how: str) -> None:
    """However `make run` goes away (stopped, killed outright, or its terminal closed), nothing it
    started stays. (make forwards SIGTERM to the runner; SIGKILL leaves the runner re-parented,
    which it notices; a closing terminal sends SIGHUP to the whole foreground group.)"""
    run = start_runner(demo=False, via_make=True)
    run.wait_until_serving()
    runner = next(
        p for p in psutil.Process(run.process.pid).children() if "carloan.dev.runner" in p.cmdline()
    )
    started = [runner, *run.processes()]

    if how == "SIGTERM to make":
        run.process.send_signal(signal.SIGTERM)
    elif how == "SIGKILL to make":
        run.process.kill()
    else:  # the terminal's foreground process group: make and the runner
        os.killpg(run.process.pid, signal.SIGHUP)

    _, alive = psutil.wait_procs(started, timeout=60)
    assert not alive, f"{how} left running: {[p.cmdline() for p in alive]}\n{run.output()[-3000:]}"
    assert not mentioning(run.var_dir)
    run.process.wait(30)


def sign_in(base_url: str, username: str, password: str) -> bool:
    """Sign in through the login form as a browser would; True when the dashboard answers."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base_url + "login/", timeout=10) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "the login form has no CSRF token"
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
    ).encode()
    headers = {"Referer": base_url}
    request = urllib.request.Request(base_url + "login/", data=form, headers=headers)  # noqa: S310
    with opener.open(request, timeout=30) as response:
        landed = urllib.parse.urlparse(response.geturl()).path
    return any(cookie.name == "sessionid" for cookie in jar) and not landed.startswith("/login")
