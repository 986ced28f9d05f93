"""The learned half of the checker: two small models over sentences, with the rules' readings
among their features. The finder adds what the rules miss; the verifier drops a rule finding
that reads wrong. Pure Python and numpy; deterministic; `data/model.json` (about 0.6 MB).

- Sentences: a text is cut at 。！？；!?; and line ends (a "." before a blank); a short question
  is read with its answer ("征信黑了？没关系，…"); a very long stretch is cut again at commas.
  Each sentence keeps its offsets into the folded text; a speaker label ("客户：", "Agent:") is
  trimmed off and becomes a feature (a customer asking "零首付可以吗？" is no violation).
- Features of a sentence: per category, a pattern of it matched, matched but negated, and for
  the numeric categories a number read beyond or within the live parameters; negation and
  question cues; char 1–3-grams of the CJK runs and word uni/bigrams (and five-letter stems)
  of the rest, in the folded text (`text.fold`); and concepts of the domain in both languages
  (approval, certainty, credit, fees, speed…, "¬check" when negated) with every pair of them a
  sentence holds, so that "sure + approve" learned in Chinese helps in English. Features are
  looked up in a vocabulary stored in the model (kept when seen in at least `min_count`
  training texts), never through Python's salted `hash()`.
- The finder: one-vs-rest logistic regression over the 23 categories, L2, each category's
  weights its own plus a vector shared by all (what makes a sentence a violation at all, or a
  warning against one, is learned once from every category's examples).
- Labels are text-level, features sentence-level: multiple-instance learning. A text's score
  for a category is its highest sentence's (max pooling; the gradient goes to that sentence):
  a violating text needs one violating sentence, a compliant text has none. Training on whole
  texts would teach the model texts, while it must point at one sentence of a long transcript;
  on a one-sentence text (most of the data) the two are the same.
- The verifier: logistic regression on the sentences where a rule found something, labelled by
  whether the text has that category; weights shared by the categories, a bias per category.
- Partial labels: a reviewer's verdict names one category (`Example.negatives`); the others
  are left out of the loss, for the text and its sentences.
- Training: full-batch Adam for a fixed number of steps from zero weights, so the same data
  give the same file. The finder's threshold and the verifier's veto level are chosen on
  out-of-fold predictions of a 5-fold cross-validation (folds by a hash of the text), for the
  best lower of precision and recall of "not compliant".
- Decision (`_decide`): a rule finding stands unless the verifier's probability is below the
  veto level and the finder's below its threshold; a number read against the live parameters
  always stands. The finder adds a category to a sentence when its probability reaches the
  threshold, unless the rules read it there negated, or, for the parameter-bound categories,
  the numbers decide: where the rules read a number of that category, it decides; where the
  sentence holds another percentage (or 折, 成, 倍), the finding stands only if it breaks the
  live limit; a monthly rate is no finding in a text that gives an annual one.
- Speed: the checker reads a whole text at once (`_Fast`: n-grams as numbers, numpy lookups),
  the same features as the sentence-by-sentence reading used in training (a test checks it).
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import itertools
import json
import math
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from carloan.compliance.checker import (
    _ANNUAL,
    DISCOUNT_KEY,
    LTV_KEY,
    MATCH,
    NEGATED,
    OVER,
    WITHIN,
    Signal,
    Span,
    discount_limit,
    signals,
)
from carloan.compliance.library import CATEGORIES, Category
from carloan.compliance.text import NUMBER, Folded, fold, number_value

DATA = Path(__file__).resolve().parent / "data"
MODEL_FILE = DATA / "model.json"
# The labelled sets the model learns from: the rules' tuning set and training_a … training_e,
# each written apart from the rules and from the held-apart sets (which it never sees).
TRAINING_FILES = (DATA / "tuning.jsonl", *sorted(DATA.glob("training_*.jsonl")))
# The labelled sets assume these (evaluation.SET_PARAMETERS).
TRAINING_PARAMETERS: dict[str, Any] = {LTV_KEY: 80, DISCOUNT_KEY: 10}
KEYS: tuple[str, ...] = tuple(c.key for c in CATEGORIES)
NUMERIC = ("zero_down_payment", "excess_loan_amount", "excess_discount", "rate_without_apr")
FORMAT = 1


@dataclass(frozen=True)
class Example:
    """A labelled text. `negatives=None`: every category not in `positives` is negative (the
    labelled sets). Otherwise only the listed ones are, the rest unknown (a reviewer's verdict
    on one finding)."""

    text: str
    positives: frozenset[str]
    negatives: frozenset[str] | None = None


@dataclass(frozen=True)
class Settings:
    """Training settings (the defaults were chosen by cross-validation on the training data)."""

    min_count: int = 2
    l2: float = 1e-3
    steps: int = 300
    learning_rate: float = 0.05
    positive_weight: float = 4.0
    shared_l2: float = 1.0  # the shared vector's L2, relative to l2
    folds: int = 5
    seed: int = 20_240_601


# --- sentences --------------------------------------------------------------------------------

_BREAK = re.compile(r"[。！？；;!?\n\r]+[”\"'」』)）]*|…{1,}|\.{3,}|\.(?=\s|$)")
_SOFT_BREAK = re.compile(r"[，,：:、]")
_QUESTION_END = re.compile(r"[？?]\W*$")
_SPEAKER = re.compile(
    r"\s*(?:(?:客户|顾客|买家|用户|车主|客人|坐席|销售|客服|顾问|经理|专员|业务员|主管|信贷员|金融专员)"
    r"[\u3400-\u9fff\w]{0,3}|(?:agent|customer|client|caller|buyer|rep|sales(?:person|man|woman)?"
    r"|advisor|adviser|dealer|officer|manager|speaker|user)(?: ?\w{1,10})?|[ab]\d?)\s*[:：]\s*"
)
_SHORT_QUESTION = 16
_LABEL_REACH = 40  # a speaker label's colon stands within this many chars of the start
_LONG_SENTENCE = 160


_CUSTOMER = re.compile(r"\s*(客户|顾客|买家|用户|车主|客人|customer|client|caller|buyer)")


def _segments(folded: Folded) -> list[tuple[Span, str | None]]:
    """Sentences (folded offsets, trimmed) and who speaks them: "customer", "agent" (any other
    speaker label) or None (no label so far)."""
    text, original, origin = folded.text, folded.original, folded.origin
    cuts = [0]
    for match in _BREAK.finditer(original):
        cuts.append(bisect.bisect_left(origin, match.end()))
    cuts.append(len(text))
    pieces: list[Span] = []
    for start, end in itertools.pairwise(cuts):
        if end - start > _LONG_SENTENCE:
            at = start
            for soft in _SOFT_BREAK.finditer(text, start, end):
                if soft.end() - at >= _LONG_SENTENCE // 2:
                    pieces.append((at, soft.end()))
                    at = soft.end()
            pieces.append((at, end))
        elif end > start:
            pieces.append((start, end))
    out: list[tuple[Span, str | None]] = []
    speaker: str | None = None
    pending: tuple[Span, str | None] | None = None
    for start, end in pieces:
        colon = text.find(":", start, min(end, start + _LABEL_REACH))
        label = _SPEAKER.match(text, start, end) if colon >= 0 else None
        if label is not None and label.end() < end:
            speaker = "customer" if _CUSTOMER.match(text, start, end) else "agent"
            start = label.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end <= start:
            continue
        if pending is not None:
            if label is None:  # the answer to a short question: one sentence
                start = pending[0][0]
            else:
                out.append(pending)
            pending = None
        if end - start <= _SHORT_QUESTION and _QUESTION_END.search(text, start, end):
            pending = ((start, end), speaker)
            continue
        out.append(((start, end), speaker))
    if pending is not None:
        out.append(pending)
    return out or [((0, len(text)), None)]


def sentences(folded: Folded) -> list[Span]:
    """The sentences of `folded`: offsets into `folded.text`, speaker labels and blanks trimmed."""
    return [span for span, _ in _segments(folded)]


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence(s) of `text` holding the stretch [start, end) (offsets into `text`), as
    the model reads them: a reviewer's verdict on a finding becomes a training example."""
    folded = fold(text)
    spans = [folded.span(a, b) for a, b in sentences(folded)]
    end = max(end, start + 1)
    around = [(a, b) for a, b in spans if a < end and start < b]
    if not around:
        return text[start:end]
    return text[around[0][0] : around[-1][1]]


# --- features ---------------------------------------------------------------------------------

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:\.\d+)?|[%$¥€]")
_STEM = 5


def _grams(sentence: str) -> set[str]:
    """Char 1–3-grams of the CJK runs, word uni/bigrams of the rest (numbers as '<n>'), and
    the first five letters of a longer word ("~appro": approve, approval, aproval…)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(sentence):
        out += run
        out += map(operator.add, run, run[1:])
        out += map(operator.add, map(operator.add, run, run[1:]), run[2:])
    tokens = _TOKEN.findall(sentence)
    if tokens:
        tokens = [_number_token(t) if t[0].isdigit() else t for t in tokens]
        out += tokens
        out += map(_pair, tokens, tokens[1:])
        out += [f"~{t[:_STEM]}" for t in tokens if len(t) > _STEM]
    return set(out)


def _number_token(token: str) -> str:
    return "0" if float(token) == 0 else "<n>"


def _pair(a: str, b: str) -> str:
    return f"{a} {b}"


# Concepts of the domain in both languages: a sentence's concepts, and the pairs of them it
# holds, are features ("sure + approve" learned from Chinese examples helps English ones).
# Chinese: char n-grams (a longer phrase by its first three chars); English: words, or the
# first five letters of a longer word (a stem feature).
_CONCEPTS: dict[str, tuple[str, str]] = {
    "approve": (
        "批 审批 通过 过件 下款 能过 包过 拒 被拒 下来 批下",
        "approv aprov approve pass accept turned declin reject denied approved approval",
    ),
    "sure": (
        "保证 确保 承诺 肯定 一定 绝对 百分百 包 稳 铁定 放心 打包票 没问题",
        "guarantee garantee guarenteed guaranteed promise sure certain definitely always formality",
    ),
    "credit": (
        "征信 信用 人行 央行 黑户 白户 逾期 呆账 花了 报告",
        "credit bureau score history fico bankrupt bankruptcy report file",
    ),
    "check": (
        "查 审核 核查 查询 授权",
        "check pull run inquiry review look checks",
    ),
    "neg": (
        "不 无 没 别 免 不用 不需要 不要 零",
        "no not without zero never skip don't won't doesn't nothing none",
    ),
    "down": (
        "首付 首期 首附",
        "down deposit",
    ),
    "interest": (
        "利息 利率 息 年化 月息",
        "interest rate apr",
    ),
    "free": (
        "免 零 免费 不收 不要钱",
        "free zero 0 nothing",
    ),
    "fee": (
        "费 手续费 服务费 杂费 成本 违约金 罚 罚息 罚金 收费 管理费",
        "fee fees charge charges cost costs penalty penalties extra",
    ),
    "fast": (
        "秒 分钟 马上 立刻 当天 当场 即时 立即 小时 闪电 极速",
        "instant instantly minute minutes second seconds same immediately hour quick fast",
    ),
    "money": (
        "到账 放款 下款 打款 到卡 到手 钱",
        "funded funds money disburse disbursed payout cash account",
    ),
    "carvalue": (
        "车价 车值 评估 估值 评估价 裸车",
        "worth value apprais appraisal appraised valuation",
    ),
    "exceed": (
        "超过 多于 全额 倍 以上 九成 多贷 上浮 全款 超过车价",
        "more above over exceed full extra sticker plus",
    ),
    "lien": (
        "押 抵押 登记 定位 绿本 解押 押证 押车",
        "lien title registered tracker gps",
    ),
    "gov": (
        "国家 政府 官方 银保监 人民银行 央行 交管 财政 补贴 监管",
        "government official state federal ministry subsid subsidy national",
    ),
    "urgent": (
        "今天 今晚 最后 仅剩 名额 截止 错过 限时 马上 只剩 抢 过期 犹豫 订走 留",
        "today tonight last hurry expire expires now deadline limited midnight only tomorrow act "
        "gone",
    ),
    "otherloans": (
        "网贷 信用卡 欠款 债 平台 借新还旧 以贷养贷 房贷 小贷",
        "card debt debts loans payday consolidat refinanc",
    ),
    "payoff": (
        "还 结清 还清 平了 置换",
        "pay repay off clear wrap settle",
    ),
    "ineligible": (
        "学生 无业 没工作 没收入 老人 未成年 失业 在校 没上班 零收入 收入证明 社保 大学生",
        "student students unemploy job income retire jobless papers employed",
    ),
    "code": (
        "验证码 密码 动态码 短信码 校验码 短信 网银 账号 账户 回复",
        "code otp password pin passcode verification login username account",
    ),
    "tell": (
        "告诉 发 报 念 读 给我 发我",
        "tell give send read share text",
    ),
    "family": (
        "家人 老婆 老公 父母 爸 妈 单位 同事 通讯录 亲戚 朋友 联系人 人事 学校 老家 邻居 孩子",
        "family mother mom wife husband parents employer boss coworker contacts relatives office "
        "school neighbors manager kids",
    ),
    "threat": (
        "上门 找你 曝光 起诉 抓 坐牢 后悔 通知 挨个",
        "knock visit arrest arrested jail regret expose sue show hear",
    ),
    "insurance": (
        "保险 保单 延保 全险 险 套餐 服务包 保养 投保 保费 装潢 意外险 盗抢险",
        "insurance warranty cover policy plan bundle bundled gap package optional insure",
    ),
    "must": (
        "必须 强制 一定要 才能 不然 否则 只能 捆绑",
        "mandatory must required require have only need",
    ),
    "income": (
        "收入 工资 流水 工作 上班",
        "income salary payslip payslips statement statements employment",
    ),
    "fake": (
        "写高 调 改 包装 做 美化 虚 假 编 填高 写 填 就说 说 挂靠",
        "adjust tweak inflate make fake bump pad fabricat fudge write put say round",
    ),
    "gain": (
        "赚 保值 升值 不亏 稳赚 收益 回报 投资 亏 残值 回购 兜底 贬值 保本 保息 硬通货",
        "profit earn gain return investment appreciat risk value buyback flip back returns",
    ),
    "other": (
        "别家 其他 对方 那家 隔壁 外面 同行 银行",
        "other others competitor those company across elsewhere banks",
    ),
    "bad": (
        "骗 坑 黑 垃圾 不靠谱 套路 骗子 高利贷 好东西 坑人",
        "scam scams crook crooks rip fraud liar cheat shady con shark",
    ),
    "deduct": (
        "扣 扣除 先扣 差价 少 到手 预先 实际放 差额",
        "deduct deducted take taken withheld out net hold held back top hand receive",
    ),
    "early": (
        "提前 随时 提前还 结清",
        "early prepay prepayment anytime whenever",
    ),
    "id": (
        "身份证 身份 名字 名义 挂名",
        "id identity name ssn details",
    ),
    "someone": (
        "别人 他人 朋友 亲戚 表哥 家人 弟弟 哥哥 名下 借身份",
        "someone friend relative brother sister cousin mom's dad's roommate's wife someone's "
        "else's",
    ),
    "discount": (
        "优惠 折 让利 减 返 立减 直降 便宜 省 立省",
        "off discount rebate cashback save half fifth",
    ),
    "periodic": (
        "每月 每个月 月 日 每天 一天",
        "monthly month daily day week",
    ),
    "warn": (
        "提醒 注意 小心 当心 谨慎 谨防 警惕 警示 请勿 投诉 举报 骗局 核实",
        "wary skeptical careful cautious beware report flag walk watch",
    ),
}


# A concept right after a negation ("不强制", "不查", "not guaranteed", "never withheld") is
# a concept of its own ("¬must"): "¬check + credit" is not "check + credit".
_NEGATORS_ZH = "不没无别非未免"
_FILLERS_ZH = "用要会能是需必做得可"
_NEGATORS_EN = (
    "no not never without don't won't doesn't isn't aren't can't cannot zero nothing nobody "
    "didn't wouldn't shouldn't"
)


def _concept_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, set[str]] = {}
    for concept, (zh, en) in _CONCEPTS.items():
        for term in zh.split():
            index.setdefault(term[:3], set()).add(f"k:{concept}")
            if len(term) <= 2 and concept != "neg":
                for negator in _NEGATORS_ZH:
                    index.setdefault(negator + term, set()).add(f"k:¬{concept}")
                    if len(term) == 1:
                        for filler in _FILLERS_ZH:
                            index.setdefault(negator + filler + term, set()).add(f"k:¬{concept}")
        for term in en.split():
            index.setdefault(term, set()).add(f"k:{concept}")
            if len(term) >= _STEM:
                index.setdefault(f"~{term[:_STEM]}", set()).add(f"k:{concept}")
            if concept != "neg":
                for negator in _NEGATORS_EN.split():
                    index.setdefault(f"{negator} {term}", set()).add(f"k:¬{concept}")
    return {gram: tuple(sorted(concepts)) for gram, concepts in index.items()}


_CONCEPT_OF = _concept_index()


def _concept_features(grams: set[str]) -> set[str]:
    """The sentence's concepts (and negated concepts), and every pair of them."""
    get = _CONCEPT_OF.get
    concepts = sorted({c for found in map(get, grams) if found for c in found})
    out = set(concepts)
    out.update(f"{a}+{b[2:]}" for i, a in enumerate(concepts) for b in concepts[i + 1 :])
    return out


# Negation and warning words (the checker's list, as the n-grams above spell them) and question
# words: a sentence holding one has the cue.
# fmt: off
_NEGATION_GRAMS = frozenset((
    "不会", "不保证", "不可能", "不存在", "不得", "不承诺",
    "不是", "不能", "不要信", "不要相", "严禁", "举报", "从不",
    "从来不", "决不", "凡是", "切勿", "别信", "别相信", "号称",
    "声称", "小心", "并不", "并非", "当心", "所谓", "拒绝",
    "提防", "无法", "杜绝", "没人能", "没有人", "禁止", "绝不",
    "警惕", "请勿", "谎称", "谨防",
    "anyone who", "aren't", "avoid", "beware", "can not", "can't", "cannot", "claim",
    "claims", "do not", "does not", "doesn't", "don't", "if someone", "is not", "isn't",
    "never", "no one", "no such", "nobody", "not", "refuse", "whoever", "will not", "won't",
))
_QUESTION_GRAMS = frozenset((
    "可不可", "吗", "是不是", "能不能",
))
# fmt: on


def _by_sentence(spans: Sequence[Span], found: Sequence[Signal]) -> list[list[Signal]]:
    """The signals of each sentence (by where they start)."""
    starts = [start for start, _ in spans]
    out: list[list[Signal]] = [[] for _ in spans]
    for signal in found:
        index = bisect.bisect_right(starts, signal.start) - 1
        if index >= 0 and signal.start < spans[index][1]:
            out[index].append(signal)
    return out


@dataclass
class _Read:
    """A text as the model reads it: its sentences, their signals and their features."""

    folded: Folded
    found: Sequence[Signal]
    spans: list[Span]
    inside: list[list[Signal]]
    features: list[set[str]]
    # the features as (sentence, vocabulary id) pairs, when read for a model (`_Fast`)
    rows: np.ndarray | None = None
    ids: np.ndarray | None = None


def _read(folded: Folded, found: Sequence[Signal]) -> _Read:
    segments = _segments(folded)
    spans = [span for span, _ in segments]
    inside = _by_sentence(spans, found)
    text = folded.text
    features = []
    for ((start, end), speaker), sigs in zip(segments, inside, strict=True):
        sentence = text[start:end]
        grams = _grams(sentence)
        out = _concept_features(grams)
        out.update(f"{s.kind}:{s.category}" for s in sigs)
        if not grams.isdisjoint(_NEGATION_GRAMS):
            out.add("cue:negation")
        if "?" in sentence or not grams.isdisjoint(_QUESTION_GRAMS):
            out.add("cue:question")
        if speaker is not None:
            out.add(f"speaker:{speaker}")
        out |= grams
        features.append(out)
    return _Read(folded, found, spans, inside, features)


# --- reading a whole text at once ---------------------------------------------------------------
#
# What `_read` does sentence by sentence with strings, done for the whole text with numpy: a
# CJK n-gram is a number made of its code points (21 bits each), looked up in sorted tables of
# the vocabulary's and the concepts' n-grams; the Latin tokens are found once in the text. The
# features are those of `_read` (a test checks it), three to four times faster.

_CJK_FIRST, _CJK_LAST = 0x3400, 0x9FFF


def _cjk_key(gram: str) -> int | None:
    """The number of a CJK n-gram (1–3 chars), None for any other string."""
    if not 1 <= len(gram) <= 3 or not all(_CJK_FIRST <= ord(c) <= _CJK_LAST for c in gram):
        return None
    key = 0
    for char in gram:
        key = (key << 21) | ord(char)
    return key


def _derived_tags() -> dict[str, tuple[str, ...]]:
    """What a gram tells besides itself: concepts ("k:…"), negation and question cues."""
    tags: dict[str, set[str]] = {g: set(c) for g, c in _CONCEPT_OF.items()}
    for gram in _NEGATION_GRAMS:
        tags.setdefault(gram, set()).add("cue:negation")
    for gram in _QUESTION_GRAMS:
        tags.setdefault(gram, set()).add("cue:question")
    return {gram: tuple(sorted(t)) for gram, t in tags.items()}


class _Table:
    """A sorted table of CJK n-gram numbers and what each stands for (an index into `values`);
    single characters in an array indexed by code point."""

    def __init__(self, entries: Iterable[tuple[str, int]]) -> None:
        pairs = sorted((k, v) for gram, v in entries if (k := _cjk_key(gram)) is not None)
        self.keys = np.asarray([k for k, _ in pairs], dtype=np.int64)
        self.values = np.asarray([v for _, v in pairs], dtype=np.int64)
        self.chars = np.full(_CJK_LAST - _CJK_FIRST + 1, -1, dtype=np.int64)
        single = self.keys <= _CJK_LAST
        self.chars[self.keys[single] - _CJK_FIRST] = self.values[single]

    def look_up_chars(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in `code`, all CJK, found; their values)."""
        values = self.chars[code - _CJK_FIRST]
        hit = np.flatnonzero(values >= 0)
        return hit, values[hit]

    def look_up(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in `keys` found, their values)."""
        if not self.keys.size or not keys.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        hit = np.flatnonzero(self.keys[at] == keys)
        return hit, self.values[at[hit]]


class _Fast:
    """`_read` for a model: a text's features as (sentence, vocabulary id) pairs."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        self.words = vocabulary  # Latin grams, rule, cue and speaker features: by string
        self.cjk = _Table(vocabulary.items())
        tags = _derived_tags()
        names = sorted({t for found in tags.values() for t in found})
        index = {t: i for i, t in enumerate(names)}
        # tag set i (what gram i tells) = tags[set_starts[i]:set_starts[i + 1]]
        sets = [[index[t] for t in found] for found in tags.values()]
        self.set_starts = np.cumsum([0] + [len(x) for x in sets]).astype(np.int64)
        self.set_tags = np.asarray([t for x in sets for t in x], dtype=np.int64)
        self.tag_of = {gram: i for i, gram in enumerate(tags)}  # Latin grams
        self.cjk_tags = _Table((gram, i) for i, gram in enumerate(tags))
        self.tag_count = len(names)
        self.tag_id = np.asarray([vocabulary.get(t, -1) for t in names], dtype=np.int64)
        concepts = [i for i, t in enumerate(names) if t.startswith("k:")]
        self.is_concept = np.zeros(len(names), dtype=bool)
        self.is_concept[concepts] = True
        # the pair of concepts a < b (by name): its vocabulary id, or -1
        self.pair_id = np.full((len(names), len(names)), -1, dtype=np.int64)
        for a in concepts:
            for b in concepts:
                if names[a] < names[b]:
                    self.pair_id[a, b] = vocabulary.get(f"{names[a]}+{names[b][2:]}", -1)

    def read(self, folded: Folded, found: Sequence[Signal]) -> _Read:
        segments = _segments(folded)
        spans = [span for span, _ in segments]
        inside = _by_sentence(spans, found)
        text = folded.text
        starts = np.asarray([a for a, _ in spans], dtype=np.int64)
        ends = np.asarray([b for _, b in spans], dtype=np.int64)
        rows: list[np.ndarray] = []
        ids: list[np.ndarray] = []
        tag_rows: list[np.ndarray] = []  # a sentence, and a tag set its grams tell
        tag_sets: list[np.ndarray] = []

        # CJK n-grams, inside a sentence, within a run
        code = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        n = code.size
        position = np.arange(n)
        sentence = np.searchsorted(starts, position, side="right") - 1
        end_of = np.where(sentence >= 0, ends[np.maximum(sentence, 0)], -1)
        cjk = (code >= _CJK_FIRST) & (code <= _CJK_LAST) & (position < end_of)
        grams: list[tuple[np.ndarray, np.ndarray]] = []
        one = np.flatnonzero(cjk)
        grams.append((one, code[one]))
        if n > 1:
            two = np.flatnonzero(cjk[:-1] & cjk[1:] & (position[:-1] + 1 < end_of[:-1]))
            grams.append((two, (code[two] << 21) | code[two + 1]))
        if n > 2:
            three = np.flatnonzero(
                cjk[:-2] & cjk[1:-1] & cjk[2:] & (position[:-2] + 2 < end_of[:-2])
            )
            grams.append((three, (((code[three] << 21) | code[three + 1]) << 21) | code[three + 2]))
        for size, (at, keys) in enumerate(grams, start=1):
            hit, values = self.cjk.look_up_chars(keys) if size == 1 else self.cjk.look_up(keys)
            rows.append(sentence[at[hit]])
            ids.append(values)
            hit, values = (
                self.cjk_tags.look_up_chars(keys) if size == 1 else self.cjk_tags.look_up(keys)
            )
            tag_rows.append(sentence[at[hit]])
            tag_sets.append(values)

        # Latin tokens, numbers, % and $: uni/bigrams and stems, sentence by sentence (a token
        # outside every sentence, in a speaker label, is not read)
        found_tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
        if found_tokens:
            at = np.fromiter((a for a, _ in found_tokens), dtype=np.int64, count=len(found_tokens))
            where = np.searchsorted(starts, at, side="right") - 1
            keep = (where >= 0) & (at < ends[np.maximum(where, 0)])
            token_rows = where[keep]
            tokens = [
                _number_token(t) if t[0].isdigit() else t
                for t in itertools.compress((t for _, t in found_tokens), keep.tolist())
            ]
            same = (token_rows[:-1] == token_rows[1:]).tolist()
            long = [len(t) > _STEM for t in tokens]
            words = [
                *tokens,
                *(f"~{t[:_STEM]}" for t in itertools.compress(tokens, long)),
                *itertools.compress(map(_pair, tokens, tokens[1:]), same),
            ]
            word_rows = np.concatenate(
                [token_rows, token_rows[np.asarray(long, dtype=bool)],
                 token_rows[:-1][np.asarray(same, dtype=bool)]]
            )  # fmt: skip
            word_ids = np.fromiter(map(self.words.get, words, itertools.repeat(-1)),
                                   dtype=np.int64, count=len(words))  # fmt: skip
            rows.append(word_rows[word_ids >= 0])
            ids.append(word_ids[word_ids >= 0])
            word_tags = np.fromiter(map(self.tag_of.get, words, itertools.repeat(-1)),
                                    dtype=np.int64, count=len(words))  # fmt: skip
            tag_rows.append(word_rows[word_tags >= 0])
            tag_sets.append(word_tags[word_tags >= 0])

        # features named by strings: rule signals, the speaker, the question mark
        named: list[tuple[int, str]] = []
        for index, (_, speaker) in enumerate(segments):
            if speaker is not None:
                named.append((index, f"speaker:{speaker}"))
            named += [(index, f"{s.kind}:{s.category}") for s in inside[index]]
        question = np.unique(sentence[(code == ord("?")) & (position < end_of)])
        named += [(index, "cue:question") for index in question.tolist() if index >= 0]
        get_word = self.words.get
        named_ids = [(index, get_word(name)) for index, name in named]
        rows.append(np.asarray([i for i, j in named_ids if j is not None], dtype=np.int64))
        ids.append(np.asarray([j for _, j in named_ids if j is not None], dtype=np.int64))

        # what the grams tell: concepts and cues; and every pair of a sentence's concepts
        if tag_rows:
            set_rows, set_index = np.concatenate(tag_rows), np.concatenate(tag_sets)
            sizes = self.set_starts[set_index + 1] - self.set_starts[set_index]
            first = np.repeat(self.set_starts[set_index] - np.cumsum(sizes) + sizes, sizes)
            tags = self.set_tags[first + np.arange(int(sizes.sum()))]
            keyed = np.unique(np.repeat(set_rows, sizes) * self.tag_count + tags)
            tag_row, tag = keyed // self.tag_count, keyed % self.tag_count
            known = self.tag_id[tag] >= 0
            rows.append(tag_row[known])
            ids.append(self.tag_id[tag[known]])
            concept = self.is_concept[tag]
            pair_rows, a, b = _pairs(tag_row[concept], tag[concept])
            pair = self.pair_id[a, b]
            rows.append(pair_rows[pair >= 0])
            ids.append(pair[pair >= 0])

        all_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        all_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        keys = np.unique((all_rows << 32) | all_ids)
        read = _Read(folded, found, spans, inside, [])
        read.rows, read.ids = keys >> 32, keys & 0xFFFFFFFF
        return read


def _pairs(rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (row, a, b) with a before b among the values of one row; `rows` sorted, and the
    values sorted within a row."""
    if not rows.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    group_end = np.searchsorted(rows, rows, side="right")  # one past each row's last value
    count = group_end - np.arange(rows.size) - 1  # values after this one in its row
    total = int(count.sum())
    left = np.repeat(np.arange(rows.size), count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    right = left + 1 + offset
    return rows[left], values[left], values[right]


# --- numbers the rules did not read -----------------------------------------------------------

_LOOSE = re.compile(
    rf"百分之\s*(?P<hundred>{NUMBER})"
    rf"|(?P<n>{NUMBER})\s*(?P<unit>%|成|个点|percent|折|倍)(?!旧|扣|算|合|叠)"
)


def _loose_numbers(sentence: str) -> list[tuple[str, float]]:
    """Percentages, 成, 折, 倍 in a sentence: (unit, value as a percentage)."""
    out: list[tuple[str, float]] = []
    for match in _LOOSE.finditer(sentence):
        unit = match.group("unit") or "%"
        value = number_value(match.group("n") or match.group("hundred"))
        if value is None:
            continue
        if unit == "成":
            value *= 10
        elif unit == "倍":
            value *= 100
        elif unit == "折":
            paid = value * 10 if value < 10 else value
            if not 0 < paid < 100:
                continue
            value = 100 - paid
        out.append((unit, value))
    return out


def _numbers_allow(key: str, sentence: str, parameters: Mapping[str, Any]) -> bool | None:
    """Whether a percentage in the sentence breaks the live limit of `key`; None: no number."""
    numbers = _loose_numbers(sentence)
    if key == "excess_discount":
        values = [v for unit, v in numbers if unit != "倍"]
        limit = discount_limit(parameters)
        return any(v > limit for v in values) if values else None
    values = [v for unit, v in numbers if unit not in ("折",)]
    if not values:
        return None
    max_ltv = float(parameters.get(LTV_KEY, 80))
    if key == "zero_down_payment":
        return any(v < 100 - max_ltv for v in values)
    return any(v > max_ltv for v in values)  # excess_loan_amount


# --- the model --------------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


@dataclass
class LearnedModel:
    """The finder (weights per feature and category, a bias, a threshold per category) and the
    verifier of the rules' findings (weights per feature, a bias per category, a veto level)."""

    categories: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: np.ndarray  # (features, categories), float32
    bias: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,)
    check_weights: np.ndarray  # (features,), float32
    check_bias: np.ndarray  # (categories,)
    veto: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    # -- scoring

    def probabilities(self, read: _Read) -> tuple[np.ndarray, np.ndarray]:
        """(sentences, categories) twice: that the sentence breaks the category (finder), and
        that a rule finding of the category in the sentence is right (verifier)."""
        if read.rows is not None and read.ids is not None:
            rows, ids = read.rows, read.ids
        else:
            flat = [f for features in read.features for f in features]
            lengths = np.fromiter(map(len, read.features), dtype=np.int64,
                                  count=len(read.features))  # fmt: skip
            ids = np.fromiter(map(self.vocabulary.get, flat, itertools.repeat(-1)),
                              dtype=np.int64, count=len(flat))  # fmt: skip
            rows = np.repeat(np.arange(len(read.features)), lengths)
            known = ids >= 0
            ids, rows = ids[known], rows[known]
        found = np.zeros((len(read.spans), len(self.categories)))
        checked = np.zeros((len(read.spans), 1))
        if ids.size:
            present, starts = np.unique(rows, return_index=True)
            found[present] = np.add.reduceat(self.weights[ids], starts, axis=0)
            checked[present, 0] = np.add.reduceat(self.check_weights[ids], starts)
        return _sigmoid(found + self.bias), _sigmoid(checked + self.check_bias)

    def score_text(
        self, text: str, parameters: Mapping[str, Any] = TRAINING_PARAMETERS
    ) -> dict[str, float]:
        """The text's probability per category (the finder's, at its highest sentence)."""
        folded = fold(text)
        found, _ = self.probabilities(_read(folded, signals(folded, parameters)))
        return {key: float(v) for key, v in zip(self.categories, found.max(axis=0), strict=True)}

    # -- deciding

    def revise(
        self,
        folded: Folded,
        found: Sequence[Signal],
        raw: list[tuple[str, Span]],
        parameters: Mapping[str, Any],
        categories: tuple[Category, ...] = CATEGORIES,
    ) -> list[tuple[str, Span]]:
        """The rules' findings (`raw`, folded offsets) revised: less what the verifier finds
        wrong, plus what the finder adds."""
        read = self.fast.read(folded, found)
        p, q = self.probabilities(read)
        # A category risk control edited since the model learned: its patterns say what risk
        # wants found now, and the verifier, trained on the shipped ones, does not overrule them.
        edited = {c.key for c in categories if c.patterns != _SHIPPED_PATTERNS.get(c.key)}
        return _decide(self, read, p, q, raw, parameters, {c.key for c in categories}, edited)

    @functools.cached_property
    def fast(self) -> _Fast:
        """The model's reader of whole texts at once (its tables are built on first use)."""
        return _Fast(self.vocabulary)

    # -- (de)serialising

    def to_json(self) -> str:
        order = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        body = {
            "format": FORMAT,
            "categories": list(self.categories),
            "vocabulary": order,
            "weights": _pack(self.weights),
            "bias": _floats(self.bias),
            "thresholds": _floats(self.thresholds),
            "check_weights": _pack(self.check_weights),
            "check_bias": _floats(self.check_bias),
            "veto": round(float(self.veto), 6),
            "info": self.info,
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True, indent=0) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> LearnedModel:
        body = json.loads(raw)
        if body.get("format") != FORMAT:
            raise ValueError(f"model format {body.get('format')!r}, expected {FORMAT}")
        categories = tuple(body["categories"])
        vocabulary = {feature: i for i, feature in enumerate(body["vocabulary"])}
        return cls(
            categories=categories,
            vocabulary=vocabulary,
            weights=_unpack(body["weights"]).reshape(len(vocabulary), len(categories)),
            bias=np.asarray(body["bias"], dtype=np.float64),
            thresholds=np.asarray(body["thresholds"], dtype=np.float64),
            check_weights=_unpack(body["check_weights"]),
            check_bias=np.asarray(body["check_bias"], dtype=np.float64),
            veto=float(body["veto"]),
            info=body.get("info", {}),
        )

    def save(self, path: Path = MODEL_FILE) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> LearnedModel:
        return cls.from_json(path.read_text(encoding="utf-8"))


def _pack(weights: np.ndarray) -> str:
    """float16, little-endian, base64: a tenth of the size of the numbers as JSON text."""
    return base64.b64encode(np.ascontiguousarray(weights, dtype="<f2").tobytes()).decode("ascii")


def _unpack(raw: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(raw), dtype="<f2").astype(np.float32)


def _floats(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


@functools.cache
def shipped_model() -> LearnedModel | None:
    """The model in `data/model.json`, read once per process; None without one."""
    if not MODEL_FILE.exists():
        return None
    return LearnedModel.load(MODEL_FILE)


_SHIPPED_PATTERNS = {category.key: category.patterns for category in CATEGORIES}


def _decide(
    model: LearnedModel,
    read: _Read,
    p: np.ndarray,
    q: np.ndarray,
    raw: list[tuple[str, Span]],
    parameters: Mapping[str, Any],
    wanted: set[str],
    edited: frozenset[str] | set[str] = frozenset(),
) -> list[tuple[str, Span]]:
    text = read.folded.text
    starts = [start for start, _ in read.spans]
    column = {key: j for j, key in enumerate(model.categories)}

    def sentence_of(span: Span) -> int:
        return max(0, bisect.bisect_right(starts, span[0]) - 1)

    # the rules' findings, less the ones the verifier finds wrong and the finder does not find;
    # a number read against the live parameters is never dropped
    numbers = {(s.category, (s.start, s.end)) for s in read.found if s.kind == OVER}
    kept: list[tuple[str, Span]] = []
    for key, span in raw:
        j, index = column.get(key), sentence_of(span)
        if (
            j is not None
            and key not in edited
            and (key, span) not in numbers
            and q[index, j] < model.veto
            and p[index, j] < model.thresholds[j]
        ):
            continue
        kept.append((key, span))
    has = {(key, sentence_of(span)) for key, span in raw}
    # what the finder adds
    annual: bool | None = None
    for index, j in np.argwhere(p >= model.thresholds).tolist():
        start, end = read.spans[index]
        key = model.categories[j]
        if key not in wanted or (key, index) in has:
            continue
        sigs = [s for s in read.inside[index] if s.category == key]
        if sigs and all(s.kind == NEGATED for s in sigs):
            continue  # the rules read it negated or warned against: that stands
        if key in NUMERIC:
            if any(s.kind in (OVER, WITHIN) for s in sigs):
                continue  # the rules read the number against the parameters: it decides
            if key == "rate_without_apr":
                if annual is None:
                    annual = _ANNUAL.search(text) is not None
                if annual:
                    continue
            elif _numbers_allow(key, text[start:end], parameters) is False:
                continue
        matched = [s for s in sigs if s.kind in (MATCH, NEGATED)]
        span = (matched[0].start, matched[0].end) if matched else (start, end)
        kept.append((key, span))
    return kept


# --- training ---------------------------------------------------------------------------------


def read_examples(path: Path) -> list[Example]:
    """The examples of a labelled set (one JSON object a line; `categories` empty: compliant)."""
    out: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                out.append(Example(item["text"], frozenset(item["categories"])))
    return out


def training_examples(files: Sequence[Path] | None = None) -> list[Example]:
    """The examples of the training sets that exist (by default the shipped ones: tuning,
    training_a, training_b)."""
    out: list[Example] = []
    for path in TRAINING_FILES if files is None else files:
        if path.exists():
            out.extend(read_examples(path))
    return out


@dataclass
class _Prepared:
    """Examples read: one bag of sentences each, and labels (1, 0, or -1: unknown)."""

    reads: list[_Read]
    labels: np.ndarray  # (bags, categories)


def _prepare(examples: Sequence[Example], parameters: Mapping[str, Any]) -> _Prepared:
    reads = []
    labels = np.full((len(examples), len(KEYS)), -1, dtype=np.int8)
    for b, example in enumerate(examples):
        folded = fold(example.text)
        reads.append(_read(folded, signals(folded, parameters)))
        for j, key in enumerate(KEYS):
            if key in example.positives:
                labels[b, j] = 1
            elif example.negatives is None or key in example.negatives:
                labels[b, j] = 0
    return _Prepared(reads, labels)


def _subset(prepared: _Prepared, index: Sequence[int]) -> _Prepared:
    return _Prepared([prepared.reads[i] for i in index], prepared.labels[list(index)])


_RULE_PREFIXES = (f"{MATCH}:", f"{NEGATED}:", f"{OVER}:", f"{WITHIN}:", "cue:", "speaker:")
# concept pairs are kept like any n-gram (min_count); single concepts always


def _vocabulary(reads: Sequence[_Read], min_count: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for read in reads:
        counts.update(set().union(*read.features))
    kept = sorted(f for f, n in counts.items() if n >= min_count or f.startswith(_RULE_PREFIXES))
    return {feature: i for i, feature in enumerate(kept)}


@dataclass
class _Matrix:
    """Sentences × features, sparse (row and column of every non-zero, rows in order), the
    bags (texts) the sentences belong to, and the columns sorted once for the gradients."""

    rows: np.ndarray
    cols: np.ndarray
    sentences: int
    bag_starts: np.ndarray  # first sentence of each bag
    bag_of: np.ndarray  # bag of each sentence

    def __post_init__(self) -> None:
        self.row_starts = np.searchsorted(self.rows, np.arange(self.sentences))
        self.nonempty = np.diff(np.append(self.row_starts, self.rows.size)) > 0
        order = np.argsort(self.cols, kind="stable")
        self.rows_by_col = self.rows[order]
        self.present, self.col_starts = np.unique(self.cols[order], return_index=True)

    def times(self, w: np.ndarray) -> np.ndarray:
        """X @ w, w (features, k)."""
        out = np.zeros((self.sentences, w.shape[1]))
        if self.rows.size:
            out[self.nonempty] = np.add.reduceat(w[self.cols], self.row_starts[self.nonempty], 0)
        return out

    def transposed_times(self, g: np.ndarray, features: int) -> np.ndarray:
        """X.T @ g, g (sentences, k)."""
        out = np.zeros((features, g.shape[1]))
        if self.rows.size:
            out[self.present] = np.add.reduceat(g[self.rows_by_col], self.col_starts, axis=0)
        return out


def _matrix(reads: Sequence[_Read], vocabulary: Mapping[str, int]) -> _Matrix:
    rows: list[int] = []
    cols: list[int] = []
    bag_starts: list[int] = []
    bag_of: list[int] = []
    sentence = 0
    for b, read in enumerate(reads):
        bag_starts.append(sentence)
        for features in read.features:
            ids = sorted(vocabulary[f] for f in features if f in vocabulary)
            cols.extend(ids)
            rows.extend([sentence] * len(ids))
            bag_of.append(b)
            sentence += 1
    return _Matrix(
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        sentence,
        np.asarray(bag_starts, dtype=np.int64),
        np.asarray(bag_of, dtype=np.int64),
    )


class _Adam:
    """Full-batch Adam over a list of arrays, each with its own L2."""

    def __init__(self, params: list[np.ndarray], l2: Sequence[float], rate: float) -> None:
        self.params, self.l2, self.rate, self.step = params, l2, rate, 0
        self.moments = [(np.zeros_like(x), np.zeros_like(x)) for x in params]

    def update(self, grads: Sequence[np.ndarray]) -> None:
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        self.step += 1
        scale = self.rate * math.sqrt(1 - beta2**self.step) / (1 - beta1**self.step)
        for x, grad, (m, v), decay in zip(self.params, grads, self.moments, self.l2, strict=True):
            grad = grad + decay * x
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            x -= scale * m / (np.sqrt(v) + eps)


def _fit_finder(
    matrix: _Matrix, labels: np.ndarray, features: int, settings: Settings
) -> tuple[np.ndarray, np.ndarray]:
    """Multiple-instance logistic regression, max pooling, L2, full-batch Adam.

    A category's weights are its own plus a vector shared by all categories: what makes a
    sentence a violation at all, or a warning against one, is learned once from every
    category's examples (the shared vector is added in before the weights are returned)."""
    categories = labels.shape[1]
    known = (labels >= 0).astype(np.float64)
    y = (labels == 1).astype(np.float64)
    weight = known * np.where(y == 1, settings.positive_weight, 1.0)
    norm = max(1.0, float(known.sum()) / categories)
    w, shared, b = np.zeros((features, categories)), np.zeros((features, 1)), np.zeros(categories)
    adam = _Adam([w, shared, b], (settings.l2, settings.l2 * settings.shared_l2, 0.0),
                 settings.learning_rate)  # fmt: skip
    for _ in range(settings.steps):
        z = matrix.times(w + shared) + b
        pooled = np.maximum.reduceat(z, matrix.bag_starts, axis=0)
        g_bag = (_sigmoid(pooled) - y) * weight / norm
        g = (z == pooled[matrix.bag_of]) * g_bag[matrix.bag_of]
        g_w = matrix.transposed_times(g, features)
        adam.update([g_w, g_w.sum(axis=1, keepdims=True), g.sum(axis=0)])
    return (w + shared).astype(np.float32), b


def _verifier_instances(
    prepared: _Prepared, matrix: _Matrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (sentence, category) where a rule found something, and whether the text's label
    says it is right: (sentence rows, category columns, labels)."""
    column = {key: j for j, key in enumerate(KEYS)}
    rows, cols, ys = [], [], []
    for b, read in enumerate(prepared.reads):
        first = int(matrix.bag_starts[b])
        pairs = {
            (first + index, column[s.category])
            for index, sigs in enumerate(read.inside)
            for s in sigs
            if s.kind in (MATCH, OVER) and s.category in column
        }
        for row, j in sorted(pairs):
            if prepared.labels[b, j] >= 0:
                rows.append(row)
                cols.append(j)
                ys.append(float(prepared.labels[b, j]))
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.asarray(ys)


def _fit_verifier(
    prepared: _Prepared, matrix: _Matrix, features: int, settings: Settings
) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression on the sentences where a rule found something: weights shared by
    all categories (warning cues, a customer's question…), a bias per category."""
    rows, cols, y = _verifier_instances(prepared, matrix)
    v, u = np.zeros((features, 1)), np.zeros(len(KEYS))
    if not rows.size:
        return v[:, 0].astype(np.float32), u + 5.0  # nothing to learn from: trust the rules
    adam = _Adam([v, u], (settings.l2, 0.0), settings.learning_rate)
    for _ in range(settings.steps):
        z = matrix.times(v)[rows, 0] + u[cols]
        g = (_sigmoid(z) - y) / rows.size
        per_sentence = np.bincount(rows, weights=g, minlength=matrix.sentences)[:, None]
        g_u = np.bincount(cols, weights=g, minlength=len(KEYS))
        adam.update([matrix.transposed_times(per_sentence, features), g_u])
    return v[:, 0].astype(np.float32), u


def _train_once(prepared: _Prepared, settings: Settings) -> LearnedModel:
    vocabulary = _vocabulary(prepared.reads, settings.min_count)
    matrix = _matrix(prepared.reads, vocabulary)
    w, b = _fit_finder(matrix, prepared.labels, len(vocabulary), settings)
    v, u = _fit_verifier(prepared, matrix, len(vocabulary), settings)
    return LearnedModel(KEYS, vocabulary, w, b, np.ones(len(KEYS)), v, u)


def _fold_of(example: Example, folds: int, seed: int) -> int:
    digest = hashlib.sha256(f"{seed}:{example.text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % folds


@dataclass
class CrossValidation:
    """Out-of-fold figures on the labelled training texts: "not compliant" as a whole, rules
    alone and rules with the model, and per category (true and false positives, misses)."""

    examples: int
    threshold: float
    veto: float
    precision: float | None
    recall: float | None
    rules_precision: float | None
    rules_recall: float | None
    per_category: dict[str, tuple[int, int, int]]


def train(
    examples: Iterable[Example],
    *,
    settings: Settings | None = None,
    parameters: Mapping[str, Any] = TRAINING_PARAMETERS,
    threshold: float | None = None,
    veto: float | None = None,
    report: Callable[[CrossValidation], None] | None = None,
) -> LearnedModel:
    """A model trained on `examples`. The finder's threshold and the verifier's veto level,
    unless given, are chosen on the out-of-fold predictions of a cross-validation on the
    labelled examples (`report` receives its figures)."""
    settings = settings or Settings()
    examples = list(examples)
    prepared = _prepare(examples, parameters)
    chosen_threshold, chosen_veto = DEFAULT_THRESHOLD, DEFAULT_VETO
    if threshold is None or veto is None or report is not None:
        cv = _cross_validate(examples, prepared, settings, parameters)
        if cv is not None:
            chosen_threshold, chosen_veto = cv.threshold, cv.veto
            if report is not None:
                report(cv)
    if threshold is not None:
        chosen_threshold = threshold
    if veto is not None:
        chosen_veto = veto
    model = _train_once(prepared, settings)
    model.thresholds = np.full(len(KEYS), float(chosen_threshold))
    model.veto = float(chosen_veto)
    model.info = {
        "examples": len(examples),
        "features": len(model.vocabulary),
        "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__},
    }
    return model


# what is chosen when the examples are too few to cross-validate, and the choices tried
DEFAULT_THRESHOLD, DEFAULT_VETO = 0.3, 0.0
_THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
_VETOES = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8)


def _cross_validate(
    examples: Sequence[Example],
    prepared: _Prepared,
    settings: Settings,
    parameters: Mapping[str, Any],
) -> CrossValidation | None:
    labelled = [i for i, e in enumerate(examples) if e.negatives is None]
    if len(labelled) < 10 * settings.folds:
        return None
    fold_of = [_fold_of(e, settings.folds, settings.seed) for e in examples]
    predicted: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(examples)
    for k in range(settings.folds):
        train_index = [i for i, f in enumerate(fold_of) if f != k]
        model = _train_once(_subset(prepared, train_index), settings)
        for i in labelled:
            if fold_of[i] == k:
                predicted[i] = model.probabilities(prepared.reads[i])
    out: CrossValidation | None = None
    for threshold in _THRESHOLDS:
        for veto in _VETOES:
            cv = _figures(examples, prepared, predicted, labelled, threshold, veto, parameters)
            p, r = cv.precision or 0.0, cv.recall or 0.0
            # the bar is both at least 86 %: the lower of the two decides, then the sum
            if out is None or (min(p, r), p + r) > (
                min(out.precision or 0.0, out.recall or 0.0),
                (out.precision or 0.0) + (out.recall or 0.0),
            ):
                out = cv
    return out


def _figures(
    examples: Sequence[Example],
    prepared: _Prepared,
    predicted: Sequence[tuple[np.ndarray, np.ndarray] | None],
    labelled: Sequence[int],
    threshold: float,
    veto: float,
    parameters: Mapping[str, Any],
) -> CrossValidation:
    """Rules alone and rules with the model, on out-of-fold predictions."""
    from carloan.compliance.library import BY_KEY, HIGH, MEDIUM

    def flagged(found: set[str]) -> bool:
        return any(BY_KEY[k].severity in (HIGH, MEDIUM) for k in found)

    counts = {"rules": [0, 0, 0], "model": [0, 0, 0]}
    per: dict[str, list[int]] = {key: [0, 0, 0] for key in KEYS}
    empty = np.zeros((0, len(KEYS)), dtype=np.float32)
    decider = LearnedModel(KEYS, {}, empty, np.zeros(len(KEYS)), np.full(len(KEYS), threshold),
                           empty[:, 0], np.zeros(len(KEYS)), veto)  # fmt: skip
    for i in labelled:
        read, expected = prepared.reads[i], examples[i].positives
        raw = [(s.category, (s.start, s.end)) for s in read.found if s.kind in (MATCH, OVER)]
        pair = predicted[i]
        revised = raw if pair is None else _decide(decider, read, *pair, raw, parameters, set(KEYS))
        for name, found in (("rules", {k for k, _ in raw}), ("model", {k for k, _ in revised})):
            counts[name][0] += flagged(found) and bool(expected)
            counts[name][1] += flagged(found) and not expected
            counts[name][2] += bool(expected) and not flagged(found)
        got = {k for k, _ in revised}
        for key in KEYS:
            per[key][0] += key in got and key in expected
            per[key][1] += key in got and key not in expected
            per[key][2] += key in expected and key not in got

    def ratio(a: int, b: int) -> float | None:
        return a / (a + b) if a + b else None

    (tp, fp, fn), (rtp, rfp, rfn) = counts["model"], counts["rules"]
    return CrossValidation(
        examples=len(labelled),
        threshold=threshold,
        veto=veto,
        precision=ratio(tp, fp),
        recall=ratio(tp, fn),
        rules_precision=ratio(rtp, rfp),
        rules_recall=ratio(rtp, rfn),
        per_category={k: (v[0], v[1], v[2]) for k, v in per.items()},
    )
