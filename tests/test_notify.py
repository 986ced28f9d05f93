"""Alerts that reach people (contract section 11): channels managed by managers, messages sent
to a real HTTP receiver on this machine (signed, once per alert, digests, retries, refused
targets), acknowledgement and escalation. The receiver's host is allowed through
NOTIFY_ALLOWED_HOSTS, as an office gateway would be."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from metrics.models import Alert
from metrics.notify import services
from metrics.notify.models import Channel, Delivery
from metrics.notify.selectors import alert_history as services_history
from metrics.notify.targets import RefusedTarget, check_webhook
from metrics.services import metrics_refresh
from tests.factories import make_user
from tests.test_metrics_support import sample

pytestmark = pytest.mark.django_db

CHANNELS = "/api/notifications/channels/"
API, P95 = "api_response_time", "api_response_time_p95"


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent and answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.NOTIFY_ALLOWED_HOSTS = ["127.0.0.1"]
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any, eager_celery: None) -> Callable[[], Any]:
    """Run what is queued after commit (the deliveries), in-process as the worker would."""
    from contextlib import contextmanager

    @contextmanager
    def run() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


def channel(manager: User, target: str, **fields: Any) -> Channel:
    return services.channel_create(
        user=manager,
        kind=fields.pop("kind", "webhook"),
        target=target,
        department=fields.pop("department", "tech"),
        **fields,
    )


def raise_api_latency(committed: Callable[[], Any], *values: float) -> None:
    """Today's API p95: one value is a sample of no region (one alert, for all regions); several
    are samples of as many regions (an alert each, and one for all regions)."""
    today = timezone.localdate()
    with committed():
        for n, value in enumerate(values):
            region = f"EAST-{n}" if len(values) > 1 else ""
            sample(API, f"{today.isoformat()}T04:00", value, region=region)
        metrics_refresh(start=today, end=today)


# --- channels -----------------------------------------------------------------------------------


def test_only_managers_see_and_manage_channels(
    client_for: Callable[[Any], APIClient], manager: User, risk_head: User, receiver: Receiver
) -> None:
    head = client_for(risk_head)
    assert head.get(CHANNELS).status_code == 403
    body = {"kind": "webhook", "target": receiver.url, "department": "tech"}
    assert head.post(CHANNELS, body, format="json").status_code == 403
    boss = client_for(manager)
    created = boss.post(CHANNELS, {**body, "secret": "s3cr3t-signing-key"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["has_secret"] is True
    listed = boss.get(CHANNELS)
    assert "s3cr3t-signing-key" not in listed.content.decode()
    assert "s3cr3t-signing-key" not in created.content.decode()
    assert listed.json()[0]["target"] == receiver.url


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("http://127.0.0.1:9/hook", "loopback or private"),
        ("http://localhost/hook", "loopback or private"),
        ("http://10.1.2.3/hook", "loopback or private"),
        ("http://169.254.169.254/latest/meta-data", "loopback or private"),
        ("http://[::1]/hook", "loopback or private"),
        ("http://100.64.0.9/hook", "loopback or private"),
        ("ftp://example.com/hook", "http:// or https://"),
        ("not a url", "http:// or https://"),
        ("https://user:pw@example.com/hook", "no user or password"),
    ],
)
def test_inside_or_malformed_webhook_targets_are_refused(
    client_for: Callable[[Any], APIClient], manager: User, target: str, says: str
) -> None:
    answer = client_for(manager).post(
        CHANNELS, {"kind": "webhook", "target": target, "department": "tech"}, format="json"
    )
    assert answer.status_code == 400
    assert says in answer.json()["target"][0]
    assert not Channel.objects.exists()


def test_a_public_address_passes_and_an_allowed_host_may_be_private(settings: Any) -> None:
    assert check_webhook("https://93.184.216.34/hook") == "https://93.184.216.34/hook"
    with pytest.raises(RefusedTarget):
        check_webhook("http://192.168.1.20/robot")
    settings.NOTIFY_ALLOWED_HOSTS = ["192.168.1.20"]
    assert check_webhook("http://192.168.1.20/robot") == "http://192.168.1.20/robot"


def test_email_needs_an_smtp_server_and_a_valid_address(
    client_for: Callable[[Any], APIClient], manager: User, settings: Any
) -> None:
    client = client_for(manager)
    body = {"kind": "email", "target": "risk-oncall@example.com", "department": "risk"}
    settings.EMAIL_URL = ""
    assert "EMAIL_URL" in str(client.post(CHANNELS, body, format="json").json())
    settings.EMAIL_URL = "smtp://127.0.0.1:2525"
    bad = client.post(CHANNELS, {**body, "target": "not-an-address"}, format="json")
    assert bad.status_code == 400 and "e-mail address" in bad.json()["target"][0]
    assert client.post(CHANNELS, body, format="json").status_code == 201


# --- deliveries ---------------------------------------------------------------------------------


def test_a_raised_alert_is_posted_once_signed_with_the_contracts_body(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    channel(manager, receiver.url, secret="hook-secret", min_status="warn")
    channel(manager, receiver.url + "/risk", department="risk")  # not the metric's department
    raise_api_latency(committed, 900, 100)  # p95 900 ms in EAST-0: critical (800 ms)

    # one message per alert: EAST-0, and all regions (p95 of 100 and 900: 860 ms)
    assert len(receiver.requests) == 2
    bodies = {json.loads(r["body"])["alert"]["region"]: r for r in receiver.requests}
    sent = bodies["EAST-0"]
    assert sent["path"] == "/hook"
    expected = "sha256=" + hmac.new(b"hook-secret", sent["body"], hashlib.sha256).hexdigest()
    assert sent["headers"]["X-Carloan-Signature"] == expected
    body = json.loads(sent["body"])
    alert = Alert.objects.get(metric=P95, region="EAST-0")
    assert body["alert"]["id"] == alert.pk
    assert body["alert"]["status"] == "critical"
    assert body["alert"]["value"] == 900
    assert set(body["alert"]) >= {"id", "metric", "region", "day", "status", "value"}
    assert set(body["alert"]) >= {"baseline", "delta_pct", "url"}
    assert body["alert"]["url"].endswith(f"/metrics/{P95}/?region=EAST-0&date={alert.day}")
    assert "CRITICAL" in body["text"]
    delivery = Delivery.objects.get(alert=alert)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.tries.get().status_code == 200

    # The same alerts computed again by another refresh send nothing more
    today = timezone.localdate()
    with committed():
        metrics_refresh(start=today, end=today)
    assert len(receiver.requests) == 2


def test_a_critical_only_channel_ignores_warnings(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    channel(manager, receiver.url, min_status="critical")
    raise_api_latency(committed, 400)  # warn (300 ms), not critical
    assert receiver.requests == []
    assert Alert.objects.filter(metric=P95, level="warn").exists()


def test_many_alerts_at_once_make_one_digest(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    channel(manager, receiver.url)
    raise_api_latency(committed, 900, 900, 900)  # three regions, and all: four together
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0]["body"])
    assert len(body["alerts"]) == 4 and body["text"].startswith("4 alerts raised together")
    assert Delivery.objects.get().kind == "digest"


@pytest.mark.parametrize(
    ("preset", "shape"),
    [
        ("wecom", lambda b: b["msgtype"] == "markdown" and "CRITICAL" in b["markdown"]["content"]),
        ("dingtalk", lambda b: b["msgtype"] == "markdown" and "title" in b["markdown"]),
        ("feishu", lambda b: b["msg_type"] == "text" and "CRITICAL" in b["content"]["text"]),
    ],
)
def test_chat_robots_get_their_own_payload(
    receiver: Receiver,
    manager: User,
    committed: Callable[[], Any],
    preset: str,
    shape: Callable[[dict], bool],
) -> None:
    channel(manager, receiver.url, preset=preset)
    raise_api_latency(committed, 900)
    assert shape(json.loads(receiver.requests[0]["body"]))


def test_a_failing_target_is_retried_then_failed_and_shown_failing(
    receiver: Receiver, manager: User, committed: Callable[[], Any], client_for: Any
) -> None:
    hook = channel(manager, receiver.url)
    receiver.status = 503
    raise_api_latency(committed, 900)  # in-process worker: every retry at once
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == len(services.RETRY_DELAYS) + 1
    assert delivery.tries.count() == delivery.attempts
    assert "HTTP 503" in delivery.last_error
    assert len(receiver.requests) == delivery.attempts
    # Two more failed deliveries: the channel shows as failing
    for _ in range(2):
        with committed():
            services.channel_test(user=manager, channel_id=hook.pk)
    listed = client_for(manager).get(CHANNELS).json()
    assert listed[0]["failing"] is True
    log = client_for(manager).get("/api/notifications/deliveries/").json()
    assert [d["status"] for d in log] == ["failed"] * 3
    assert len(log[-1]["tries"]) == delivery.attempts


def test_the_first_retry_comes_within_30_seconds() -> None:
    assert services.RETRY_DELAYS[0] <= 30


def test_a_redirect_is_not_followed_and_not_retried(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    channel(manager, receiver.url)
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest"
    raise_api_latency(committed, 900)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "redirects are not followed" in delivery.last_error


def test_a_slow_target_times_out_without_holding_the_worker(
    receiver: Receiver, manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.3)
    hook = channel(manager, receiver.url)
    receiver.delay = 1.5
    delivery = Delivery.objects.create(channel=hook, kind="test", created_at=timezone.now())
    started = time.monotonic()
    retry = services.deliver(delivery.pk)
    assert time.monotonic() - started < 1.2
    delivery.refresh_from_db()
    assert retry == services.RETRY_DELAYS[0] and delivery.status == "pending"
    assert "Timeout" in delivery.last_error


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes

                server.messages.append(
                    (envelope.rcpt_tos, message_from_bytes(envelope.original_content))
                )
                return "250 OK"

        import socket

        with socket.socket() as probe:  # a free port (aiosmtpd checks itself by connecting)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        self.controller.stop()
        self.running = False


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPServer]:
    server = SMTPServer()
    url = f"smtp://127.0.0.1:{server.port}"
    settings.EMAIL_URL = url
    # The test runner keeps mail in memory by default: send it to the real server instead.
    for name, value in settings_from(url).items():
        setattr(settings, name, value)
    yield server
    if server.running:
        server.controller.stop()


def settings_from(url: str) -> dict[str, Any]:
    from carloan.settings import email_from_url

    return email_from_url(url)


def test_e_mail_goes_through_a_real_smtp_server(
    manager: User, committed: Callable[[], Any], smtp_server: SMTPServer
) -> None:
    channel(manager, "tech-oncall@example.com", kind="email")
    raise_api_latency(committed, 900)
    [(to, message)] = smtp_server.messages
    assert to == ["tech-oncall@example.com"]
    assert "CRITICAL" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "/acknowledge/" in body
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_an_smtp_server_that_is_down_is_retried_then_failed(
    manager: User, committed: Callable[[], Any], smtp_server: SMTPServer
) -> None:
    channel(manager, "tech-oncall@example.com", kind="email")
    smtp_server.stop()  # nothing listens any more
    raise_api_latency(committed, 900)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == len(services.RETRY_DELAYS) + 1
    assert "Error" in delivery.last_error or "refused" in delivery.last_error.lower()


def test_silenced_and_old_alerts_send_nothing(
    receiver: Receiver, manager: User, committed: Callable[[], Any], client_for: Any
) -> None:
    channel(manager, receiver.url)
    silenced = client_for(manager).post(
        "/api/alerts/silences/",
        {
            "metric": P95,
            "region": "all",
            "until": (timezone.now() + dt.timedelta(hours=2)).isoformat(),
            "reason": "planned gateway upgrade",
        },
        format="json",
    )
    assert silenced.status_code == 201, silenced.content
    raise_api_latency(committed, 900)
    assert receiver.requests == [] and Alert.objects.filter(metric=P95).exists()
    history = services_history(Alert.objects.get(metric=P95).pk)
    # (in a test's one transaction the alert's raised_at is the transaction's start)
    assert sorted(e["event"] for e in history) == ["raised", "silenced"]
    silenced = next(e for e in history if e["event"] == "silenced")
    assert "planned gateway upgrade" in silenced["detail"] and silenced["who"] == manager.username
    assert (
        services.alerts_raised(
            [
                {
                    "id": 1,
                    "metric": P95,
                    "region": "WEST",
                    "day": "2020-01-01",
                    "level": "critical",
                    "department": "tech",
                }
            ]
        )
        == []
    )


# --- acknowledge and escalate -------------------------------------------------------------------


def test_acknowledge_keeps_who_and_when_once(
    client_for: Callable[[Any], APIClient],
    tech_head: User,
    viewer: User,
    committed: Callable[[], Any],
) -> None:
    raise_api_latency(committed, 900)
    alert = Alert.objects.get(metric=P95)
    url = f"/api/alerts/{alert.pk}/acknowledge/"
    assert client_for(viewer).post(url).status_code == 403
    taken = client_for(tech_head).post(url)
    assert taken.status_code == 200
    assert taken.json()["acknowledged_by"] == tech_head.username
    again = client_for(tech_head).post(url)
    assert again.status_code == 409
    assert again.json()["current"]["acknowledged_by"] == tech_head.username
    listed = client_for(viewer).get("/api/alerts/", {"status": "open"}).json()
    assert listed[0]["acknowledged_at"] is not None


def test_an_unacknowledged_critical_alert_escalates_once_to_the_managers(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    channel(manager, receiver.url + "/tech")
    channel(manager, receiver.url + "/managers", department="managers")
    raise_api_latency(committed, 900)
    assert [r["path"] for r in receiver.requests] == ["/hook/tech"]
    alert = Alert.objects.get(metric=P95)
    soon = alert.raised_at + dt.timedelta(minutes=29)
    with committed():
        assert services.escalate_due(now=soon) == []
    later = alert.raised_at + dt.timedelta(minutes=31)
    with committed():
        assert services.escalate_due(now=later) == [alert.pk]
        assert services.escalate_due(now=later + dt.timedelta(minutes=5)) == []
    assert [r["path"] for r in receiver.requests] == ["/hook/tech", "/hook/managers"]
    assert json.loads(receiver.requests[1]["body"])["text"].startswith("ESCALATION")


def test_an_acknowledged_alert_does_not_escalate(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    channel(manager, receiver.url, department="managers")
    raise_api_latency(committed, 900)
    alert = Alert.objects.get(metric=P95)
    services.alert_acknowledge(alert_id=alert.pk, user=manager)
    assert services.escalate_due(now=alert.raised_at + dt.timedelta(hours=2)) == []


def test_the_link_in_a_message_acknowledges_after_signing_in(
    tech_head: User, committed: Callable[[], Any]
) -> None:
    from django.test import Client

    raise_api_latency(committed, 900)
    alert = Alert.objects.get(metric=P95)
    url = f"/alerts/{alert.pk}/acknowledge/"
    assert Client().get(url).status_code == 302  # to the login form
    client = Client()
    client.force_login(tech_head)
    page = client.get(url)
    assert page.status_code == 200 and b'id="acknowledge-submit"' in page.content
    done = client.post(url)
    assert done.status_code == 302 and f"/metrics/{P95}/" in done["Location"]
    alert.refresh_from_db()
    assert alert.acknowledged_by == tech_head


@pytest.fixture
def tech_head(db: Any) -> User:
    return make_user("tina_tech", "department_head", "tech")


def test_the_page_shows_channels_to_managers_and_silences_to_all(
    manager: User, risk_head: User, viewer: User
) -> None:
    from django.test import Client

    channel(manager, "https://93.184.216.34/hook", secret="never-shown-again")
    pages = {}
    for user in (manager, risk_head, viewer):
        client = Client()
        client.force_login(user)
        page = client.get("/notifications/")
        assert page.status_code == 200
        pages[user.username] = page.content.decode()
    boss, head, reader = pages[manager.username], pages[risk_head.username], pages[viewer.username]
    assert 'id="channels-table"' in boss and "93.184.216.34" in boss
    assert "never-shown-again" not in boss
    assert 'id="channels-table"' not in head and "93.184.216.34" not in head
    assert 'id="silence-form"' in head and 'id="silence-form"' not in reader
    assert 'href="/notifications/"' in reader  # in the navigation


def test_an_alerts_history_tells_what_happened_in_order(
    receiver: Receiver, manager: User, committed: Callable[[], Any], client_for: Any, viewer: User
) -> None:
    channel(manager, receiver.url, name="Tech robot")
    raise_api_latency(committed, 900)
    alert = Alert.objects.get(metric=P95)
    services.alert_acknowledge(alert_id=alert.pk, user=manager)
    history = client_for(viewer).get(f"/api/alerts/{alert.pk}/history/")
    assert history.status_code == 200
    assert [(e["event"], e["who"]) for e in history.json()] == [
        ("raised", ""),
        ("alert_sent", "Tech robot"),
        ("acknowledged", manager.username),
    ]
    assert client_for(viewer).get("/api/alerts/999999/history/").status_code == 404


def test_a_channel_hears_at_most_once_a_minute_the_rest_comes_as_one_digest(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    from metrics.selectors import alerts_by_id

    hook = channel(manager, receiver.url)
    today = timezone.localdate()

    def alert(region: str) -> dict[str, Any]:
        made = Alert.objects.create(
            metric=P95,
            region=region,
            day=today,
            level="critical",
            value=900,
            raised_at=timezone.now(),
        )
        return alerts_by_id([made.pk])[0]

    with committed():
        services.alerts_raised([alert("R1")])
    assert len(receiver.requests) == 1  # the first goes at once

    with committed():
        services.alerts_raised([alert("R2")])
        services.alerts_raised([alert("R3")])
    assert len(receiver.requests) == 1  # held: the channel heard from us this minute
    held = Delivery.objects.filter(channel=hook, status="pending", hold_until__isnull=False)
    assert held.count() == 2
    with committed():
        assert services.flush_held(hook.pk) == []  # the minute is not over
    later = timezone.now() + dt.timedelta(seconds=services.GROUP_SECONDS + 1)
    with committed():
        [digest_id] = services.flush_held(hook.pk, now=later)
    assert len(receiver.requests) == 2
    body = json.loads(receiver.requests[1]["body"])
    assert sorted(a["region"] for a in body["alerts"]) == ["R2", "R3"]
    assert Delivery.objects.get(pk=digest_id).kind == "digest"
    assert set(
        Delivery.objects.filter(hold_until__isnull=False).values_list("status", flat=True)
    ) == {"grouped"}


def test_one_held_alert_goes_alone_when_its_minute_is_over(
    receiver: Receiver, manager: User, committed: Callable[[], Any]
) -> None:
    from metrics.selectors import alerts_by_id

    hook = channel(manager, receiver.url)
    today = timezone.localdate()
    first, second = (
        Alert.objects.create(
            metric=P95,
            region=region,
            day=today,
            level="critical",
            value=900,
            raised_at=timezone.now(),
        )
        for region in ("R1", "R2")
    )
    with committed():
        services.alerts_raised(alerts_by_id([first.pk]))
        services.alerts_raised(alerts_by_id([second.pk]))
    later = timezone.now() + dt.timedelta(seconds=services.GROUP_SECONDS + 1)
    with committed():
        services.flush_held(hook.pk, now=later)
    assert len(receiver.requests) == 2
    assert json.loads(receiver.requests[1]["body"])["alert"]["region"] == "R2"


def test_a_silence_is_pushed_to_open_dashboards_and_shown_there(
    manager: User, viewer: User, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.test_pages import signed_in

    with django_capture_on_commit_callbacks() as callbacks:
        services.silence_create(
            user=manager,
            metric=P95,
            region="all",
            until=timezone.now() + dt.timedelta(hours=1),
            reason="gateway upgrade",
        )
    assert len(callbacks) == 1  # the broadcast of silence.changed, after commit
    html = signed_in(viewer).get("/").content.decode()
    data = json.loads(
        html.split('id="dashboard-data" type="application/json">')[1].split("</script>")[0]
    )
    assert [s["metric"] for s in data["silences"]] == [P95]
