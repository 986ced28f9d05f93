"""The compliance checker (contract section 9): every one of the 23 categories is found in its
Chinese and English example, and not found where the text negates or warns against it; numbers
are read against the live parameters; offsets point into the text as sent; the check API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from carloan.compliance.checker import MAX_TEXT, check_text
from carloan.compliance.evaluation import EVALUATION_SET, evaluate, load
from carloan.compliance.library import CATEGORIES
from carloan.parameters.selectors import parameters_state
from carloan.parameters.services import parameters_change

PARAMETERS = {"risk.max_ltv_pct": 80, "marketing.max_promo_discount_pct": 5}

# Contract section 9: key, a Chinese and an English text that break it.
EXAMPLES = [
    ("guaranteed_approval", "百分百包过", "guaranteed approval"),
    ("no_credit_check", "不查征信", "no credit check"),
    ("zero_down_payment", "零首付提车", "zero down payment"),
    ("misleading_zero_interest", "零利息", "interest-free"),
    ("hidden_fees", "没有任何手续费", "no fees at all"),
    ("rate_without_apr", "月息低至0.3%", "only 0.3% a month"),
    ("instant_disbursement", "秒批秒放款", "approved in seconds"),
    ("excess_loan_amount", "车值多少贷多少", "borrow more than the car is worth"),
    ("lien_misrepresentation", "不押车不押证", "no lien on your car"),
    ("official_impersonation", "国家补贴贷款", "official government loan"),
    ("pressure_tactics", "仅限今天", "today only"),
    ("loan_to_repay_loans", "以贷养贷", "use it to pay off your credit cards"),
    ("ineligible_borrowers", "学生也能贷", "no income needed"),
    ("credential_request", "把验证码告诉我", "tell me the code we texted you"),
    ("early_repayment_misleading", "随时提前还款无违约金", "repay early anytime free"),
    ("collection_threats", "不还就通知你家人", "we will tell your family"),
    ("insurance_tying", "必须买我们的保险", "you must buy our insurance"),
    ("excess_discount", "优惠高达20%", "20% off"),
    ("income_coaching", "收入写高一点", "we can adjust your income"),
    ("value_guarantee", "稳赚不赔", "risk-free"),
    ("competitor_disparagement", "别家都是骗子", "other lenders are scams"),
    ("upfront_fee_deduction", "放款先扣服务费", "fee taken from the loan upfront"),
    ("identity_misuse", "用朋友的身份证办", "use a friend's ID"),
]


def categories_of(text: str, **parameters: Any) -> set[str]:
    found = check_text(text, parameters={**PARAMETERS, **parameters}).findings
    return {f.category for f in found}


def test_the_library_has_the_23_categories_of_the_contract() -> None:
    assert [c.key for c in CATEGORIES] == [key for key, _, _ in EXAMPLES]
    for category in CATEGORIES:
        assert category.severity in {"high", "medium"}
        assert category.suggestion_en and category.suggestion_zh


@pytest.mark.parametrize(("key", "zh", "en"), EXAMPLES)
def test_each_category_is_found_in_chinese_and_english(key: str, zh: str, en: str) -> None:
    for text in (zh, en, f"客户您好，{zh}，欢迎咨询。", f"Hi there! {en.capitalize()}, call us."):
        result = check_text(text, parameters=PARAMETERS)
        assert key in {f.category for f in result.findings}, text
        assert result.compliant is False


@pytest.mark.parametrize(("key", "zh", "en"), EXAMPLES)
def test_a_warning_against_it_is_no_finding(key: str, zh: str, en: str) -> None:
    assert key not in categories_of(f"请谨防“{zh}”之类的说法。")
    assert key not in categories_of(f"Beware of anyone who says '{en}'.")


@pytest.mark.parametrize(
    "text",
    [
        "我们不能保证一定通过审批",
        "we cannot promise approval",
        "审批结果以审核为准，不存在百分百包过。",
        "This is not a zero-interest product.",
        "We never ask for your verification code.",
        "首付最低两成，贷款期限12到60期。",
        "月息0.6%，年化利率7.2%，另有服务费300元。",
        "The monthly rate is 0.6%, an APR of 7.2%.",
        "提前还款需支付剩余本金1%的违约金。",
        "Our team will call you back tomorrow morning.",
        "九五折优惠，以活动规则为准。",
    ],
)
def test_compliant_texts_have_no_finding(text: str) -> None:
    result = check_text(text, parameters=PARAMETERS)
    assert result.compliant, result.findings


def test_numbers_are_read_against_the_live_parameters() -> None:
    # A discount above the promotion limit, in digits, Chinese numerals or as 折.
    assert "excess_discount" in categories_of("优惠8%")
    assert "excess_discount" not in categories_of(
        "优惠8%", **{"marketing.max_promo_discount_pct": 10}
    )
    assert "excess_discount" in categories_of("利率打九折")  # 10 % off
    assert "excess_discount" in categories_of("save 12% on the rate")
    # A down payment below what the LTV limit allows, with full-width digits and 成.
    assert "zero_down_payment" in categories_of("首付只要１５％就能开走")
    assert "zero_down_payment" not in categories_of("首付两成")
    assert "zero_down_payment" in categories_of("首付两成", **{"risk.max_ltv_pct": 75})
    assert "zero_down_payment" in categories_of("only 10% down and drive it home")
    # A loan share above the limit.
    assert "excess_loan_amount" in categories_of("贷款额度可达车价的120%")
    assert "excess_loan_amount" not in categories_of("贷款额度最高为车价的70%")
    finding = check_text("优惠8%", parameters=PARAMETERS).findings[0]
    assert finding.parameter == "marketing.max_promo_discount_pct"


def test_offsets_point_into_the_text_as_sent() -> None:
    text = "您好！首付只要１０％，而且ＡＢＣ不查征信哦。Also: guaranteed approval!"
    result = check_text(text, parameters=PARAMETERS)
    assert {f.category for f in result.findings} == {
        "zero_down_payment",
        "no_credit_check",
        "guaranteed_approval",
    }
    for finding in result.findings:
        assert text[finding.start : finding.end] == finding.excerpt
    suggestions = {f.category: f.suggestion for f in result.findings}
    assert suggestions["no_credit_check"].startswith("所有申请")  # a Chinese excerpt
    assert suggestions["guaranteed_approval"].startswith("Approval")  # an English one


def test_the_held_apart_set_is_read_and_scored() -> None:
    """The command's figures come from here; the set has at least 300 labelled utterances."""
    items = load(EVALUATION_SET)
    assert len(items) >= 300
    result = evaluate(items[:40])
    overall = result.not_compliant
    assert overall.true_positives + overall.false_negatives == sum(
        1 for item in items[:40] if item["categories"]
    )


# --- the API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_check_api_answers_the_contracts_shape(
    viewer: User, client_for: Callable[[User | None], APIClient]
) -> None:
    client = client_for(viewer)
    text = "零首付，百分百包过！"
    body = client.post("/api/compliance/check/", {"text": text}, format="json").json()
    assert body["compliant"] is False
    assert {f["category"] for f in body["findings"]} == {"zero_down_payment", "guaranteed_approval"}
    for finding in body["findings"]:
        assert set(finding) == {
            "category", "start", "end", "excerpt", "severity", "suggestion", "parameter"
        }  # fmt: skip
        assert text[finding["start"] : finding["end"]] == finding["excerpt"]
    clean = client.post("/api/compliance/check/", {"text": "欢迎到店试驾。"}, format="json")
    assert clean.json() == {"compliant": True, "findings": []}


@pytest.mark.django_db
def test_bad_texts_are_400_and_strangers_401(
    viewer: User, client_for: Callable[[User | None], APIClient]
) -> None:
    client = client_for(viewer)
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": "x" * (MAX_TEXT + 1)}):
        answer = client.post("/api/compliance/check/", body, format="json")
        assert answer.status_code == 400, body
        assert "text" in answer.json()
    too_long = client.post("/api/compliance/check/", {"text": "x" * (MAX_TEXT + 1)}, format="json")
    assert "20,000" in too_long.json()["text"][0]
    assert client_for(None).post("/api/compliance/check/", {"text": "hi"}).status_code == 401


@pytest.mark.django_db
def test_a_parameter_change_changes_the_verdict_at_once(
    viewer: User,
    manager: User,
    client_for: Callable[[User | None], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(viewer)
    text = {"text": "本月购车利率优惠8%"}
    assert client.post("/api/compliance/check/", text, format="json").json()["compliant"] is False
    key = "marketing.max_promo_discount_pct"
    version = parameters_state([key])[0]["version"]
    with django_capture_on_commit_callbacks(execute=True):
        parameters_change(changes={key: (10, version)}, user=manager)
    assert client.post("/api/compliance/check/", text, format="json").json()["compliant"] is True


def test_a_finding_never_cuts_a_word_in_two() -> None:
    """A pattern may stop inside a word (`guarantee… approv`): the highlight takes the word."""
    text = "Guaranteed approval for everyone, apply today."
    findings = check_text(text, parameters=PARAMETERS, use_model=False).findings
    guaranteed = next(f for f in findings if f.category == "guaranteed_approval")
    assert guaranteed.excerpt == "Guaranteed approval"
    assert text[guaranteed.start : guaranteed.end] == guaranteed.excerpt
