"""What a channel may point at (contract section 11).

A webhook is an `http(s)` URL whose host resolves only to public addresses: loopback, private,
link-local, shared (CGNAT), multicast and reserved ranges are refused unless the host is listed
in `NOTIFY_ALLOWED_HOSTS` (a lender's own chat gateway on the office network, a test receiver).
The check runs when a channel is saved (400) and again before every delivery, so a name that
later resolves to an inside address is still refused. An e-mail channel is one address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator


class RefusedTarget(ValueError):
    """The target may not be used; the message says why."""


def allowed_hosts() -> set[str]:
    return {host.strip().lower() for host in settings.NOTIFY_ALLOWED_HOSTS if host.strip()}


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip in ipaddress.ip_network("100.64.0.0/10")
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (RefusedTarget when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedTarget(f"The host {host} does not resolve ({exc}).") from None
    return sorted({str(info[4][0]) for info in infos})


def check_webhook(url: str, *, resolve_host: bool = True) -> str:
    """The URL, cleaned, or RefusedTarget: http(s), a host, no credentials in it, and (unless
    allowed) only public addresses behind the host."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("Give an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise RefusedTarget("Put no user or password in the URL: use the channel's secret.")
    if len(text) > 500:
        raise RefusedTarget("At most 500 characters.")
    host = parts.hostname.lower()
    if host in allowed_hosts():
        return text
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedTarget("The port is not a number from 1 to 65535.") from None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [str(literal)] if literal is not None else []
    if literal is None:
        if host == "localhost" or host.endswith(".localhost"):
            raise RefusedTarget(_inside(host))
        if not resolve_host:
            return text
        addresses = resolve(host, port)
    inside = [a for a in addresses if not _public(a)]
    if inside:
        raise RefusedTarget(_inside(host, inside))
    return text


def _inside(host: str, addresses: list[str] | None = None) -> str:
    where = f" ({', '.join(addresses)})" if addresses else ""
    return (
        f"{host}{where} is a loopback or private address: webhooks go to public addresses only, "
        "unless the host is listed in NOTIFY_ALLOWED_HOSTS."
    )


def check_email(address: str) -> str:
    text = (address or "").strip()
    try:
        EmailValidator()(text)
    except ValidationError:
        raise RefusedTarget("Give one e-mail address (name@example.com).") from None
    return text
