"""Sign-in protection: throttled failures and a security log.

- Failed sign-ins are counted per (username, client IP) in the shared Redis cache, so every web
  process sees the same count. After `SIGNIN_MAX_FAILURES` failures within
  `SIGNIN_WINDOW_SECONDS`, the login form and the token endpoint answer 429 (with `Retry-After`)
  for that pair until the window ends, whatever password is sent.
- Every sign-in, refusal and throttled attempt is logged on the `carloan.security` logger with
  who, from where and the outcome (never the password).
- Failures are also counted per client IP whatever the usernames: past
  `SIGNIN_MAX_FAILURES_PER_ADDRESS` in the window, every username from that address waits.
- The client IP is REMOTE_ADDR, or `X-Forwarded-For` when the connection comes from a proxy
  listed in `TRUSTED_PROXIES` (nobody else can choose the address they are counted under).
- A success clears the pair's count (not the address's: one known password must not reset a
  spray of guesses).

The counting listens to Django's `user_login_failed` / `user_logged_in` signals, so the login
form, the admin's login and the token endpoint (which all call `authenticate`) are counted alike.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.dispatch import receiver
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from carloan.middleware import is_unavailable
from carloan.realtime import session_sockets_close

logger = logging.getLogger("carloan.security")

THROTTLED_MESSAGE = (
    "Too many failed sign-ins for this user, or from this address; try again in {n} s."
)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks())


def _trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.TRUSTED_PROXIES]


def client_ip(request: HttpRequest | None) -> str:
    """The client's address. `X-Forwarded-For` is believed only when the connection comes
    from a proxy listed in TRUSTED_PROXIES: then the client is the last address in it that is
    not itself a trusted proxy (anyone can send the header; only our proxies append to it).
    Behind uvicorn's `--proxy-headers --forwarded-allow-ips` (the same proxies), REMOTE_ADDR
    already is the client."""
    if request is None:
        return "-"
    remote = str(request.META.get("REMOTE_ADDR") or "-")
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    if not forwarded or not _trusted(remote):
        return remote
    for address in reversed([a.strip() for a in forwarded.split(",") if a.strip()]):
        if not _trusted(address):
            return address[:64]
    return remote


def _key(username: str, ip: str) -> str:
    # Hashed: usernames may hold characters a cache key must not, and the cache needs no PII.
    digest = hashlib.sha256(f"{username.strip().lower()}\x00{ip}".encode()).hexdigest()[:32]
    return f"signin-failures:{digest}"


def _address_key(ip: str) -> str:
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return f"signin-failures-address:{digest}"


def _count(key: str) -> int:
    try:
        return int(cache.get(key) or 0)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # The shared cache is down: do not lock everyone out, but say so.
        logger.warning("sign-in throttle unavailable (cache down): %s", exc)
        return 0


def failures(username: str, ip: str) -> int:
    """Failed sign-ins for (username, ip) in the current window; 0 when the cache is down."""
    return _count(_key(username, ip))


def address_failures(ip: str) -> int:
    """Failed sign-ins from `ip`, whatever the usernames, in the current window."""
    return _count(_address_key(ip))


def _ttl(key: str) -> int:
    try:
        ttl = cache.ttl(key) if hasattr(cache, "ttl") else None
    except Exception:  # the count was just read: a failing TTL read is not worth a 503
        ttl = None
    return int(ttl) if ttl and ttl > 0 else settings.SIGNIN_WINDOW_SECONDS


def retry_after(username: str, ip: str) -> int | None:
    """Seconds until (username, ip) may try again, or None when not throttled: too many
    failures for this username from this address, or from this address for any usernames."""
    waits = []
    if failures(username, ip) >= settings.SIGNIN_MAX_FAILURES:
        waits.append(_ttl(_key(username, ip)))
    if address_failures(ip) >= settings.SIGNIN_MAX_FAILURES_PER_ADDRESS:
        waits.append(_ttl(_address_key(ip)))
    return max(waits) if waits else None


def _increment(key: str) -> int:
    try:
        cache.add(key, 0, timeout=settings.SIGNIN_WINDOW_SECONDS)
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr: start a new window
        cache.set(key, 1, timeout=settings.SIGNIN_WINDOW_SECONDS)
        return 1


def record_failure(username: str, ip: str) -> int:
    """Count one failed sign-in, for the pair and for the address; answer the pair's count in
    the window (0 when the cache is down)."""
    try:
        _increment(_address_key(ip))
        return _increment(_key(username, ip))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("sign-in failure not counted (cache down): %s", exc)
        return 0


def clear_failures(username: str, ip: str) -> None:
    try:
        cache.delete(_key(username, ip))
    except Exception as exc:
        if not is_unavailable(exc):
            raise


def log_throttled(username: str, ip: str, via: str) -> None:
    logger.warning("sign-in throttled: user=%r ip=%s via=%s outcome=429", username, ip, via)
    _audit("sign_in_throttled", username, ip, via)


def log_success(username: str, ip: str, via: str) -> None:
    logger.info("sign-in ok: user=%r ip=%s via=%s", username, ip, via)
    _audit("sign_in", username, ip, via)


def _audit(action: str, username: str, ip: str, via: str) -> None:
    from carloan.people.audit import record

    record(action, actor_name=username, ip=ip, detail=f"via {via}")


def _via(request: HttpRequest | None) -> str:
    path = getattr(request, "path", "") or ""
    return "token" if path.startswith("/api/") else ("admin" if "/admin/" in path else "form")


@receiver(user_login_failed, dispatch_uid="carloan.security.failed")
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")
    ip = client_ip(request)
    count = record_failure(username, ip)
    logger.warning(
        "sign-in refused: user=%r ip=%s via=%s outcome=bad-credentials failures=%d",
        username,
        ip,
        _via(request),
        count,
    )
    _audit("sign_in_failed", username, ip, _via(request))


@receiver(user_logged_out, dispatch_uid="carloan.security.logout")
def _on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Called before the session is flushed: its key still names the sockets it opened.
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        session_sockets_close(session_key)


@receiver(user_logged_in, dispatch_uid="carloan.security.ok")
def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    ip = client_ip(request)
    clear_failures(user.get_username(), ip)
    log_success(user.get_username(), ip, _via(request))


class ThrottledLoginView(LoginView):
    """The login form, answering 429 while (username, IP) has too many recent failures."""

    template_name = "registration/login.html"
    throttle_via = "form"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username") or "")
        wait = retry_after(username, client_ip(request))
        if wait is None:
            return super().post(request, *args, **kwargs)
        log_throttled(username, client_ip(request), self.throttle_via)
        form = self.get_form()
        form.cleaned_data = {}
        form._errors = ErrorDict()
        form.add_error(
            None, _("Too many failed sign-ins. Try again in %(n)d seconds.") % {"n": wait}
        )
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response


class ThrottledAdminLoginView(ThrottledLoginView):
    """Django admin's sign-in, throttled like the login form (it shares its counts)."""

    template_name = "admin/login.html"
    throttle_via = "admin"

    def get_form_class(self) -> Any:
        from django.contrib.admin.forms import AdminAuthenticationForm

        return AdminAuthenticationForm  # staff only, as admin's own

    def get_default_redirect_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:index")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.contrib import admin

        return {
            **admin.site.each_context(self.request),
            **super().get_context_data(**kwargs),
            "app_path": self.request.get_full_path(),
        }
