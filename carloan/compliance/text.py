"""Text as the checker reads it: full-width characters folded (NFKC), lower case, with a map
back to the original text's offsets; numbers written in digits or in Chinese numerals."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}  # fmt: skip
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}

# A number as people write it in a script: digits (with decimals), or Chinese numerals.
# Bounded, and never starting inside a longer number, so that a run of thousands of digits
# costs linear time, not quadratic.
_NUMERALS = "零〇一二两三四五六七八九十百千万点"
NUMBER = rf"(?:(?<![\d.])\d{{1,9}}(?:\.\d{{1,6}})?|(?<![{_NUMERALS}])[{_NUMERALS}]{{1,12}})"


@dataclass(frozen=True)
class Folded:
    """`text` folded for matching, and for each of its characters the offset in the original."""

    text: str
    origin: list[int]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in the original text of folded [start, end)."""
        if start >= len(self.origin):
            return len(self.original), len(self.original)
        first = self.origin[start]
        last = self.origin[end - 1] + 1 if end > start else first
        return first, last


def fold(text: str) -> Folded:
    """NFKC and lower case, a character at a time (so each keeps its origin), with every run of
    whitespace folded to one space: patterns then never wade through a run of blanks (which
    would cost quadratic time on a hostile text)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).lower():
            if piece.isspace():
                if out and out[-1] == " ":
                    continue
                piece = " "
            out.append(piece)
            origin.append(index)
    return Folded("".join(out), origin, text)


def number_value(raw: str) -> float | None:
    """12, 0.3, 二十, 百分之二十's 二十, 两, 零点三, 九五 (as in 九五折: 9.5) → a float."""
    raw = raw.strip()
    if not raw:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    if "点" in raw:
        whole, _, fraction = raw.partition("点")
        head = number_value(whole) if whole else 0.0
        digits = "".join(str(_DIGITS[c]) for c in fraction if c in _DIGITS)
        if head is None or not digits:
            return None
        return float(f"{int(head)}.{digits}")
    if all(c in _DIGITS for c in raw):
        if len(raw) == 1:
            return float(_DIGITS[raw])
        # 九五 (折), 八五: digit by digit, read as a decimal of the first
        return float(f"{_DIGITS[raw[0]]}.{''.join(str(_DIGITS[c]) for c in raw[1:])}")
    total, current = 0, 0
    for char in raw:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char in _UNITS:
            unit = _UNITS[char]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return float(total + current)
