"""Scripts, their review as a kanban hand-off, the parameter re-check, the library's edits, calls
and verdicts (contract section 9), through the API as clients and the browser use it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.utils import timezone

from carloan.compliance.models import Call, Script
from carloan.loanbook.parsing import ImportRejected
from carloan.loanbook.services import loanbook_import
from carloan.parameters.services import parameters_change
from kanban.models import Card, Transition
from tests.factories import csv_file

pytestmark = pytest.mark.django_db

API = "/api/compliance"
COMPLIANT_TEXT = "您好，这款车贷年化利率6%，首付三成，审批以征信审核结果为准。"
DISCOUNT_TEXT = "本月购车贷款服务费八折优惠，欢迎到店咨询。"  # 20 % off


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what the code sends after commit (broadcasts, signals to the kanban)."""

    @contextmanager
    def run() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


def _create(client: Any, text: str = COMPLIANT_TEXT, title: str = "Spring promo") -> dict[str, Any]:
    answer = client.post(
        f"{API}/scripts/", {"title": title, "channel": "phone", "text": text}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def _patch(client: Any, script: dict[str, Any], **changes: Any) -> Any:
    return client.patch(
        f"{API}/scripts/{script['id']}/",
        {"version": script["version"], **changes},
        format="json",
    )


def test_a_script_is_drafted_by_marketing_checked_at_once_and_refused_to_others(
    client_for: Any, marketing_head: Any, risk_head: Any, viewer: Any
) -> None:
    draft = _create(client_for(marketing_head), DISCOUNT_TEXT)
    assert draft["state"] == "draft"
    assert draft["compliant"] is False
    assert [f["category"] for f in draft["findings"]] == ["excess_discount"]
    finding = draft["findings"][0]
    assert DISCOUNT_TEXT[finding["start"] : finding["end"]] == finding["excerpt"]
    assert finding["parameter"] == "marketing.max_promo_discount_pct"

    for other in (risk_head, viewer):
        refused = client_for(other).post(
            f"{API}/scripts/", {"title": "x", "channel": "sms", "text": "hi"}, format="json"
        )
        assert refused.status_code == 403
    assert Script.objects.count() == 1


def test_submit_hands_the_review_to_risk_and_approval_closes_the_card(
    client_for: Any, marketing_head: Any, risk_head: Any, committed: Any
) -> None:
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    draft = _create(marketing)
    with committed():
        submitted = _patch(marketing, draft, state="in_review")
    assert submitted.status_code == 200, submitted.json()
    submitted = submitted.json()
    assert submitted["state"] == "in_review"
    card = Card.objects.get(script_id=draft["id"])
    assert card.lane.department == "risk"
    handoffs = Transition.objects.filter(card=card, is_handoff=True)
    assert [(t.from_department, t.to_department) for t in handoffs] == [("marketing", "risk")]

    # Marketing cannot approve its own script.
    assert _patch(marketing, submitted, state="approved").status_code == 403
    with committed():
        approved = _patch(risk, submitted, state="approved")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["state"] == "approved"
    card.refresh_from_db()
    assert card.column.is_done
    # Risk picking the card up is what the hand-off wait measures.
    last = Transition.objects.filter(card=card).order_by("-at", "-id").first()
    assert last is not None and last.by == risk_head

    history = client_for(risk_head).get(f"{API}/scripts/{draft['id']}/history/").json()
    assert [h["action"] for h in history] == ["approve", "submit", "create"]
    assert history[0]["by"] == "rick_risk"


def test_changes_requested_need_a_note_and_hand_the_card_back(
    client_for: Any, marketing_head: Any, risk_head: Any, committed: Any
) -> None:
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    with committed():
        submitted = _patch(marketing, _create(marketing), state="in_review").json()
    refused = _patch(risk, submitted, state="draft")
    assert refused.status_code == 400
    assert "note" in refused.json()
    with committed():
        back = _patch(risk, submitted, state="draft", note="Say the APR first.")
    assert back.status_code == 200
    assert back.json()["review_note"] == "Say the APR first."
    card = Card.objects.get(script_id=submitted["id"])
    assert card.lane.department == "marketing"
    assert not card.column.is_done


def test_approving_a_non_compliant_script_needs_a_reason(
    client_for: Any, marketing_head: Any, risk_head: Any, committed: Any
) -> None:
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    with committed():
        submitted = _patch(marketing, _create(marketing, DISCOUNT_TEXT), state="in_review").json()
    refused = _patch(risk, submitted, state="approved")
    assert refused.status_code == 400
    assert "not compliant" in refused.json()["note"][0]
    assert Script.objects.get().state == "in_review"
    with committed():
        ok = _patch(risk, submitted, state="approved", note="The 20 % is on the dealer's fee.")
    assert ok.status_code == 200


def test_a_stale_version_is_409_with_the_current_script(
    client_for: Any, marketing_head: Any
) -> None:
    marketing = client_for(marketing_head)
    draft = _create(marketing)
    assert _patch(marketing, draft, title="Summer promo").status_code == 200
    stale = _patch(marketing, draft, title="Autumn promo")
    assert stale.status_code == 409
    assert stale.json()["current"]["title"] == "Summer promo"
    assert Script.objects.get().title == "Summer promo"


def test_editing_an_approved_script_sends_it_back_to_draft(
    client_for: Any, marketing_head: Any, risk_head: Any, committed: Any
) -> None:
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    with committed():
        submitted = _patch(marketing, _create(marketing), state="in_review").json()
        approved = _patch(risk, submitted, state="approved").json()
    edited = _patch(marketing, approved, text=COMPLIANT_TEXT + " 仅限今天！")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["state"] == "draft"
    assert [f["category"] for f in edited.json()["findings"]] == ["pressure_tactics"]


def test_a_parameter_change_sends_an_approved_script_to_review_at_once(
    client_for: Any, marketing_head: Any, risk_head: Any, manager: Any, committed: Any
) -> None:
    """九折 (10 % off) is within a 10 % limit; lowering the limit to 5 % makes the approved
    script inconsistent: it turns needs_review and its review card opens in risk's lane."""
    text = "贷款服务费九折优惠，年化利率以合同为准。"
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    with committed():
        parameters_change(
            changes={"marketing.max_promo_discount_pct": (10, 1)}, user=manager, reason="set"
        )
    with committed():
        submitted = _patch(marketing, _create(marketing, text), state="in_review").json()
        approved = _patch(risk, submitted, state="approved").json()
    assert approved["compliant"] is True
    assert Card.objects.get(script_id=approved["id"]).column.is_done

    with committed():
        parameters_change(
            changes={"marketing.max_promo_discount_pct": (5, 2)}, user=manager, reason="tighter"
        )
    script = client_for(risk_head).get(f"{API}/scripts/{approved['id']}/").json()
    assert script["state"] == "needs_review"
    assert [f["category"] for f in script["findings"]] == ["excess_discount"]
    assert script["checked_against"]["parameters"]["marketing.max_promo_discount_pct"] == 5
    open_cards = Card.objects.filter(script_id=approved["id"], column__is_done=False)
    assert [c.lane.department for c in open_cards] == ["risk"]

    # Loosened again: the findings follow, the state waits for risk's decision.
    with committed():
        parameters_change(
            changes={"marketing.max_promo_discount_pct": (10, 3)}, user=manager, reason="back"
        )
    script = client_for(risk_head).get(f"{API}/scripts/{approved['id']}/").json()
    assert script["findings"] == []
    assert script["state"] == "needs_review"


def test_the_library_is_edited_by_risk_versioned_and_revertible(
    client_for: Any, risk_head: Any, marketing_head: Any, manager: Any, committed: Any
) -> None:
    risk = client_for(risk_head)
    key = "pressure_tactics"
    before = risk.get(f"{API}/library/{key}/").json()
    assert before["version"] == 1 and before["edited"] is False
    text = "这批车是清仓特价车，抓紧来看看。"
    assert risk.post(f"{API}/check/", {"text": text}, format="json").json()["compliant"]

    refused = client_for(marketing_head).patch(
        f"{API}/library/{key}/",
        {"version": 1, "reason": "x", "patterns": ["清仓"]},
        format="json",
    )
    assert refused.status_code == 403
    with committed():
        saved = risk.patch(
            f"{API}/library/{key}/",
            {
                "version": 1,
                "reason": "清仓 is false urgency",
                "patterns": [*before["patterns"], "清仓"],
            },
            format="json",
        )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["version"] == 2
    checked = risk.post(f"{API}/check/", {"text": text}, format="json").json()
    assert [f["category"] for f in checked["findings"]] == [key]

    stale = risk.patch(
        f"{API}/library/{key}/", {"version": 1, "reason": "r", "severity": "low"}, format="json"
    )
    assert stale.status_code == 409
    history = risk.get(f"{API}/library/{key}/history/").json()
    assert history[0]["version"] == 2 and history[0]["changed_by"] == "rick_risk"
    assert history[0]["reason"] == "清仓 is false urgency"

    with committed():
        reverted = client_for(manager).post(
            f"{API}/library/{key}/revert/", {"version": 1, "base_version": 2}, format="json"
        )
    assert reverted.status_code == 200, reverted.json()
    assert reverted.json()["version"] == 3
    assert risk.post(f"{API}/check/", {"text": text}, format="json").json()["compliant"]


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(unclosed", "does not compile"),
        ("a*", "empty text"),
        (r"(a+)+$", "repeats a part"),
        (r"(\w|\w\w)+!", "catastrophically slow"),
        ("x" * 401, "at most 400"),
    ],
)
def test_a_bad_pattern_is_refused_at_save_and_nothing_changes(
    client_for: Any, risk_head: Any, pattern: str, why: str
) -> None:
    answer = client_for(risk_head).patch(
        f"{API}/library/hidden_fees/",
        {"version": 1, "reason": "try", "patterns": ["没有手续费", pattern]},
        format="json",
    )
    assert answer.status_code == 400
    assert why in str(answer.json()["patterns"])
    assert client_for(risk_head).get(f"{API}/library/hidden_fees/").json()["version"] == 1


def test_unknown_category_is_404_and_bad_text_is_400(client_for: Any, viewer: Any) -> None:
    client = client_for(viewer)
    assert client.get(f"{API}/library/no_such_thing/").status_code == 404
    too_long = client.post(f"{API}/check/", {"text": "贷" * 20_001}, format="json")
    assert too_long.status_code == 400
    assert "20,000" in str(too_long.json())
    assert client.post(f"{API}/check/", {"text": "   "}, format="json").status_code == 400


CALLS_CSV = """
call_id,started_at,region,agent,transcript,lead_id,script_id,direction
C1,2026-11-02T10:00:00+08:00,EAST-01,agent_wang,坐席：您好，我们这个百分百包过，不查征信。,L1,,outbound
C2,2026-11-02T11:00:00+08:00,EAST-01,agent_li,坐席：您好，审批以征信结果为准，年化利率6%。,L2,,outbound
C3,2026-11-03T09:30:00+08:00,WEST-02,agent_wang,Agent: 6% APR and a credit check.,,,inbound
"""


def test_the_calls_import_checks_every_call(client_for: Any, risk_head: Any) -> None:
    loanbook_import(kind="calls", source=csv_file(CALLS_CSV), refresh="now")
    assert Call.objects.count() == 3
    answer = client_for(risk_head).get(f"{API}/calls/?flagged=1")
    assert answer["X-Total-Count"] == "1"
    call = answer.json()[0]
    assert call["call_id"] == "C1" and call["flagged"] is True
    assert {f["category"] for f in call["findings"]} == {"guaranteed_approval", "no_credit_check"}
    everything = client_for(risk_head).get(f"{API}/calls/").json()
    assert {c["call_id"]: c["flagged"] for c in everything} == {
        "C1": True,
        "C2": False,
        "C3": False,
    }


def test_a_calls_file_with_a_bad_row_is_rejected_whole() -> None:
    bad = CALLS_CSV.strip() + "\nC4,2026-11-03T09:30:00+08:00,all,agent_x,hello,,,sideways\n"
    with pytest.raises(ImportRejected) as rejected:
        loanbook_import(kind="calls", source=csv_file(bad), refresh="now")
    reasons = {(e["line"], e["column"]) for e in rejected.value.errors}
    assert (5, "region") in reasons and (5, "direction") in reasons
    assert Call.objects.count() == 0


def test_a_reimported_call_with_other_words_is_checked_again() -> None:
    loanbook_import(kind="calls", source=csv_file(CALLS_CSV), refresh="now")
    changed = CALLS_CSV.replace("审批以征信结果为准，年化利率6%。", "仅限今天，错过就没了。")
    loanbook_import(kind="calls", source=csv_file(changed), refresh="now")
    call = Call.objects.get(call_id="C2")
    assert call.flagged is True
    assert [f["category"] for f in call.findings] == ["pressure_tactics"]


def test_a_posted_call_is_checked_on_arrival_and_verdicts_give_the_precision(
    client_for: Any, marketing_head: Any, risk_head: Any, viewer: Any
) -> None:
    body = {
        "call_id": "P1",
        "started_at": "2026-11-05T10:00:00+08:00",
        "region": "EAST-01",
        "agent": "agent_zhao",
        "transcript": "坐席：零首付提车，秒批秒放款！客户：真的吗？",
    }
    assert client_for(viewer).post(f"{API}/calls/", body, format="json").status_code == 403
    posted = client_for(marketing_head).post(f"{API}/calls/", body, format="json")
    assert posted.status_code == 201, posted.json()
    call = posted.json()
    assert call["flagged"] is True
    found = {f["category"]: f for f in call["findings"]}
    assert {"zero_down_payment", "instant_disbursement"} <= set(found)

    reviewer = client_for(risk_head)
    assert (
        client_for(marketing_head)
        .post(f"{API}/calls/P1/verdicts/", {**_at(found["zero_down_payment"]), "verdict": "right"})
        .status_code
        == 403
    )
    right = reviewer.post(
        f"{API}/calls/P1/verdicts/",
        {**_at(found["zero_down_payment"]), "verdict": "right"},
        format="json",
    )
    assert right.status_code == 200, right.json()
    reviewer.post(
        f"{API}/calls/P1/verdicts/",
        {**_at(found["instant_disbursement"]), "verdict": "wrong"},
        format="json",
    )
    precision = reviewer.get(f"{API}/precision/").json()
    assert (precision["right"], precision["wrong"], precision["precision"]) == (1, 1, 50.0)
    assert precision["categories"]["zero_down_payment"]["precision"] == 100.0

    nowhere = reviewer.post(
        f"{API}/calls/P1/verdicts/",
        {"category": "hidden_fees", "start": 0, "end": 3, "verdict": "right"},
        format="json",
    )
    assert nowhere.status_code == 400
    missed = reviewer.post(
        f"{API}/calls/P1/verdicts/",
        {"category": "pressure_tactics", "start": 3, "end": 9, "verdict": "missed"},
        format="json",
    )
    assert missed.status_code == 200
    assert missed.json()["missed"][0]["category"] == "pressure_tactics"
    assert reviewer.get(f"{API}/calls/nope/").status_code == 404


def _at(finding: dict[str, Any]) -> dict[str, Any]:
    return {"category": finding["category"], "start": finding["start"], "end": finding["end"]}


def test_the_matrix_counts_scripts_agents_categories_and_complaints(
    client_for: Any, viewer: Any
) -> None:
    loanbook_import(kind="calls", source=csv_file(CALLS_CSV), refresh="now")
    loanbook_import(
        kind="complaints",
        source=csv_file(
            """
            complaint_id,received_at,region,category
            K1,2026-11-04T10:00:00+08:00,EAST-01,sales
            K2,2026-11-05T10:00:00+08:00,EAST-01,sales
            K3,2026-11-05T10:00:00+08:00,WEST-02,fees
            """
        ),
        refresh="none",
    )
    matrix = client_for(viewer).get(f"{API}/matrix/?start=2026-11-01&end=2026-11-30").json()
    agents = {row["key"]: row for row in matrix["agents"]}
    assert agents["agent_wang"]["calls"] == 2
    assert agents["agent_wang"]["flagged"] == 1
    assert agents["agent_wang"]["categories"] == {"guaranteed_approval": 1, "no_credit_check": 1}
    assert agents["agent_wang"]["complaints"] == 3  # EAST-01 (2) and WEST-02 (1)
    assert agents["agent_li"]["complaints"] == 2
    east = client_for(viewer).get(f"{API}/matrix/?start=2026-11-01&end=2026-11-30&region=EAST-01")
    assert {row["key"] for row in east.json()["agents"]} == {"agent_wang", "agent_li"}
    bad = client_for(viewer).get(f"{API}/matrix/?start=2026-11-30&end=2026-11-01")
    assert bad.status_code == 400


def test_the_figures_discrepancy_rate_and_flagged_calls_per_100(
    client_for: Any, marketing_head: Any, risk_head: Any, manager: Any, committed: Any
) -> None:
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    with committed():
        parameters_change(
            changes={"marketing.max_promo_discount_pct": (10, 1)}, user=manager, reason="set"
        )
    with committed():
        for n, text in enumerate([COMPLIANT_TEXT, "贷款服务费九折优惠，年化利率以合同为准。"] * 2):
            script = _patch(marketing, _create(marketing, text, f"S{n}"), state="in_review").json()
            _patch(risk, script, state="approved")
        parameters_change(
            changes={"marketing.max_promo_discount_pct": (5, 2)}, user=manager, reason="tighter"
        )
    now = timezone.localtime()
    for n, text in enumerate(["百分百包过", "年化利率6%", "审批以结果为准", "零首付"]):
        Call.objects.create(
            call_id=f"F{n}", started_at=now, region="EAST-01", agent="a", transcript=text
        )
    from carloan.compliance.services import calls_check_pending

    assert calls_check_pending() == 4
    figures = client_for(risk_head).get(f"{API}/figures/").json()
    assert figures["script_discrepancy_rate"] == 50.0  # 2 of the 4 live scripts
    assert figures["flagged_calls_per_100"] == 50.0
    assert figures["needs_review"] == 2


def test_nothing_is_answered_to_a_stranger(client_for: Any) -> None:
    anonymous = client_for(None)
    for path in ("scripts/", "calls/", "library/", "matrix/", "figures/", "precision/"):
        assert anonymous.get(f"{API}/{path}").status_code == 401


def test_the_hourly_sweep_checks_calls_a_failed_refresh_left(settings: Any) -> None:
    from carloan.tasks import compliance_calls_check

    loanbook_import(kind="calls", source=csv_file(CALLS_CSV), refresh="none")
    assert Call.objects.filter(checked_hash="").count() == 3
    assert compliance_calls_check.apply().get() == 3
    assert Call.objects.get(call_id="C1").flagged is True
    assert compliance_calls_check.apply().get() == 0  # nothing twice
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "carloan.compliance_calls_check" in scheduled


def test_the_evaluation_is_on_the_newest_held_apart_set_per_category(
    client_for: Any, viewer: Any
) -> None:
    from carloan.compliance.evaluation import SETS, load

    answer = client_for(viewer).get(f"{API}/evaluation/").json()
    assert answer["set"].startswith("holdout")
    labelled = load(SETS[answer["set"]])
    assert answer["utterances"] + answer["set_aside"] == len(labelled)
    assert answer["set_aside"] < 0.05 * len(labelled)
    for run in ("rules", "rules_and_model"):
        overall = answer[run]["not_compliant"]
        violating = sum(1 for item in labelled if item["categories"])
        assert violating - answer["set_aside"] <= overall["support"] <= violating
        assert 0 <= overall["precision"] <= 100 and 0 <= overall["recall"] <= 100
        assert len(answer[run]["categories"]) == 23
    # the model is there to find what the patterns miss
    assert (
        answer["rules_and_model"]["not_compliant"]["recall"]
        > answer["rules"]["not_compliant"]["recall"]
    )
    assert answer["target"] == 86.0


def test_switching_promotions_off_makes_any_promised_discount_a_finding(
    client_for: Any, marketing_head: Any, risk_head: Any, manager: Any, committed: Any
) -> None:
    """`marketing.promotions_enabled` bites: with promotions off, even 九五折 (5 % off, within
    the 5 % limit) is a discount no script may promise."""
    text = "贷款服务费九五折，年化利率以合同为准。"
    marketing, risk = client_for(marketing_head), client_for(risk_head)
    with committed():
        submitted = _patch(marketing, _create(marketing, text), state="in_review").json()
        approved = _patch(risk, submitted, state="approved").json()
    assert approved["compliant"] is True
    with committed():
        parameters_change(
            changes={"marketing.promotions_enabled": (False, 1)}, user=manager, reason="paused"
        )
    script = client_for(risk_head).get(f"{API}/scripts/{approved['id']}/").json()
    assert script["state"] == "needs_review"
    assert [f["category"] for f in script["findings"]] == ["excess_discount"]
    assert script["checked_against"]["parameters"]["marketing.promotions_enabled"] is False
    checked = client_for(risk_head).post(f"{API}/check/", {"text": "服务费九五折"}, format="json")
    assert checked.json()["compliant"] is False
