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

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from carloan.compliance.library import BY_KEY, CATEGORIES, HIGH, MEDIUM, Category
from carloan.compliance.text import NUMBER, Folded, fold, number_value

MAX_TEXT = 20_000
LTV_KEY = "risk.max_ltv_pct"
DISCOUNT_KEY = "marketing.max_promo_discount_pct"

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
    folded: Folded, patterns: list[re.Pattern[str]], read: Callable[[re.Match[str]], float | None]
) -> Iterator[tuple[Span, float]]:
    for pattern in patterns:
        for match in pattern.finditer(folded.text):
            value = read(match)
            if value is not None and not negated(folded.text, match.start()):
                yield (match.start(), match.end()), value


def _discount(match: re.Match[str]) -> float | None:
    value = number_value(match.group("n"))
    if value is None:
        return None
    if "unit" not in match.groupdict() or match.groupdict().get("unit") is None:
        # 七折 (pay 70 %), 八五折 / 8.5折 (pay 85 %), 85折
        paid = value * 10 if value < 10 else value
        return 100 - paid if 0 < paid < 100 else None
    return value * 10 if match.group("unit") == "成" else value


def _numeric_findings(folded: Folded, parameters: Mapping[str, Any]) -> Iterator[tuple[str, Span]]:
    max_ltv = float(parameters.get(LTV_KEY, 80))
    max_discount = float(parameters.get(DISCOUNT_KEY, 5))
    for span, down in _numbers(folded, _DOWN, _pct):
        if down < 100 - max_ltv:
            yield "zero_down_payment", span
    for span, share in _numbers(folded, _SHARE, _pct):
        if share > max_ltv:
            yield "excess_loan_amount", span
    for span, discount in _numbers(folded, _DISCOUNT, _discount):
        if discount > max_discount:
            yield "excess_discount", span
    if not _ANNUAL.search(folded.text):
        for match in _PERIODIC_RATE.finditer(folded.text):
            if not negated(folded.text, match.start()):
                yield "rate_without_apr", (match.start(), match.end())


# --- the check --------------------------------------------------------------------------------


def _suggestion(category: Category, excerpt: str) -> str:
    return category.suggestion_zh if _CJK.search(excerpt) else category.suggestion_en


def check_text(
    text: str,
    *,
    parameters: Mapping[str, Any],
    categories: tuple[Category, ...] = CATEGORIES,
) -> Result:
    """Every finding of `text` (offsets into `text` itself), and whether it is compliant."""
    folded = fold(text)
    raw: list[tuple[str, Span]] = []
    for category in categories:
        for pattern in category.compiled:
            for match in pattern.finditer(folded.text):
                if match.end() > match.start() and not negated(
                    folded.text, match.start(), match.end()
                ):
                    raw.append((category.key, (match.start(), match.end())))
    wanted = {c.key for c in categories}
    raw.extend(f for f in _numeric_findings(folded, parameters) if f[0] in wanted)

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
            first, last = folded.span(start, end)
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
