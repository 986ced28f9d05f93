"""The learned half of the compliance checker: it learns what the rules do not know, from
labelled texts and from reviewers' partial verdicts, deterministically; the live parameters
still decide the numbers; without it the checker is the rules; the shipped model loads once and
finds what no rule does; and the fast paths (the checker's anchored scan, the model's
whole-text reader) answer exactly what the plain ones do."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest

from carloan.compliance import checker, learned
from carloan.compliance.checker import check_text, signals
from carloan.compliance.learned import Example, LearnedModel, sentence_around, train
from carloan.compliance.library import BY_KEY, CATEGORIES
from carloan.compliance.text import fold
from carloan.management.commands import compliance_train

PARAMETERS = {"risk.max_ltv_pct": 80, "marketing.max_promo_discount_pct": 10}

# A made-up selling phrase no pattern knows ("blitz price"/"闪电价"), and compliant texts.
TINY = [
    Example("Grab the blitz price before it is gone.", frozenset({"pressure_tactics"})),
    Example("The blitz price is only for you, sign it now.", frozenset({"pressure_tactics"})),
    Example("Blitz price, blitz price, decide right away!", frozenset({"pressure_tactics"})),
    Example("This blitz price will not come back.", frozenset({"pressure_tactics"})),
    Example("闪电价只给您，错过就没了。", frozenset({"pressure_tactics"})),
    Example("闪电价马上结束，赶紧定。", frozenset({"pressure_tactics"})),
    Example("Thanks for calling, I will email the quote.", frozenset()),
    Example("The monthly payment depends on the term you choose.", frozenset()),
    Example("Please bring your driving licence to the store.", frozenset()),
    Example("Our office opens at nine on weekdays.", frozenset()),
    Example("您好，合同明天寄给您。", frozenset()),
    Example("试驾需要预约，请提前来电。", frozenset()),
]
SMALL = learned.Settings(steps=150)


@pytest.fixture(scope="module")
def tiny_model() -> LearnedModel:
    return train(TINY, settings=SMALL, threshold=0.5, veto=0.0)


def categories_of(result: checker.Result) -> set[str]:
    return {f.category for f in result.findings}


def test_training_on_a_tiny_set_learns_a_phrase_the_rules_do_not_know(
    tiny_model: LearnedModel,
) -> None:
    text = "客户您好。Our blitz price is a thing, you know."
    assert "pressure_tactics" not in categories_of(
        check_text(text, parameters=PARAMETERS, use_model=False)
    )
    result = check_text(text, parameters=PARAMETERS, model=tiny_model)
    assert not result.compliant
    (finding,) = [f for f in result.findings if f.category == "pressure_tactics"]
    # no rule matched there: the finding is the sentence, with its offsets in the text
    assert finding.excerpt == "Our blitz price is a thing, you know."
    assert text[finding.start : finding.end] == finding.excerpt
    category = BY_KEY["pressure_tactics"]
    assert (finding.severity, finding.suggestion) == (category.severity, category.suggestion_en)
    assert check_text("Our office opens at ten.", parameters=PARAMETERS, model=tiny_model).compliant


def test_reviewers_verdicts_move_a_score_the_right_way(tiny_model: LearnedModel) -> None:
    sentence = "Blitz price for the warranty, as usual."
    before = tiny_model.score_text(sentence)["pressure_tactics"]
    wrong = [Example(sentence, frozenset(), frozenset({"pressure_tactics"}))] * 3
    after_wrong = train([*TINY, *wrong], settings=SMALL, threshold=0.5, veto=0.0)
    assert after_wrong.score_text(sentence)["pressure_tactics"] < before
    # a partial verdict says nothing of the other categories: they are not taught "compliant"
    other = "您好，合同明天寄给您。"
    right = [Example(other, frozenset({"hidden_fees"}), frozenset())] * 3
    after_right = train([*TINY, *right], settings=SMALL, threshold=0.5, veto=0.0)
    assert (
        after_right.score_text(other)["hidden_fees"] > tiny_model.score_text(other)["hidden_fees"]
    )


def test_training_is_deterministic(tmp_path: Path) -> None:
    first = train(TINY, settings=SMALL, threshold=0.5, veto=0.0).to_json()
    second = train(list(TINY), settings=SMALL, threshold=0.5, veto=0.0).to_json()
    assert first == second
    path = tmp_path / "model.json"
    LearnedModel.from_json(first).save(path)
    assert path.read_text(encoding="utf-8") == first  # what is read is what is written


def test_the_training_command_writes_the_same_file_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f'{{"id": "t{i}", "text": "{e.text}", "categories": {sorted(e.positives)!r}}}'.replace(
            "'", '"'
        )
        for i, e in enumerate(TINY * 5)
    ]
    training = tmp_path / "training.jsonl"
    training.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(learned, "TRAINING_FILES", (training, tmp_path / "absent.jsonl"))
    monkeypatch.setattr(learned, "Settings", lambda: SMALL)
    said: list[str] = []
    verdicts = [Example("Blitz price!", frozenset({"pressure_tactics"}), frozenset())]
    one = compliance_train.train_and_write(
        lambda: verdicts, output=tmp_path / "one.json", write=said.append
    )
    two = compliance_train.train_and_write(
        lambda: verdicts, output=tmp_path / "two.json", write=said.append
    )
    assert one.read_bytes() == two.read_bytes()
    assert any("60 labelled texts, 1 reviewers' verdicts" in line for line in said)
    assert any(line.startswith("not compliant, rules + model") for line in said)
    assert compliance_train.verdict_source("carloan.no_such_module:verdicts") is None


def test_the_live_parameters_decide_the_numbers() -> None:
    # A model that would add every category to every sentence: the numbers still decide.
    eager = LearnedModel.load()
    eager.thresholds = np.zeros(len(eager.categories))
    generous = {**PARAMETERS, "marketing.max_promo_discount_pct": 25}
    for text in (
        "全场八折",
        "利率打八折",
        "优惠20%",
        "现在 discount 高达 18%，超划算",
        "立省百分之十五",
    ):
        assert "excess_discount" not in categories_of(
            check_text(text, parameters=generous, model=eager)
        ), text
        assert "excess_discount" in categories_of(
            check_text(text, parameters=PARAMETERS, model=eager)
        ), text
    assert "zero_down_payment" not in categories_of(
        check_text("首付两成就能办。", parameters=PARAMETERS, model=eager)
    )
    assert "zero_down_payment" in categories_of(
        check_text(
            "首付两成就能办。", parameters={**PARAMETERS, "risk.max_ltv_pct": 75}, model=eager
        )
    )
    assert "excess_loan_amount" not in categories_of(
        check_text("能贷车价的七成。", parameters=PARAMETERS, model=eager)
    )
    # nor does the shipped model's verifier drop a number read beyond the live limit (it
    # learned at 10 %; 8 % is beyond a limit of 5 %)
    strict = {**PARAMETERS, "marketing.max_promo_discount_pct": 5}
    assert "excess_discount" in categories_of(check_text("本月购车利率优惠8%", parameters=strict))
    assert "excess_discount" not in categories_of(
        check_text("本月购车利率优惠8%", parameters=PARAMETERS)
    )
    # a monthly rate in a text that gives the annual one is no finding, whatever the model says
    assert "rate_without_apr" not in categories_of(
        check_text("月息0.5%，年化利率6%。", parameters=PARAMETERS, model=eager)
    )


def test_without_the_model_the_checker_is_the_rules(
    tiny_model: LearnedModel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = "Blitz price! 零首付，百分百包过。"
    rules = check_text(text, parameters=PARAMETERS, use_model=False)
    assert categories_of(rules) == {"zero_down_payment", "guaranteed_approval"}
    assert check_text(text, parameters=PARAMETERS, model=tiny_model, use_model=False) == rules
    assert "pressure_tactics" in categories_of(
        check_text(text, parameters=PARAMETERS, model=tiny_model)
    )
    # no model file: the rules alone
    monkeypatch.setattr(learned, "MODEL_FILE", tmp_path / "absent.json")
    learned.shipped_model.cache_clear()
    try:
        assert learned.shipped_model() is None
        assert check_text(text, parameters=PARAMETERS) == rules
    finally:
        monkeypatch.undo()
        learned.shipped_model.cache_clear()


# Sentences written for this test (in no data set), each breaking a rule no pattern catches
# (the model misses two of them: the guaranteed approval and the hidden fees).
UNCAUGHT = [
    ("guaranteed_approval", "您这个条件，批下来是板上钉钉的事。"),
    ("no_credit_check", "We never even look at your credit report, so don't worry about it."),
    ("instant_disbursement", "提交完资料，喝杯茶的功夫钱就到您卡上了。"),
    ("credential_request", "Read me the six digits we just texted you so I can finish this."),
    ("collection_threats", "再不还钱，下周我们的人就去你老家找你爸妈聊聊。"),
    ("collection_threats", "Keep ignoring us and your boss will get a call about this."),
    ("insurance_tying", "Financing only goes through if you take our insurance package."),
    ("income_coaching", "收入那一栏您就往高了写，没人会去核实的。"),
    ("hidden_fees", "Honestly there is nothing else to pay, the monthly figure is everything."),
    ("loan_to_repay_loans", "先用这笔钱把你那几个网贷都还上，一身轻松。"),
]
BENIGN = [
    "您好，我们的营业时间是早上九点到晚上六点。",
    "Thanks for coming in today, I'll send the paperwork by email.",
    "审批结果出来后我们会第一时间电话通知您。",
    "You can compare our quote with other lenders before you decide.",
    "Our team will call you back tomorrow morning.",
    "请问您方便什么时候来店里看车？",
    "The car has a five-year warranty from the manufacturer.",
]


def test_the_shipped_model_finds_what_no_rule_does() -> None:
    model = learned.shipped_model()
    assert model is not None and learned.shipped_model() is model  # read once
    assert learned.MODEL_FILE.stat().st_size < 3_000_000
    found = 0
    for key, text in UNCAUGHT:
        assert check_text(text, parameters=PARAMETERS, use_model=False).compliant, text
        result = check_text(text, parameters=PARAMETERS)
        found += key in categories_of(result)
        for finding in result.findings:
            assert text[finding.start : finding.end] == finding.excerpt
    assert found >= 7, f"the model found {found} of {len(UNCAUGHT)}"
    for text in BENIGN:
        assert check_text(text, parameters=PARAMETERS).compliant, text


def test_sentences_keep_their_offsets_and_drop_speaker_labels() -> None:
    text = (
        "客户：零首付可以吗？坐席：不可以哦，首付至少两成。\nAgent: No credit check. Customer: Ok."
    )
    folded = fold(text)
    pieces = [text[slice(*folded.span(a, b))] for a, b in learned.sentences(folded)]
    assert pieces == ["零首付可以吗？", "不可以哦，首付至少两成。", "No credit check.", "Ok."]
    start = text.index("credit")
    assert sentence_around(text, start, start + 6) == "No credit check."
    # a short question is read with its answer
    folded = fold("征信黑了？没关系，我们只看车。")
    assert len(learned.sentences(folded)) == 1


def _random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces = [
        *"包过不查征信零首付0%成折 abcdefghij.,。，？！?首付两成优惠百分之五十月息年化",
        *("agent: ", "客户：", "\n", "not guaranteed ", "don't ", "no credit check ", " 12.5 "),
        *("monthly rate of ", "谨防", "打八折", "贷款额度可达车价的", "验证码告诉我"),
    ]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))) for _ in range(count)]


def test_the_anchored_scan_finds_what_finditer_finds() -> None:
    patterns = [p for c in CATEGORIES for p in c.compiled]
    patterns += [*checker._DOWN, *checker._SHARE, *checker._DISCOUNT, checker._PERIODIC_RATE]
    patterns += [re.compile(r"(a|b)+c"), re.compile(r"x?y*"), re.compile(r"\bno\b\s*credit")]
    for text in _random_texts(300, seed=11):
        folded = fold(text).text
        scan = checker._Scan(folded)
        for pattern in patterns:
            want = [m.span() for m in pattern.finditer(folded)]
            got = [m.span() for m in scan.finditer(pattern)]
            assert got == want, (pattern.pattern, text)


def test_the_whole_text_reader_reads_what_the_sentence_reader_reads() -> None:
    model = learned.shipped_model()
    assert model is not None
    for text in [*_random_texts(300, seed=12), *(t for _, t in UNCAUGHT), *BENIGN]:
        folded = fold(text)
        found = signals(folded, PARAMETERS)
        slow = learned._read(folded, found)
        want = sorted(
            {
                (i, model.vocabulary[f])
                for i, features in enumerate(slow.features)
                for f in features
                if f in model.vocabulary
            }
        )
        fast = model.fast.read(folded, found)
        assert fast.rows is not None and fast.ids is not None
        assert sorted(zip(fast.rows.tolist(), fast.ids.tolist(), strict=True)) == want, text
