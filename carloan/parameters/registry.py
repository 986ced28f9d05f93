"""The registry of live parameters: every knob a manager may turn, what it means and its limits.

Pure data and pure functions (no database): a `ParameterSpec` per key, `coerce` to turn what a
client sent into the typed value (or say clearly why not), and the cross-field rules a whole
set of values must obey (the budget split sums to 100, a warning comes before a critical alert).

Values are plain JSON: integers are `int`, decimals and percents `float`, choices `str`,
booleans `bool`. A parameter that was never changed has its default here, as version 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Category = Literal["strategy", "risk", "alert", "kpi"]
ParamType = Literal["integer", "decimal", "percent", "choice", "boolean"]
Value = int | float | str | bool

CATEGORIES: tuple[Category, ...] = ("strategy", "risk", "alert", "kpi")
TYPES: tuple[ParamType, ...] = ("integer", "decimal", "percent", "choice", "boolean")

# The fourteen metric keys of contract section 3, with their names for the descriptions.
# Hard-coded on purpose: the core never imports the metrics app.
METRICS: dict[str, tuple[str, str]] = {
    "lead_conversion_rate": ("lead conversion rate", "线索转化率"),
    "approval_rate": ("approval rate", "审批通过率"),
    "customer_acquisition_cost": ("customer acquisition cost", "获客成本"),
    "overdue_rate": ("overdue rate", "逾期率"),
    "npl_ratio": ("NPL ratio", "不良贷款率"),
    "valuation_accuracy": ("valuation accuracy", "估值准确率"),
    "valuation_cycle_time": ("valuation cycle time", "估值周期"),
    "compliance_complaint_rate": ("compliance complaint rate", "合规投诉率"),
    "api_response_time_p95": ("API response time p95", "API 响应时间 p95"),
    "availability": ("availability", "系统可用性"),
    "credit_query_latency_p95": ("credit query latency p95", "征信查询延迟 p95"),
    "data_sync_lag_p95": ("data sync lag p95", "数据同步延迟 p95"),
    "data_consistency_rate": ("data consistency rate", "数据一致率"),
    "incident_response_time": ("incident response time", "故障响应时间"),
}

# Service levels of the absolute threshold mode (contract section 3), in each metric's unit:
# (unit, lower is better, warn_at, critical_at, mode by default). The technical ones are the
# contract's; the business ones are the seed's reported results made into levels (issue 19):
# overdue 1.2 %, NPL 3.5 %, valuation accuracy 92 %, a one-day valuation cycle.
LEVELS: dict[str, tuple[str, bool, float, float, str]] = {
    "lead_conversion_rate": ("%", False, 15, 10, "relative"),
    "approval_rate": ("%", False, 55, 45, "relative"),
    "customer_acquisition_cost": ("CNY", True, 1800, 2500, "relative"),
    "overdue_rate": ("%", True, 1.5, 2.0, "relative"),
    "npl_ratio": ("%", True, 3.5, 5.0, "relative"),
    "valuation_accuracy": ("%", False, 90, 85, "relative"),
    "valuation_cycle_time": ("days", True, 2, 5, "relative"),
    "compliance_complaint_rate": ("per 10k loans", True, 5, 10, "relative"),
    "api_response_time_p95": ("ms", True, 300, 800, "absolute"),
    "availability": ("%", False, 99.9, 99.5, "absolute"),
    "credit_query_latency_p95": ("s", True, 2, 5, "absolute"),
    "data_sync_lag_p95": ("s", True, 60, 300, "absolute"),
    "data_consistency_rate": ("%", False, 99.5, 99, "absolute"),
    "incident_response_time": ("h", True, 3, 24, "absolute"),
}
THRESHOLD_MODES = ("relative", "absolute")

BUDGET_KEYS = (
    "strategy.budget.data_platform_pct",
    "strategy.budget.risk_collaboration_pct",
    "strategy.budget.agile_platform_pct",
)
FOUR_EYES_PREFIX = "risk."
# Two float percents are "equal" within this (a client may send 33.33 + 33.33 + 33.34).
EPSILON = 1e-9


@dataclass(frozen=True)
class ParameterSpec:
    """One live parameter: its key, meaning, type and limits, and its default value."""

    key: str
    category: Category
    type: ParamType
    default: Value
    description_en: str
    description_zh: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    decimal_places: int | None = None

    @property
    def needs_four_eyes(self) -> bool:
        """Risk thresholds change only when a second manager approves."""
        return self.key.startswith(FOUR_EYES_PREFIX)

    def as_dict(self) -> dict[str, Any]:
        """The spec as the API and the sockets show it."""
        return {
            "key": self.key,
            "category": self.category,
            "type": self.type,
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "choices": list(self.choices) or None,
            "decimal_places": self.decimal_places,
            "default": self.default,
            "description": {"en": self.description_en, "zh": self.description_zh},
            "four_eyes": self.needs_four_eyes,
        }


class InvalidValue(ValueError):
    """A value that a parameter cannot take; the message says why, in a user's words."""


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: `check(values)` returns an error message, or None when it holds."""

    name: str
    keys: tuple[str, ...]
    check: Callable[[Mapping[str, Value]], str | None] = field(compare=False)


def _pct(
    key: str, default: float, en: str, zh: str, category: Category, **kw: Any
) -> ParameterSpec:
    kw.setdefault("min", 0)
    kw.setdefault("max", 100)
    kw.setdefault("decimal_places", 2)
    return ParameterSpec(key, category, "percent", float(default), en, zh, unit="%", **kw)


def _build() -> dict[str, ParameterSpec]:
    specs: list[ParameterSpec] = [
        # --- strategy: marketing and the budget split -------------------------------------
        _pct(
            "strategy.budget.data_platform_pct",
            40,
            "Share of the transformation budget for the data platform. The three budget shares "
            "sum to 100 %: change them together.",
            "数字化转型预算中数据平台的占比。三项预算占比之和必须为 100%，请同时修改。",
            "strategy",
        ),
        _pct(
            "strategy.budget.risk_collaboration_pct",
            30,
            "Share of the transformation budget for risk-control collaboration. The three budget "
            "shares sum to 100 %: change them together.",
            "数字化转型预算中风控协同的占比。三项预算占比之和必须为 100%，请同时修改。",
            "strategy",
        ),
        _pct(
            "strategy.budget.agile_platform_pct",
            30,
            "Share of the transformation budget for the agile delivery platform. The three budget "
            "shares sum to 100 %: change them together.",
            "数字化转型预算中敏捷平台的占比。三项预算占比之和必须为 100%，请同时修改。",
            "strategy",
        ),
        _pct(
            "marketing.max_promo_discount_pct",
            5,
            "Largest rate discount a promotion may offer a borrower, in % of the standard rate.",
            "促销活动可给予借款人的最大利率折扣（占标准利率的百分比）。",
            "strategy",
            max=50,
        ),
        ParameterSpec(
            "marketing.lead_score_cutoff",
            "strategy",
            "integer",
            50,
            "Leads scoring below this (0-100) are not passed to sales.",
            "线索评分（0-100）低于此值的线索不转交销售。",
            unit="points",
            min=0,
            max=100,
        ),
        ParameterSpec(
            "marketing.target_cac",
            "strategy",
            "decimal",
            2500.0,
            "Target customer acquisition cost: marketing spend per funded loan.",
            "目标获客成本：每笔放款对应的营销费用。",
            unit="CNY",
            min=0,
            max=1_000_000,
            decimal_places=2,
        ),
        ParameterSpec(
            "marketing.promotions_enabled",
            "strategy",
            "boolean",
            True,
            "Whether promotional rate discounts are offered at all.",
            "是否提供促销利率折扣。",
        ),
        # --- risk: thresholds (four-eyes) ----------------------------------------------
        _pct(
            "risk.max_ltv_pct",
            80,
            "Highest loan-to-value ratio accepted: principal / appraised vehicle value.",
            "可接受的最高贷款价值比（贷款本金 / 车辆评估价值）。",
            "risk",
            min=10,
            max=150,
        ),
        ParameterSpec(
            "risk.min_credit_score",
            "risk",
            "integer",
            600,
            "Applications with a credit score below this (0-1000) are declined.",
            "信用评分（0-1000）低于此值的申请将被拒绝。",
            unit="points",
            min=0,
            max=1000,
        ),
        # --- risk: the six cross-checks on applications (contract section 10) ----------
        ParameterSpec(
            "risk.xcheck.window_days",
            "risk",
            "integer",
            90,
            "Applications within this many days of each other (before or after) count together "
            "in the shared-phone, shared-device and VIN-reuse checks.",
            "共用手机、共用设备与车架号重复检查中，相隔在此天数以内（前后）的申请合并计算。",
            unit="days",
            min=1,
            max=3650,
        ),
        ParameterSpec(
            "risk.xcheck.max_applicants_per_phone",
            "risk",
            "integer",
            2,
            "An application fails the shared-phone check when its phone is on applications of "
            "more distinct applicants than this within the window.",
            "同一手机号在时间窗内对应的不同申请人数超过此值，申请即未通过共用手机检查。",
            unit="applicants",
            min=1,
            max=1000,
        ),
        ParameterSpec(
            "risk.xcheck.max_applicants_per_device",
            "risk",
            "integer",
            3,
            "An application fails the shared-device check when its device is on applications of "
            "more distinct applicants than this within the window.",
            "同一设备在时间窗内对应的不同申请人数超过此值，申请即未通过共用设备检查。",
            unit="applicants",
            min=1,
            max=1000,
        ),
        _pct(
            "risk.xcheck.max_dti_pct",
            50,
            "Highest debt-to-income ratio: the requested amount over 36 months against the "
            "monthly income.",
            "最高负债收入比：申请金额按 36 个月摊还后与月收入之比。",
            "risk",
            min=1,
            max=1000,
        ),
        _pct(
            "risk.appraisal_tolerance_pct",
            10,
            "A branch appraisal above the model's value by more than this is an inflated "
            "appraisal.",
            "网点评估价高于模型估值超过此比例即视为评估价虚高。",
            "risk",
        ),
        _pct(
            "risk.calibration.target_bad_rate_pct",
            5,
            "Auto-calibration target: the 30+ days-past-due rate of recent loans above the "
            "credit-score cutoff should stay at or below this.",
            "自动校准目标：信用评分线以上近期贷款的 30 天以上逾期率不应超过此值。",
            "risk",
        ),
        ParameterSpec(
            "risk.calibration.min_sample",
            "risk",
            "integer",
            200,
            "Auto-calibration proposes nothing from fewer loans than this.",
            "贷款样本少于此数量时，自动校准不提出建议。",
            unit="loans",
            min=10,
            max=1_000_000,
        ),
        ParameterSpec(
            "risk.calibration.max_step",
            "risk",
            "integer",
            20,
            "Largest change of the credit-score cutoff one calibration run may propose.",
            "单次自动校准可建议的信用评分线最大调整幅度。",
            unit="points",
            min=1,
            max=200,
        ),
        ParameterSpec(
            "risk.calibration.lookback_days",
            "risk",
            "integer",
            365,
            "Auto-calibration looks at loans funded in this many days before the latest "
            "snapshot (leaving out the last 60 days, too young to be 30 days past due).",
            "自动校准考察最近这么多天内发放的贷款"
            "（不含最近 60 天内发放、尚不足以逾期 30 天的贷款）。",
            unit="days",
            min=90,
            max=1095,
        ),
        ParameterSpec(
            "risk.calibration.mode",
            "risk",
            "choice",
            "propose",
            "'propose': the daily calibration files a change request for a manager; 'off': it "
            "does not run on schedule (it can still be run by hand).",
            "“propose”：每日自动校准为经理提交变更申请；“off”：不按计划运行（仍可手动运行）。",
            choices=("propose", "off"),
        ),
        # --- kpi ---------------------------------------------------------------------------
        _pct(
            "kpi.min_collaboration_weight_pct",
            20,
            "Each department's collaboration KPIs must weigh at least this much (of 100). "
            "The programme's rule is at least 20: it can be raised, never set below 20.",
            "每个部门的协作类 KPI 权重合计不得低于此值（总权重 100）。项目规定至少 20：可以调高，"
            "不能低于 20。",
            "kpi",
            # The seed's rule: collaboration weighs at least 20 % of every department's KPIs.
            min=20,
        ),
        # --- alert -------------------------------------------------------------------------
        ParameterSpec(
            "alert.min_denominator",
            "alert",
            "integer",
            0,
            "A rate computed from fewer cases than this (its denominator) raises no alert; "
            "0 means every rate may alert.",
            "分母（样本数）少于此值的比率不触发告警；0 表示所有比率均可告警。",
            unit="cases",
            min=0,
            max=100_000,
        ),
    ]
    specs.append(
        ParameterSpec(
            "alert.escalate_after_minutes",
            "alert",
            "integer",
            30,
            "A critical alert nobody acknowledged this many minutes after it was raised is sent, "
            "once, to the managers' notification channels.",
            "严重告警在触发后这么多分钟内无人确认时，会（仅一次）发送到经理的通知渠道。",
            unit="minutes",
            min=1,
            max=1440,
        )
    )
    for metric, (en, zh) in METRICS.items():
        unit, lower, warn_at, critical_at, mode = LEVELS[metric]
        worse, worse_zh = ("at or above", "达到或高于") if lower else ("at or below", "达到或低于")
        specs.append(
            ParameterSpec(
                f"alert.{metric}.mode",
                "alert",
                "choice",
                mode,
                f"How the {en} is judged: relative (its deviation from last month's baseline, "
                f"warn_pct and critical_pct) or absolute (a service level: warn_at and "
                f"critical_at, in {unit}).",
                f"{zh}的判定方式：relative（相对上月基线的偏离，使用 warn_pct 和 critical_pct）或 "
                f"absolute（服务水平：warn_at 和 critical_at，单位 {unit}）。",
                choices=THRESHOLD_MODES,
            )
        )
        for level, default, level_zh in (
            ("warn", warn_at, "预警"),
            ("critical", critical_at, "严重"),
        ):
            specs.append(
                ParameterSpec(
                    f"alert.{metric}.{level}_at",
                    "alert",
                    "decimal",
                    float(default),
                    f"In the absolute mode, the {en} is at {level} when it is {worse} this "
                    f"level ({unit}).",
                    f"绝对模式下，{zh}{worse_zh}此水平（{unit}）时为{level_zh}状态。",
                    unit=unit,
                    min=0,
                    max=1_000_000,
                    decimal_places=3,
                )
            )
        for level, default, level_zh in (("warn", 5, "预警"), ("critical", 12, "严重")):
            specs.append(
                _pct(
                    f"alert.{metric}.{level}_pct",
                    default,
                    f"The {en} is at {level} when it deviates from its baseline by this much in "
                    f"the worse direction (in % of the baseline). Warn must stay below critical.",
                    f"{zh}向不利方向偏离基线达到此比例（占基线的百分比）时为{level_zh}状态。"
                    "预警阈值必须低于严重阈值。",
                    "alert",
                    max=1000,
                )
            )
    return {spec.key: spec for spec in specs}


REGISTRY: dict[str, ParameterSpec] = _build()


def spec_for(key: str) -> ParameterSpec:
    """The spec of `key`; KeyError when there is no such parameter."""
    return REGISTRY[key]


def defaults() -> dict[str, Value]:
    """Every parameter's default value."""
    return {key: spec.default for key, spec in REGISTRY.items()}


# --- coercion ---------------------------------------------------------------------------------


def _number(spec: ParameterSpec, raw: Any) -> Decimal:
    if isinstance(raw, bool) or raw is None or isinstance(raw, list | dict):
        raise InvalidValue(f"Enter a number for {spec.key}.")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidValue(f"{raw!r} is not a number; enter a number for {spec.key}.") from None
    if not number.is_finite():
        raise InvalidValue(f"Enter a finite number for {spec.key}.")
    return number


def _bounds_message(spec: ParameterSpec) -> str:
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{spec.key} must be between {_fmt(spec.min)} and {_fmt(spec.max)}{unit}"


def _fmt(number: float | None) -> str:
    if number is None:
        return "-"
    return str(int(number)) if float(number).is_integer() else str(number)


def coerce(spec: ParameterSpec, raw: Any) -> Value:
    """The typed value of `raw` for `spec`, or InvalidValue saying what is wrong.

    Integers accept 600, 600.0 and "600"; decimals and percents accept numbers and numeric
    strings with at most `decimal_places` decimals; booleans accept true/false (also as text);
    choices accept one of the listed words.
    """
    if spec.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
            return raw.strip().lower() == "true"
        raise InvalidValue(f"{spec.key} is true or false.")
    if spec.type == "choice":
        if isinstance(raw, str) and raw in spec.choices:
            return raw
        raise InvalidValue(f"{spec.key} must be one of: {', '.join(spec.choices)}.")
    number = _number(spec, raw)
    if spec.type == "integer":
        if number != number.to_integral_value():
            raise InvalidValue(f"{spec.key} is a whole number; {_fmt(float(number))} is not.")
        value: int | float = int(number)
    else:
        places = spec.decimal_places
        exponent = number.normalize().as_tuple().exponent
        if places is not None and isinstance(exponent, int) and -exponent > places:
            raise InvalidValue(f"{spec.key} takes at most {places} decimal places.")
        value = float(number)
        if math.isinf(value):
            raise InvalidValue(f"Enter a finite number for {spec.key}.")
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise InvalidValue(f"{_bounds_message(spec)}; {_fmt(float(value))} is out of bounds.")
    return value


# --- cross-field rules --------------------------------------------------------------------------


def _budget_sums_to_100(values: Mapping[str, Value]) -> str | None:
    shares = [float(values[key]) for key in BUDGET_KEYS]
    total = sum(shares)
    if abs(total - 100) <= 1e-6:
        return None
    return (
        f"The budget split must sum to 100 % (it would be {_fmt(round(total, 6))} %). Change "
        f"{', '.join(BUDGET_KEYS)} together, in one bulk change (PATCH /api/parameters/) or "
        "with a strategy preset."
    )


def _warn_below_critical(metric: str) -> Callable[[Mapping[str, Value]], str | None]:
    warn_key, critical_key = f"alert.{metric}.warn_pct", f"alert.{metric}.critical_pct"

    def check(values: Mapping[str, Value]) -> str | None:
        warn, critical = float(values[warn_key]), float(values[critical_key])
        if warn < critical:
            return None
        return (
            f"The warn threshold of {METRICS[metric][0]} ({_fmt(warn)} %) must be below its "
            f"critical threshold ({_fmt(critical)} %): change {warn_key} and {critical_key} "
            "together if needed."
        )

    return check


def _levels_in_order(metric: str) -> Callable[[Mapping[str, Value]], str | None]:
    warn_key, critical_key = f"alert.{metric}.warn_at", f"alert.{metric}.critical_at"
    unit, lower = LEVELS[metric][0], LEVELS[metric][1]

    def check(values: Mapping[str, Value]) -> str | None:
        warn, critical = float(values[warn_key]), float(values[critical_key])
        if (warn < critical) if lower else (warn > critical):
            return None
        side = "below" if lower else "above"
        return (
            f"The {METRICS[metric][0]} gets worse as it {'rises' if lower else 'falls'}: its "
            f"warn level ({_fmt(warn)} {unit}) must be {side} its critical level "
            f"({_fmt(critical)} {unit}). Change {warn_key} and {critical_key} together if needed."
        )

    return check


RULES: tuple[Rule, ...] = (
    Rule("budget_sums_to_100", BUDGET_KEYS, _budget_sums_to_100),
    *(
        Rule(
            f"{metric}_warn_below_critical",
            (f"alert.{metric}.warn_pct", f"alert.{metric}.critical_pct"),
            _warn_below_critical(metric),
        )
        for metric in METRICS
    ),
    *(
        Rule(
            f"{metric}_levels_in_order",
            (f"alert.{metric}.warn_at", f"alert.{metric}.critical_at"),
            _levels_in_order(metric),
        )
        for metric in METRICS
    ),
)


def rules_touching(keys: Iterable[str]) -> list[Rule]:
    """The cross-field rules that involve any of `keys`."""
    wanted = set(keys)
    return [rule for rule in RULES if wanted & set(rule.keys)]


def related_keys(keys: Iterable[str]) -> set[str]:
    """`keys` and every key that shares a cross-field rule with one of them."""
    wanted = set(keys)
    for rule in rules_touching(wanted):
        wanted |= set(rule.keys)
    return wanted


def check_rules(values: Mapping[str, Value], changed: Iterable[str]) -> dict[str, list[str]]:
    """Errors, by key, of the rules the `changed` keys take part in, on the whole `values`.

    Only rules touching a changed key are checked, so an unrelated change is never blocked.
    Each error is reported under every changed key of its rule (or its first key).
    """
    changed = set(changed)
    errors: dict[str, list[str]] = {}
    for rule in rules_touching(changed):
        message = rule.check(values)
        if message is None:
            continue
        for key in [k for k in rule.keys if k in changed] or [rule.keys[0]]:
            errors.setdefault(key, []).append(message)
    return errors
