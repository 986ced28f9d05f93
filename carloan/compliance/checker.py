"""The checker: a text (a sales script or a call transcript, Chinese, English or mixed) and the
live parameters in, findings out. Pure: no database, so it is tested and measured directly.

1. Fold the text (full-width characters, case), keeping a map back to the original offsets.
2. Match every category's patterns. A match that its clause negates or warns against ("我们不能
   保证一定通过审批", "this is not a zero-interest product", "谨防…") is no finding: the cue must
   stand in the same clause, before the match.
3. Read numbers against the live parameters: a down payment below what `risk.max_ltv_pct`
   allows, a loan share of the car's value above it, a discount above
   `marketing.max_promo_discount_pct`, and a monthly or daily rate in a text that gives no
   annual rate.
4. Merge overlapping findings of one category; each keeps the offsets of the original text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from carloan.compliance.library import BY_KEY, CATEGORIES, HIGH, MEDIUM, Category
from carloan.compliance.text import NUMBER, Folded, fold, number_value

try:  # Python 3.11+: the parser lives in re._parser
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

if TYPE_CHECKING:
    from carloan.compliance.learned import LearnedModel

MAX_TEXT = 20_000
LTV_KEY = "risk.max_ltv_pct"
DISCOUNT_KEY = "marketing.max_promo_discount_pct"
PROMOTIONS_KEY = "marketing.promotions_enabled"


def discount_limit(parameters: Mapping[str, Any]) -> float:
    """The largest discount a text may promise: none at all while promotions are switched off
    (`marketing.promotions_enabled`), else `marketing.max_promo_discount_pct`."""
    if parameters.get(PROMOTIONS_KEY, True) is False:
        return 0.0
    return float(parameters.get(DISCOUNT_KEY, 5))


_CJK = re.compile(r"[\u3400-\u9fff]")
# Where a clause ends: a negation before that point says nothing about what follows.
_CLAUSE_END = re.compile(r"[。！？；;!?\n，,：:]|\.(?=\s|$)")
_NEGATION = re.compile(
    r"(不能|不会|不可能|无法|不存在|并非|并不|不是|从不|从来不|绝不|决不|严禁|禁止|请勿|切勿|谨防|"
    r"警惕|当心|提防|小心|凡是|号称|声称|谎称|所谓|不承诺|不保证|没有人能|没人能|不得|拒绝|杜绝|"
    r"举报|不要相信|别相信|别信|不要信|"
    r"\bnot\b|\bnever\b|\bno one\b|\bnobody\b|\bcannot\b|\bcan't\b|\bcan not\b|\bdon't\b|"
    r"\bdo not\b|\bwon't\b|\bwill not\b|\bisn't\b|\bis not\b|\baren't\b|\bdoesn't\b|"
    r"\bdoes not\b|\bbeware\b|\bavoid\b|\brefuse\b|\bclaims?\b|\bwhoever\b|\banyone who\b|"
    r"\bif someone\b|\bno such thing\b)"
)
_WINDOW = 40  # characters before a match in which a negation may stand (same clause)


@dataclass(frozen=True)
class Finding:
    category: str
    start: int
    end: int
    excerpt: str
    severity: str
    suggestion: str
    parameter: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    compliant: bool
    findings: list[Finding]

    def as_dict(self) -> dict[str, Any]:
        return {"compliant": self.compliant, "findings": [f.as_dict() for f in self.findings]}


# What the rules read in a stretch of the folded text (the learned model's features, too).
MATCH, NEGATED, OVER, WITHIN = "match", "negated", "over", "within"


@dataclass(frozen=True)
class Signal:
    """A pattern of `category` matched (`kind` MATCH) or matched in a clause that negates or
    warns against it (NEGATED); or a number read against the live parameters, beyond the limit
    (OVER, a finding) or within it (WITHIN). Offsets into the folded text."""

    category: str
    start: int
    end: int
    kind: str


# A warning that follows what it warns against: "说不查征信的都不靠谱", "… is a red flag".
_WARNED_AFTER = re.compile(
    r"^[^。！？；;!?\n]{0,12}?(的)?\s*(都|全|一律)?\s*(不靠谱|是骗子|是骗局|是诈骗|不可信|不能信|别信|"
    r"是假的|是违规|违法|不合规)|^[^.!?]{0,30}\b(is|are)\s+(a\s+)?(scam|lie|red\s+flag|fraud|illegal)"
)


def negated(folded: str, start: int, end: int | None = None) -> bool:
    """True when the clause holding `start` says, before it, that it is not so (or warns), or
    right after it that it is a scam."""
    window_start = max(0, start - _WINDOW)
    window = folded[window_start:start]
    ends = list(_CLAUSE_END.finditer(window))
    if ends:
        window = window[ends[-1].end() :]
    if _NEGATION.search(window):
        return True
    return end is not None and bool(_WARNED_AFTER.search(folded[end : end + 40]))


# --- scanning: every pattern's matches, as `finditer` gives them, faster ----------------------
#
# A pattern runs only where it can match. From its parse tree: literal strings one of which
# every match holds (its anchors: 验证码|动态码|…, 包过|包批|…), and the longest match it can
# make (whitespace repeats count one character: the folded text has no run of blanks). Where
# no anchor occurs there is no match; around each occurrence, a window as wide as the longest
# match (and what a lookahead may see) is searched, from where the last match ended: the
# matches are those of `pattern.finditer(text)`, in order. A pattern without anchors, or with
# an unbounded repeat, is searched in full (the latter only when one of its anchors occurs).

_UNBOUNDED = 1 << 20
_EXACT_CAP = 64
_CANDIDATES = 2  # anchor sets tried: one absent from the text rules the pattern out
_GAP = 200  # characters: searching them costs less than one more call


class _Plan:
    """How to search for one pattern: its anchors (None: search everywhere), the longest match,
    and how far past a match its lookaheads see."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.anchors: tuple[str, ...] | None = None
        self.candidates: list[tuple[str, ...]] = []
        self.width = _UNBOUNDED
        self.ahead = 0
        self.chunked = False
        if pattern.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE):
            return
        try:
            tree = sre_parse.parse(pattern.pattern)
            candidates = _candidates(list(tree))
            self.width = min(_UNBOUNDED, _width(list(tree)))
            self.ahead = _ahead(list(tree))
        except Exception:  # an unusual construct: search everywhere
            return
        # every match holds one anchor of each set; the sets, best (longest anchors) first
        self.candidates = [_shortest(c) for c in candidates]
        self.anchors = self.candidates[0] if self.candidates else None
        # a match of unbounded width that cannot hold 。!?; lies between two of them
        self.chunked = self.width >= _UNBOUNDED and not _consumes(list(tree), _STOPS)
        _ANCHORS.add(a for candidate in self.candidates[:_CANDIDATES] for a in candidate)


_STOPS = "。!?;"  # folded: ！？； are !?;
_STOP = re.compile("[。!?;]")


def _consumes(items: list[Any], chars: str) -> bool:
    """Whether a match of `items` may hold one of `chars` (when unsure: yes)."""
    for op, av in items:
        if op is sre_constants.LITERAL:
            found = chr(av) in chars
        elif op is sre_constants.IN:
            found = any(_in_set(list(av), char) for char in chars)
        elif op is sre_constants.SUBPATTERN:
            found = _consumes(list(av[3]), chars)
        elif op is sre_constants.BRANCH:
            found = any(_consumes(list(alt), chars) for alt in av[1])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            found = _consumes(list(av[2]), chars)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT):
            found = False  # looks, holds nothing
        else:  # NOT_LITERAL, ANY, a group reference…
            found = True
        if found:
            return True
    return False


_CATEGORY_TEST: dict[Any, Callable[[str], bool]] = {
    sre_constants.CATEGORY_DIGIT: str.isdecimal,
    sre_constants.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    sre_constants.CATEGORY_SPACE: str.isspace,
    sre_constants.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre_constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre_constants.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


def _in_set(items: list[Any], char: str) -> bool:
    """Whether the character set `items` (a parsed [...]) holds `char` (when unsure: yes)."""
    negate = bool(items) and items[0][0] is sre_constants.NEGATE
    found = False
    for op, av in items[1:] if negate else items:
        if op is sre_constants.LITERAL:
            found = found or ord(char) == av
        elif op is sre_constants.RANGE:
            found = found or av[0] <= ord(char) <= av[1]
        elif op is sre_constants.CATEGORY and av in _CATEGORY_TEST:
            found = found or _CATEGORY_TEST[av](char)
        else:
            return True
    return not found if negate else found


def _shortest(anchors: set[str]) -> tuple[str, ...]:
    """The anchors, less those holding another one (an occurrence of it is one of the other)."""
    ordered = sorted(anchors, key=lambda a: (len(a), a))
    return tuple(a for i, a in enumerate(ordered) if not any(b in a for b in ordered[:i]))


def _only_blank(items: list[Any]) -> bool:
    """Every match of `items` is blanks only (a repeat of it spans at most one folded char)."""
    for op, av in items:
        if op is sre_constants.IN:
            if not all(
                o is sre_constants.CATEGORY and a is sre_constants.CATEGORY_SPACE for o, a in av
            ):
                return False
        elif op is sre_constants.LITERAL:
            if av != ord(" "):
                return False
        elif op is sre_constants.SUBPATTERN:
            if not _only_blank(list(av[3])):
                return False
        elif op is sre_constants.BRANCH:
            if not all(_only_blank(list(alt)) for alt in av[1]):
                return False
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            if not _only_blank(list(av[2])):
                return False
        else:
            return False
    return True


def _width(items: list[Any]) -> int:
    total = 0
    for op, av in items:
        if op in (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN,
                  sre_constants.ANY):  # fmt: skip
            total += 1
        elif op is sre_constants.SUBPATTERN:
            total += _width(list(av[3]))
        elif op is sre_constants.BRANCH:
            total += max(_width(list(alt)) for alt in av[1])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _, high, sub = av
            if _only_blank(list(sub)):
                total += 1
            elif high == sre_constants.MAXREPEAT:
                return _UNBOUNDED
            else:
                total += high * _width(list(sub))
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT):
            pass
        else:
            return _UNBOUNDED
        if total >= _UNBOUNDED:
            return _UNBOUNDED
    return total


def _ahead(items: list[Any]) -> int:
    """How far past a match a lookahead (or a boundary) may look."""
    out = 0
    for op, av in items:
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            direction, sub = av
            out = max(out, _width(list(sub)) if direction == 1 else 0, _ahead(list(sub)))
        elif op is sre_constants.AT:
            out = max(out, 1)
        elif op is sre_constants.SUBPATTERN:
            out = max(out, _ahead(list(av[3])))
        elif op is sre_constants.BRANCH:
            out = max([out] + [_ahead(list(alt)) for alt in av[1]])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            out = max(out, _ahead(list(av[2])))
    return out


def _exact(op: Any, av: Any) -> set[str] | None:
    """The strings an element matches, when they are few and fixed."""
    if op is sre_constants.LITERAL:
        return {chr(av)}
    if op is sre_constants.IN:
        if len(av) <= 8 and all(o is sre_constants.LITERAL for o, _ in av):
            return {chr(a) for _, a in av}
        return None
    if op is sre_constants.SUBPATTERN:
        return _exact_seq(list(av[3]))
    if op is sre_constants.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            found = _exact_seq(list(alt))
            if found is None:
                return None
            out |= found
        return out if len(out) <= _EXACT_CAP else None
    return None


def _exact_seq(items: list[Any]) -> set[str] | None:
    out = {""}
    for op, av in items:
        found = _exact(op, av)
        if found is None or len(out) * len(found) > _EXACT_CAP:
            return None
        out = {a + b for a in out for b in found}
    return out


def _candidates(items: list[Any]) -> list[set[str]]:
    """Sets of strings, every match of `items` holding one string of each set: a run of fixed
    elements (their concatenations), or a mandatory element's own set. Best first."""
    candidates: list[set[str]] = []
    run: set[str] | None = None
    for op, av in items:
        found = _exact(op, av)
        if found is not None and (run is None or len(run) * len(found) <= _EXACT_CAP):
            run = found if run is None else {a + b for a in run for b in found}
            continue
        if run is not None:
            candidates.append(run)
        run = found
        if found is None:
            inner: list[set[str]] = []
            if op is sre_constants.SUBPATTERN:
                inner = _candidates(list(av[3]))
            elif op is sre_constants.BRANCH:
                alternatives = [_candidates(list(alt)) for alt in av[1]]
                if all(alternatives):
                    inner = [{a for alt in alternatives for a in alt[0]}]
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:
                inner = _candidates(list(av[2]))
            candidates.extend(inner)
    if run is not None:
        candidates.append(run)
    candidates = [c for c in candidates if c and "" not in c]
    return sorted(candidates, key=lambda c: (-min(len(a) for a in c), len(c), sorted(c)))


_PLANS: dict[int, _Plan] = {}


def _plan(pattern: re.Pattern[str]) -> _Plan:
    """The pattern's plan, made once. Keyed by identity: hashing a compiled pattern hashes its
    code, every time; the plan holds the pattern, so its id is not reused meanwhile."""
    plan = _PLANS.get(id(pattern))
    if plan is None or plan.pattern is not pattern:
        if len(_PLANS) > 4096:  # patterns of libraries edited long ago
            _PLANS.clear()
        plan = _PLANS[id(pattern)] = _Plan(pattern)
    return plan


class _AnchorIndex:
    """Every anchor of the plans made so far, by its first one to three characters as a number
    (21 bits a character): looking a text's n-grams up in it finds all the anchors at once."""

    def __init__(self) -> None:
        self.anchors: set[str] = set()
        self.built: tuple[list[tuple[np.ndarray, list[tuple[str, ...]]]], frozenset[str]] | None
        self.built = None

    def add(self, anchors: Iterable[str]) -> None:
        new = set(anchors) - self.anchors
        if new:
            self.anchors |= new
            self.built = None

    def tables(self) -> tuple[list[tuple[np.ndarray, list[tuple[str, ...]]]], frozenset[str]]:
        """Per prefix length 1, 2, 3: the sorted prefix numbers and the anchors of each; and
        the anchors the tables cover."""
        built = self.built
        if built is None:
            covered = frozenset(self.anchors)
            groups: list[dict[int, list[str]]] = [{}, {}, {}]
            for anchor in sorted(covered):
                size = min(3, len(anchor))
                groups[size - 1].setdefault(_gram_number(anchor[:size]), []).append(anchor)
            tables = [
                (np.asarray(sorted(g), dtype=np.int64), [tuple(g[k]) for k in sorted(g)])
                for g in groups
            ]
            built = self.built = (tables, covered)
        return built


def _gram_number(gram: str) -> int:
    number = 0
    for char in gram:
        number = (number << 21) | ord(char)
    return number


_ANCHORS = _AnchorIndex()


class _Scan:
    """One folded text, searched pattern after pattern: where each anchor occurs (found for
    all the anchors at once, shared by the patterns)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions: dict[str, list[int]] | None = None
        self.covered: frozenset[str] = frozenset()
        self.stops: list[int] | None = None

    def _locate(self) -> dict[str, list[int]]:
        """Where every anchor of the index occurs: the text's 1-, 2- and 3-grams as numbers,
        looked up in the index; a longer anchor is checked in full where its start occurs."""
        tables, self.covered = _ANCHORS.tables()
        text = self.text
        code = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        grams = [
            code,
            (code[:-1] << 21) | code[1:],
            (((code[:-2] << 21) | code[1:-1]) << 21) | code[2:],
        ]
        positions: dict[str, list[int]] = {}
        for (keys, anchors), numbers in zip(tables, grams, strict=True):
            if not keys.size or not numbers.size:
                continue
            at = np.minimum(np.searchsorted(keys, numbers), keys.size - 1)
            hits = np.flatnonzero(keys[at] == numbers)
            for position, index in zip(hits.tolist(), at[hits].tolist(), strict=True):
                for anchor in anchors[index]:
                    if len(anchor) <= 3 or text.startswith(anchor, position):
                        positions.setdefault(anchor, []).append(position)
        self.positions = positions
        return positions

    def _where(self, anchor: str) -> list[int]:
        positions = self.positions if self.positions is not None else self._locate()
        found = positions.get(anchor)
        if found is None:
            found = []
            if anchor not in self.covered:  # a pattern first seen in this scan: find it
                find, at = self.text.find, self.text.find(anchor)
                while at >= 0:
                    found.append(at)
                    at = find(anchor, at + 1)
                positions[anchor] = found
        return found

    def _in_chunks(
        self, pattern: re.Pattern[str], plan: _Plan, anchors: list[str]
    ) -> list[re.Match[str]]:
        """The matches of a pattern that cannot hold 。!?;: searched between two of them,
        where an anchor occurs."""
        if self.stops is None:
            self.stops = [m.start() for m in _STOP.finditer(self.text)]
        stops, size = self.stops, len(self.text)
        chunks = set()
        for anchor in anchors:
            for at in self._where(anchor):
                index = bisect.bisect_right(stops, at)
                low = stops[index - 1] + 1 if index else 0
                chunks.add((low, stops[index] if index < len(stops) else size))
        out: list[re.Match[str]] = []
        last, ahead = 0, plan.ahead + 1
        for low, high in sorted(chunks):
            for match in pattern.finditer(self.text, max(low, last), min(size, high + ahead)):
                if match.start() >= high:
                    break
                out.append(match)
                last = match.end()
        return out

    def finditer(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """`list(pattern.finditer(text))`, searched only where it can match."""
        plan = _plan(pattern)
        text = self.text
        if plan.anchors is None:
            return list(pattern.finditer(text))
        # a set none of whose anchors the text may hold: no match; else the set holding fewest
        anchors: list[str] = []
        for candidate in plan.candidates[:_CANDIDATES]:
            live = [a for a in candidate if self._where(a)]
            if not live:
                return []
            anchors = anchors or live
        if plan.width >= _UNBOUNDED:
            if plan.chunked:
                return self._in_chunks(pattern, plan, anchors)
            if any(self._where(a) for a in anchors):
                return list(pattern.finditer(text))
            return []
        width = plan.width
        places = [(anchor, self._where(anchor)) for anchor in anchors]
        count = sum(len(at) for _, at in places)
        if count == 0:
            return []
        if count * (2 * width + _GAP) >= len(text):  # windows all over: one search is cheaper
            return list(pattern.finditer(text))
        windows = sorted((at + len(a) - width, at + width) for a, ats in places for at in ats)
        out: list[re.Match[str]] = []
        last, size, ahead = 0, len(text), plan.ahead + 1
        index = 0
        while index < len(windows):
            low, high = windows[index]
            index += 1
            # windows closer than _GAP are searched as one: exact, and fewer calls
            while index < len(windows) and windows[index][0] <= high + _GAP:
                high = max(high, windows[index][1])
                index += 1
            for match in pattern.finditer(text, max(low, last, 0), min(size, high + ahead)):
                out.append(match)
                last = match.end()
        return out


# --- numbers read against the live parameters ------------------------------------------------

Span = tuple[int, int]
_PCT = rf"(?:(?P<hundred>百分之)\s*)?(?P<n>{NUMBER})\s*(?P<unit>%|％|成|个点|percent)?"


def _pct(match: re.Match[str]) -> float | None:
    """A percentage: N%, N成 (tens), N个点, or 百分之N; a bare number is none."""
    unit = match.groupdict().get("unit")
    if unit is None and match.groupdict().get("hundred") is None:
        return None
    value = number_value(match.group("n"))
    if value is None:
        return None
    return value * 10 if unit == "成" else value


_DOWN = [
    re.compile(rf"首付\s*(款)?\s*(只要|仅需|仅要|低至|最低|只需|才|只|低到|不到|仅)?\s*{_PCT}"),
    re.compile(rf"{_PCT}\s*(的)?\s*首付"),
    re.compile(rf"(?P<n>{NUMBER})\s*(?P<unit>%)\s*down\b"),
    re.compile(
        rf"down\s*payment\s*(of\s+|is\s+|as\s+low\s+as\s+|from\s+|just\s+|only\s+|of\s+just\s+)*"
        rf"(?P<n>{NUMBER})\s*(?P<unit>%)"
    ),
    re.compile(rf"(put|pay)\s+(down\s+)?(just\s+|only\s+)?(?P<n>{NUMBER})\s*(?P<unit>%)\s+down"),
]
_SHARE = [
    re.compile(
        rf"(贷款|额度|可贷|能贷|贷|借)\s*(额度|金额)?\s*(可达|高达|最高|达到|可以到|到|达|为|是)?\s*"
        rf"(车价|车值|评估价|车辆价值|车款|裸车价)\s*的?\s*{_PCT}"
    ),
    re.compile(rf"(车价|车值|评估价|车辆价值)\s*的?\s*{_PCT}\s*(都|也)?\s*(能|可以|可)\s*(贷|借)"),
    re.compile(
        rf"(loan|borrow|finance|lend|financing)\s+(you\s+)?(of\s+)?(up\s+to\s+|as\s+much\s+as\s+)?"
        rf"(?P<n>{NUMBER})\s*(?P<unit>%)\s+of\s+(what\s+)?(the\s+|your\s+)?(car|vehicle)"
    ),
]
_DISCOUNT = [
    re.compile(
        rf"(优惠|折扣|让利|减免|立减|直降|降息|利率下调|返现|返利)\s*(高达|最高|达|可达|最多|足足|达到)?"
        rf"\s*{_PCT}"
    ),
    re.compile(rf"(打\s*)?(?P<n>{NUMBER})\s*折(?!旧|扣|算|合|叠)"),
    re.compile(rf"(?P<n>{NUMBER})\s*(?P<unit>%)\s*(off|discount|rebate|cash\s*back)"),
    re.compile(
        rf"(discount|save|savings|rebate|cut|knock)\s+(of\s+|up\s+to\s+|as\s+much\s+as\s+|off\s+)*"
        rf"(?P<n>{NUMBER})\s*(?P<unit>%)"
    ),
]
_PERIODIC_RATE = re.compile(
    rf"(月息|月利率|月费率|日息|日利率|日费率|每月利息|月供利息|利息每月|利息每天|每天利息|一天利息|月\s*息)"
    rf"\s*(只要|仅|低至|才|只有|最低|为|是)?\s*(万分之|千分之)?\s*{NUMBER}\s*(%|厘|分)?"
    rf"|{NUMBER}\s*(%|厘)\s*(的)?\s*(月息|月利率|日息|日利率)"
    rf"|{NUMBER}\s*%\s*(a|per|each|every)\s*(month|day)"
    rf"|(monthly|daily)\s+(interest\s+)?(rate|interest)\s+(of\s+|is\s+|just\s+|only\s+|from\s+)*"
    rf"{NUMBER}\s*%"
)
_ANNUAL = re.compile(r"年化|年利率|年息|年费率|apr\b|annual|per\s+year|a\s+year|yearly|per\s+annum")


def _numbers(
    scan: _Scan, patterns: list[re.Pattern[str]], read: Callable[[re.Match[str]], float | None]
) -> Iterator[tuple[Span, float, bool]]:
    """Every number read, with whether its clause negates it."""
    for pattern in patterns:
        for match in scan.finditer(pattern):
            value = read(match)
            if value is not None:
                yield (match.start(), match.end()), value, negated(scan.text, match.start())


def _discount(match: re.Match[str]) -> float | None:
    value = number_value(match.group("n"))
    if value is None:
        return None
    groups = match.groupdict()
    if groups.get("unit") is None and groups.get("hundred") is None:
        # 七折 (pay 70 %), 八五折 / 8.5折 (pay 85 %), 85折; but 优惠百分之五 is 5 %
        paid = value * 10 if value < 10 else value
        return 100 - paid if 0 < paid < 100 else None
    return value * 10 if match.group("unit") == "成" else value


def _numeric_signals(
    scan: _Scan, parameters: Mapping[str, Any], wanted: Container[str] = BY_KEY
) -> Iterator[Signal]:
    max_ltv = float(parameters.get(LTV_KEY, 80))
    max_discount = discount_limit(parameters)
    reads: list[tuple[str, list[re.Pattern[str]], Callable[[re.Match[str]], float | None]]] = [
        ("zero_down_payment", _DOWN, _pct),
        ("excess_loan_amount", _SHARE, _pct),
        ("excess_discount", _DISCOUNT, _discount),
    ]
    over: dict[str, Callable[[float], bool]] = {
        "zero_down_payment": lambda down: down < 100 - max_ltv,
        "excess_loan_amount": lambda share: share > max_ltv,
        "excess_discount": lambda discount: discount > max_discount,
    }
    for key, patterns, read in reads:
        if key not in wanted:
            continue
        for (start, end), value, is_negated in _numbers(scan, patterns, read):
            kind = NEGATED if is_negated else OVER if over[key](value) else WITHIN
            yield Signal(key, start, end, kind)
    if "rate_without_apr" not in wanted:
        return
    annual = _ANNUAL.search(scan.text) is not None
    for match in scan.finditer(_PERIODIC_RATE):
        kind = NEGATED if negated(scan.text, match.start()) else WITHIN if annual else OVER
        yield Signal("rate_without_apr", match.start(), match.end(), kind)


# --- the check --------------------------------------------------------------------------------


def _suggestion(category: Category, excerpt: str) -> str:
    return category.suggestion_zh if _CJK.search(excerpt) else category.suggestion_en


def signals(
    folded: Folded, parameters: Mapping[str, Any], categories: tuple[Category, ...] = CATEGORIES
) -> list[Signal]:
    """Every reading of the rules in `folded`: matches, negated matches, numbers read."""
    scan = _Scan(folded.text)
    found: list[Signal] = []
    for category in categories:
        for pattern in category.compiled:
            for match in scan.finditer(pattern):
                if match.end() > match.start():
                    kind = NEGATED if negated(folded.text, match.start(), match.end()) else MATCH
                    found.append(Signal(category.key, match.start(), match.end(), kind))
    found.extend(_numeric_signals(scan, parameters, {c.key for c in categories}))
    return found


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _whole_words(text: str, first: int, last: int) -> tuple[int, int]:
    """A span widened to whole Latin words: a pattern may stop inside one ("guaranteed
    approv…"), and a highlight should not cut a word in two."""
    while 0 < first < len(text) and _latin(text[first - 1]) and _latin(text[first]):
        first -= 1
    while 0 < last < len(text) and _latin(text[last - 1]) and _latin(text[last]):
        last += 1
    return first, last


def check_text(
    text: str,
    *,
    parameters: Mapping[str, Any],
    categories: tuple[Category, ...] = CATEGORIES,
    model: LearnedModel | None = None,
    use_model: bool = True,
) -> Result:
    """Every finding of `text` (offsets into `text` itself), and whether it is compliant.

    The rules find; then, unless `use_model` is false, the learned model (`model`, or the one
    shipped in `data/model.json`, if any) adds what it finds sentence by sentence and may drop a
    rule finding it is confident is wrong (`learned`)."""
    folded = fold(text)
    found = signals(folded, parameters, categories)
    raw: list[tuple[str, Span]] = [
        (s.category, (s.start, s.end)) for s in found if s.kind in (MATCH, OVER)
    ]
    if use_model:
        from carloan.compliance.learned import shipped_model

        active = model if model is not None else shipped_model()
        if active is not None:
            raw = active.revise(folded, found, raw, parameters, categories)

    findings: list[Finding] = []
    for key in sorted({k for k, _ in raw}, key=list(BY_KEY).index):
        spans = sorted(span for k, span in raw if k == key)
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        category = BY_KEY[key]
        for start, end in merged:
            first, last = _whole_words(text, *folded.span(start, end))
            excerpt = text[first:last]
            findings.append(
                Finding(
                    category=key,
                    start=first,
                    end=last,
                    excerpt=excerpt,
                    severity=category.severity,
                    suggestion=_suggestion(category, excerpt),
                    parameter=category.parameter,
                )
            )
    findings.sort(key=lambda f: (f.start, f.category))
    compliant = not any(f.severity in (HIGH, MEDIUM) for f in findings)
    return Result(compliant=compliant, findings=findings)
