"""The learned model learns from reviewers' verdicts (weekly, in the worker): a model trained
here is used only when it does no worse than the one in use on the development set."""

from __future__ import annotations

from typing import Any

import pytest

from carloan.compliance.evaluation import DATA, load
from carloan.compliance.learned import Example, train
from carloan.compliance.models import Call, TrainedModel
from carloan.compliance.services import (
    calls_check_pending,
    check,
    current_model,
    model_retrain,
    verdict_record,
)

pytestmark = pytest.mark.django_db


def test_verdicts_train_a_model_that_replaces_a_worse_one_in_use(risk_head: Any) -> None:
    # A poor model in use: trained on four texts.
    poor = train(
        [
            Example("百分百包过", frozenset({"guaranteed_approval"}), None),
            Example("审批以结果为准", frozenset(), None),
            Example("no fees at all", frozenset({"hidden_fees"}), None),
            Example("fees are listed in the contract", frozenset(), None),
        ]
    )
    TrainedModel.objects.create(
        trained_at="2026-11-01T00:00:00Z",
        examples=4,
        verdicts=0,
        active=True,
        document=poor.to_json(),
    )
    assert current_model() is not None
    Call.objects.create(
        call_id="V1",
        started_at="2026-11-02T10:00:00+08:00",
        region="EAST-01",
        agent="a",
        transcript="坐席：我们百分百包过。客户：好的。",
    )
    calls_check_pending()
    finding = Call.objects.get(call_id="V1").findings[0]
    verdict_record(
        user=risk_head,
        call_id="V1",
        category=finding["category"],
        start=finding["start"],
        end=finding["end"],
        verdict="right",
    )

    # Trained on the rules' tuning set (the weekly task takes every training set: slower).
    tuning = DATA / "tuning.jsonl"
    row = model_retrain(minimum_verdicts=1, files=[tuning])
    assert row is not None and row.active and row.note == "in use"
    trained = TrainedModel.objects.get(active=True)
    assert trained.pk == row.pk
    assert trained.verdicts == 1
    assert trained.examples == len(load(tuning)) + 1
    assert trained.dev_precision is not None and trained.replaced_precision is not None
    assert trained.dev_precision > trained.replaced_precision  # the poor model flags wrongly
    assert TrainedModel.objects.filter(active=False).count() == 1
    # The checks use it from now on.
    assert check("坐席：我们百分百包过。").result.compliant is False


def test_without_verdicts_nothing_is_trained() -> None:
    from carloan.tasks import compliance_model_retrain

    assert compliance_model_retrain.apply().get() == "no verdicts yet"
    assert not TrainedModel.objects.exists()
