"""People's identifiers, kept only as keyed hashes (contract section 10).

An applicant key, phone, VIN, device or dealer is normalised (so "+86 138-0013-8000" and
"13800138000" are one phone), then stored as `HMAC-SHA256(key, kind:normalised)` in hex, a colon,
and its last four characters: `3f2a…e1:8000` (fewer for an identifier shorter than 10
characters, so that the masked form never gives a short one away). Equal identifiers give equal
stored values, so every cross-check is a plain equality join, and the last characters are the
masked form a page may show (`****8000`). The whole identifier is never stored, logged or answered.

The key is `IDENTIFIER_HMAC_KEY` (settings; by default derived from `SECRET_KEY`): changing it
makes every stored identifier unmatchable, so production sets its own and keeps it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re

from django.conf import settings

KINDS = ("applicant", "phone", "vin", "device", "dealer")
# The types of blacklist entries, in the order pages and files list them.
BLACKLIST_TYPES = ("applicant", "phone", "vin", "dealer", "device")
STORED_MAX = 64 + 1 + 4

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_INTERNATIONAL = re.compile(r"\+[1-9]\d{6,14}")
# A VIN: 17 letters and digits, never I, O or Q (ISO 3779).
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_TEXT_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


class InvalidIdentifier(ValueError):
    """The value cannot be this kind of identifier; the message says why."""


def normalise(kind: str, raw: str) -> str:
    """The canonical form of an identifier, or InvalidIdentifier."""
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("is empty")
    if kind == "phone":
        digits = _PHONE_SEPARATORS.sub("", value)
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
                digits = digits[len(prefix) :]
        if _CN_MOBILE.fullmatch(digits):
            return digits
        if _INTERNATIONAL.fullmatch(digits):
            return digits
        raise InvalidIdentifier(
            "is not a phone number: give an 11-digit mainland mobile (13800138000) or an "
            "international number with its + and country code"
        )
    if kind == "vin":
        vin = value.upper().replace(" ", "")
        if len(vin) != 17:
            raise InvalidIdentifier(f"is {len(vin)} characters long; a VIN has 17")
        if not _VIN.fullmatch(vin):
            raise InvalidIdentifier(
                "holds a character a VIN cannot have (only A-Z and 0-9, no I, O or Q)"
            )
        return vin
    if kind in ("applicant", "device", "dealer"):
        if not _TEXT_ID.fullmatch(value):
            raise InvalidIdentifier("is longer than 128 characters or holds a control character")
        return value.upper() if kind == "applicant" else value
    raise ValueError(f"unknown identifier kind {kind!r}")


@functools.cache
def _key() -> bytes:
    configured = getattr(settings, "IDENTIFIER_HMAC_KEY", "")
    if configured:
        return configured.encode()
    # Derived, so a SECRET_KEY alone is enough to run; not the SECRET_KEY itself.
    return hmac.new(settings.SECRET_KEY.encode(), b"carloan identifiers", hashlib.sha256).digest()


def stored(kind: str, raw: str) -> str:
    """What the database keeps of an identifier: its keyed hash and its last four characters."""
    value = normalise(kind, raw)
    digest = hmac.new(_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{digest}:{value[-_shown(value) :] if _shown(value) else ''}"


def _shown(value: str) -> int:
    """How many last characters the masked form keeps: four, but never a third or more of a
    short identifier (the last four of "ID-7" would be all of it)."""
    return 4 if len(value) >= 10 else len(value) // 3


def masked(value: str | None) -> str | None:
    """The form a page may show of a stored identifier: `****8000`."""
    if not value:
        return None
    return "****" + value.rsplit(":", 1)[-1]
