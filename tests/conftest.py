"""Shared fixtures. Tests run against the real PostgreSQL and Redis named by the environment
(`make test` points them at the machine's servers); nothing is mocked where the real thing runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import make_user

# One real Celery worker for the whole run, for the tests that ask for it: registered here once
# (imported into each module, it would start one worker per module).
from tests.worker import celery_worker_process  # noqa: F401


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, settings: Any) -> None:
    """Tests are about who may do what, not hashing strength: hash fast, except where a separate
    server process (end-to-end tests) must verify the password with the real settings."""
    if request.node.get_closest_marker("e2e") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_address_throttle() -> Iterator[None]:
    """Every test's failed sign-ins come from the test client's one address: the per-address
    count (carloan/security.py) starts each test at 0, as if each were its own client."""
    yield
    import redis
    from django.conf import settings

    with redis.Redis.from_url(settings.REDIS_URL) as client:
        keys = list(client.scan_iter("carloan:*signin-failures-address:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
def no_cross_test_caches(settings: Any) -> None:
    """A period cached by one test would outlive its rolled-back data (the loan book's
    generation only moves forward); tests of the cache turn it back on."""
    settings.METRICS_SUMMARY_CACHE_SECONDS = 0
    # The same for a board's cards kept under its event number (numbers repeat across tests).
    settings.KANBAN_BOARD_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def fresh_parameter_cache() -> Iterator[None]:
    """Parameter values are cached in Redis, shared by processes: a test's change, rolled back
    with its transaction, must not outlive it in the cache (nor one of an earlier run that used
    the same test database name)."""
    from carloan.parameters.selectors import parameter_cache_invalidate

    parameter_cache_invalidate()
    yield
    parameter_cache_invalidate()


TECHNICAL_METRICS = (
    "api_response_time_p95",
    "availability",
    "credit_query_latency_p95",
    "data_sync_lag_p95",
    "data_consistency_rate",
    "incident_response_time",
)


@pytest.fixture
def relative_modes(db: Any) -> None:
    """Every metric judged relative to its baseline, as before the technical metrics' service
    levels (contract section 3): for tests of the relative rule on technical metrics' samples."""
    from carloan.parameters.models import Parameter
    from carloan.parameters.selectors import parameter_cache_invalidate

    for metric in TECHNICAL_METRICS:
        Parameter.objects.update_or_create(
            key=f"alert.{metric}.mode", defaults={"value": "relative", "version": 2}
        )
    parameter_cache_invalidate()


@pytest.fixture(autouse=True)
def no_latency_samples(settings: Any) -> None:
    """The API's own latency samples are buffered per process: off unless a test is about them,
    so they never leak into another test's sample counts."""
    settings.METRICS_API_LATENCY = False


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in-process at `.delay()`, as the worker would (the refresh after samples, the
    re-evaluation after a threshold change). Tests about the worker itself use tests/worker.py."""
    from carloan.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def user_factory(db: Any) -> Callable[..., User]:
    return make_user


@pytest.fixture
def manager(db: Any) -> User:
    return make_user("maria_manager", "manager")


@pytest.fixture
def risk_head(db: Any) -> User:
    return make_user("rick_risk", "department_head", "risk")


@pytest.fixture
def marketing_head(db: Any) -> User:
    return make_user("mia_marketing", "department_head", "marketing")


@pytest.fixture
def tech_head(db: Any) -> User:
    return make_user("tom_tech", "department_head", "tech")


@pytest.fixture
def viewer(db: Any) -> User:
    return make_user("vic_viewer", "viewer")


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An API client signed in as `user` (or anonymous for None), through a real token."""

    keys: dict[int, str] = {}  # one token per person for the test

    def build(user: User | None) -> APIClient:
        from tests.factories import token_for

        client = APIClient()
        if user is not None:
            if user.pk not in keys:
                keys[user.pk] = token_for(user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {keys[user.pk]}")
        return client

    return build
