"""Rank keys: where a card sits in its cell (lane × column), as base-62 strings.

Keys compare byte-wise (the column's collation is "C"): "0" < "9" < "A" < "Z" < "a" < "z". A key
never ends in "0", so there is always room below it, and `rank_between(a, b)` always finds a
key strictly between two different keys: moving a card rewrites only that card. Keys grow by
about one digit per ~6 moves into the same gap; when a new key would be longer than
`MAX_RANK_LENGTH`, the writer rebalances the whole cell (`spread`) in the same transaction.
Pure functions, no database.
"""

from __future__ import annotations

import math

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
INDEX = {digit: i for i, digit in enumerate(DIGITS)}
MAX_RANK_LENGTH = 16


def _valid(key: str) -> bool:
    return bool(key) and not key.endswith("0") and all(c in INDEX for c in key)


def rank_between(lo: str | None, hi: str | None) -> str:
    """A key strictly between `lo` and `hi` (None: no neighbour on that side).

    Raises ValueError when the neighbours are not valid keys or not in order.
    """
    a = lo or ""
    if a and not _valid(a):
        raise ValueError(f"not a rank key: {lo!r}")
    if hi is not None and not _valid(hi):
        raise ValueError(f"not a rank key: {hi!r}")
    if hi is not None and a >= hi:
        raise ValueError(f"rank keys out of order: {lo!r} >= {hi!r}")
    return _midpoint(a, hi)


def _midpoint(a: str, b: str | None) -> str:
    # 1. Keep the common prefix (a is padded with "0"s, its implicit digits).
    if b is not None:
        n = 0
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n:
            return b[:n] + _midpoint(a[n:], b[n:])
    # 2. The first digits differ: take one between them when there is room.
    low = INDEX[a[0]] if a else 0
    high = INDEX[b[0]] if b is not None else BASE
    if high - low > 1:
        return DIGITS[(low + high) // 2]
    # 3. Adjacent digits: b's first digit alone fits when b goes on (b > that digit) ...
    if b is not None and len(b) > 1:
        return b[0]
    # 4. ... else keep a's first digit and go one level deeper, above the rest of a.
    return DIGITS[low] + _midpoint(a[1:], None)


def spread(count: int) -> list[str]:
    """`count` short keys in increasing order, evenly spaced (the keys of a rebalanced cell)."""
    if count <= 0:
        return []
    length = max(1, math.ceil(math.log(count + 1, BASE)) + 1)
    span = BASE**length
    keys = []
    for i in range(1, count + 1):
        value = i * span // (count + 1)
        digits = []
        for _ in range(length):
            value, digit = divmod(value, BASE)
            digits.append(DIGITS[digit])
        keys.append("".join(reversed(digits)).rstrip("0"))
    return keys
