"""The parameter registry, without a database: what exists, the types and bounds, the rules."""

from __future__ import annotations

from typing import Any

import pytest

from carloan.parameters.presets import PRESETS
from carloan.parameters.registry import (
    BUDGET_KEYS,
    CATEGORIES,
    METRICS,
    REGISTRY,
    TYPES,
    InvalidValue,
    check_rules,
    coerce,
    defaults,
    related_keys,
)

CONTRACT_METRICS = {
    "lead_conversion_rate",
    "approval_rate",
    "customer_acquisition_cost",
    "overdue_rate",
    "npl_ratio",
    "valuation_accuracy",
    "valuation_cycle_time",
    "compliance_complaint_rate",
    "api_response_time_p95",
    "availability",
    "credit_query_latency_p95",
    "data_sync_lag_p95",
    "data_consistency_rate",
    "incident_response_time",
}


def test_the_issue_parameters_exist_with_their_defaults() -> None:
    values = defaults()

    assert values["risk.max_ltv_pct"] == 80
    assert values["risk.min_credit_score"] == 600
    assert values["risk.appraisal_tolerance_pct"] == 10
    assert values["kpi.min_collaboration_weight_pct"] == 20
    for key in (
        "marketing.max_promo_discount_pct",
        "marketing.lead_score_cutoff",
        "marketing.target_cac",
        "risk.calibration.target_bad_rate_pct",
        "risk.calibration.min_sample",
        "risk.calibration.max_step",
        *BUDGET_KEYS,
    ):
        assert key in values
    assert sum(values[key] for key in BUDGET_KEYS) == 100


def test_every_metric_has_warn_and_critical_thresholds() -> None:
    assert set(METRICS) == CONTRACT_METRICS
    for metric in CONTRACT_METRICS:
        assert REGISTRY[f"alert.{metric}.warn_pct"].default == 5
        assert REGISTRY[f"alert.{metric}.critical_pct"].default == 12
        assert REGISTRY[f"alert.{metric}.warn_pct"].category == "alert"


def test_every_spec_is_complete_and_its_default_is_valid() -> None:
    seen_types = set()
    for key, spec in REGISTRY.items():
        assert spec.key == key
        assert spec.category in CATEGORIES
        assert spec.type in TYPES
        assert spec.description_en and spec.description_zh
        assert coerce(spec, spec.default) == spec.default
        seen_types.add(spec.type)
    assert seen_types == set(TYPES)
    assert not check_rules(defaults(), REGISTRY)


def test_only_risk_keys_need_four_eyes() -> None:
    assert REGISTRY["risk.max_ltv_pct"].needs_four_eyes
    assert not REGISTRY["marketing.target_cac"].needs_four_eyes
    assert not REGISTRY["alert.npl_ratio.warn_pct"].needs_four_eyes


@pytest.mark.parametrize(
    ("key", "raw", "typed"),
    [
        ("risk.min_credit_score", 650, 650),
        ("risk.min_credit_score", "650", 650),
        ("risk.min_credit_score", 650.0, 650),
        ("risk.max_ltv_pct", "72.5", 72.5),
        ("risk.max_ltv_pct", 70, 70.0),
        ("marketing.target_cac", "1999.99", 1999.99),
        ("marketing.promotions_enabled", False, False),
        ("marketing.promotions_enabled", "true", True),
        ("risk.calibration.mode", "off", "off"),
    ],
)
def test_values_are_coerced_to_their_type(key: str, raw: Any, typed: Any) -> None:
    value = coerce(REGISTRY[key], raw)

    assert value == typed
    assert type(value) is type(typed)


@pytest.mark.parametrize(
    ("key", "raw", "says"),
    [
        ("risk.min_credit_score", 1001, "between 0 and 1000"),
        ("risk.min_credit_score", -1, "between 0 and 1000"),
        ("risk.min_credit_score", 600.5, "whole number"),
        ("risk.min_credit_score", "abc", "not a number"),
        ("risk.min_credit_score", True, "Enter a number"),
        ("risk.min_credit_score", None, "Enter a number"),
        ("risk.min_credit_score", [600], "Enter a number"),
        ("risk.max_ltv_pct", "NaN", "finite"),
        ("risk.max_ltv_pct", "Infinity", "finite"),
        ("risk.max_ltv_pct", 151, "between 10 and 150 %"),
        ("risk.max_ltv_pct", "80.123", "at most 2 decimal places"),
        ("marketing.promotions_enabled", 1, "true or false"),
        ("risk.calibration.mode", "sometimes", "one of: propose, off"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(key: str, raw: Any, says: str) -> None:
    with pytest.raises(InvalidValue, match=says):
        coerce(REGISTRY[key], raw)


def test_the_budget_split_must_sum_to_100() -> None:
    values = {**defaults(), BUDGET_KEYS[0]: 50.0}

    errors = check_rules(values, [BUDGET_KEYS[0]])

    assert list(errors) == [BUDGET_KEYS[0]]
    assert "sum to 100" in errors[BUDGET_KEYS[0]][0]
    assert "together" in errors[BUDGET_KEYS[0]][0]
    assert not check_rules({**values, BUDGET_KEYS[1]: 20.0}, BUDGET_KEYS[:2])
    assert not check_rules(dict(zip(BUDGET_KEYS, (33.33, 33.33, 33.34), strict=True)), BUDGET_KEYS)


def test_warn_must_stay_below_critical() -> None:
    warn, critical = "alert.overdue_rate.warn_pct", "alert.overdue_rate.critical_pct"

    assert check_rules({**defaults(), warn: 12.0}, [warn])[warn][0].startswith(
        "The warn threshold of overdue rate (12 %) must be below its critical threshold (12 %)"
    )
    assert critical in check_rules({**defaults(), critical: 4.0}, [critical])
    assert not check_rules({**defaults(), warn: 11.99}, [warn])


def test_a_rule_is_checked_only_when_one_of_its_keys_changes() -> None:
    broken = {**defaults(), BUDGET_KEYS[0]: 90.0}

    assert not check_rules(broken, ["marketing.target_cac"])
    assert related_keys(["alert.npl_ratio.warn_pct"]) == {
        "alert.npl_ratio.warn_pct",
        "alert.npl_ratio.critical_pct",
    }
    assert related_keys(["risk.max_ltv_pct"]) == {"risk.max_ltv_pct"}


def test_presets_are_the_playbook_splits() -> None:
    splits = {name: tuple(p.values[k] for k in BUDGET_KEYS) for name, p in PRESETS.items()}

    assert splits == {
        "emerging_market": (60, 20, 20),
        "mature_optimisation": (30, 40, 30),
        "tech_transformation": (15, 15, 70),
    }
    for preset in PRESETS.values():
        assert not check_rules({**defaults(), **preset.values}, BUDGET_KEYS)
