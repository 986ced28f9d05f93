"""The fourteen metrics of contract section 3: what each one is, how it is computed, who owns it.

Pure data. The formulas themselves are SQL in `metrics.formulas`; each definition names its
`family` (the statement that computes it). Owning departments decide which kanban lane a critical
alert's card goes to: the funnel's risk side (approval, overdue, NPL) is risk's; acquisition cost
and conversion are marketing's; collateral valuation and compliance complaints are risk's too
(valuation protects the loan-to-value the risk department sets, and complaints are a compliance
matter the risk-control department answers for); technical metrics are tech's.

Two more metrics feed KPI scoring but are not daily panels: the kanban's collaboration metrics
(`handoff_wait_time`, `cross_department_cycle_time`, contract section 7). The kanban registers a
function computing each over a period with `register_period_metric`; `metric_values_for_period`
then serves them beside the fourteen, so KPI scoring reads every actual from one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

Category = Literal["technical", "business"]
Direction = Literal["higher_is_better", "lower_is_better"]
Department = Literal["marketing", "risk", "tech"]
Family = Literal["funnel", "portfolio", "valuation", "technical"]

FAMILIES: tuple[Family, ...] = ("funnel", "portfolio", "valuation", "technical")


@dataclass(frozen=True)
class MetricDefinition:
    """One of the fourteen metrics."""

    key: str
    name_en: str
    name_zh: str
    category: Category
    unit: str
    direction: Direction
    description: str
    department: Department
    family: Family
    sample_metric: str = ""  # technical metrics: the sample series they read

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower_is_better"

    @property
    def warn_key(self) -> str:
        return f"alert.{self.key}.warn_pct"

    @property
    def critical_key(self) -> str:
        return f"alert.{self.key}.critical_pct"

    @property
    def mode_key(self) -> str:
        return f"alert.{self.key}.mode"

    @property
    def warn_at_key(self) -> str:
        return f"alert.{self.key}.warn_at"

    @property
    def critical_at_key(self) -> str:
        return f"alert.{self.key}.critical_at"

    def as_dict(self) -> dict[str, object]:
        """The definition as the API shows it (contract section 4, plus names and ownership)."""
        return {
            "key": self.key,
            "name": self.name_en,
            "name_zh": self.name_zh,
            "category": self.category,
            "unit": self.unit,
            "direction": self.direction,
            "description": self.description,
            "department": self.department,
            "sample_metric": self.sample_metric or None,
        }


W = "W = the 30 business days ending on the day, both included"
STOCK = (
    "a loan's state on the day is its latest snapshot with as_of on or before the day; it is "
    "active when that snapshot's status is active (closed and charged-off loans are not)"
)

DEFINITIONS: tuple[MetricDefinition, ...] = (
    # --- business ---------------------------------------------------------------------------
    MetricDefinition(
        "lead_conversion_rate",
        "Lead conversion rate",
        "线索转化率",
        "business",
        "%",
        "higher_is_better",
        f"100 × loans with funded_at in W / leads with created_at in W ({W}). "
        "Null when no lead came in.",
        "marketing",
        "funnel",
    ),
    MetricDefinition(
        "approval_rate",
        "Approval rate",
        "审批通过率",
        "business",
        "%",
        "higher_is_better",
        f"100 × approved / (approved + rejected), applications with decided_at in W ({W}); "
        "pending applications are left out. Null when nothing was decided.",
        "risk",
        "funnel",
    ),
    MetricDefinition(
        "customer_acquisition_cost",
        "Customer acquisition cost",
        "获客成本",
        "business",
        "CNY",
        "lower_is_better",
        f"Σ marketing_spend.amount with date in W / loans with funded_at in W ({W}). "
        "Null when no loan was funded.",
        "marketing",
        "funnel",
    ),
    MetricDefinition(
        "overdue_rate",
        "Overdue rate",
        "逾期率",
        "business",
        "%",
        "lower_is_better",
        "100 × Σ outstanding principal of active loans with dpd ≥ 1 / Σ outstanding principal "
        f"of active loans, on the day ({STOCK}). Null when no principal is outstanding.",
        "risk",
        "portfolio",
    ),
    MetricDefinition(
        "npl_ratio",
        "NPL ratio",
        "不良贷款率",
        "business",
        "%",
        "lower_is_better",
        "100 × Σ outstanding principal of active loans with dpd > 90 / Σ outstanding principal "
        f"of active loans, on the day ({STOCK}). Null when no principal is outstanding.",
        "risk",
        "portfolio",
    ),
    MetricDefinition(
        "valuation_accuracy",
        "Valuation accuracy",
        "估值准确率",
        "business",
        "%",
        "higher_is_better",
        "100 × share of the valuations completed in W that have both a model and a reference "
        "value with |model − reference| ≤ 10 % of reference (written |model − reference| ≤ "
        f"0.1 × reference, so a zero reference is accurate only for a zero model value) ({W}). "
        "Null when no such valuation was completed.",
        "risk",
        "valuation",
    ),
    MetricDefinition(
        "valuation_cycle_time",
        "Valuation cycle time",
        "估值周期",
        "business",
        "days",
        "lower_is_better",
        "Median (p50, linear interpolation) of completed_at − requested_at in days (fractions "
        f"included), valuations with completed_at in W ({W}). Null when none was completed.",
        "risk",
        "valuation",
    ),
    MetricDefinition(
        "compliance_complaint_rate",
        "Compliance complaint rate",
        "合规投诉率",
        "business",
        "per 10k loans",
        "lower_is_better",
        f"10,000 × complaints with received_at in W ({W}) / active loans on the day ({STOCK}). "
        "Null when no loan is active.",
        "risk",
        "portfolio",
    ),
    # --- technical ------------------------------------------------------------------------
    MetricDefinition(
        "api_response_time_p95",
        "API response time p95",
        "API 响应时间 p95",
        "technical",
        "ms",
        "lower_is_better",
        "p95 (linear interpolation) of the api_response_time samples whose ts falls on the day. "
        "The application records its own API latency here (source 'self', no region).",
        "tech",
        "technical",
        "api_response_time",
    ),
    MetricDefinition(
        "availability",
        "Availability",
        "系统可用性",
        "technical",
        "%",
        "higher_is_better",
        "100 × mean of the availability samples (1 up, 0 down) whose ts falls on the day.",
        "tech",
        "technical",
        "availability",
    ),
    MetricDefinition(
        "credit_query_latency_p95",
        "Credit query latency p95",
        "征信查询延迟 p95",
        "technical",
        "s",
        "lower_is_better",
        "p95 (linear interpolation) of the credit_query_latency samples whose ts falls on the day.",
        "tech",
        "technical",
        "credit_query_latency",
    ),
    MetricDefinition(
        "data_sync_lag_p95",
        "Data sync lag p95",
        "数据同步延迟 p95",
        "technical",
        "s",
        "lower_is_better",
        "p95 (linear interpolation) of the data_sync_lag samples whose ts falls on the day.",
        "tech",
        "technical",
        "data_sync_lag",
    ),
    MetricDefinition(
        "data_consistency_rate",
        "Data consistency rate",
        "数据一致率",
        "technical",
        "%",
        "higher_is_better",
        "100 × mean of the data_consistency samples (1 consistent, 0 not) whose ts falls on "
        "the day.",
        "tech",
        "technical",
        "data_consistency",
    ),
    MetricDefinition(
        "incident_response_time",
        "Incident response time",
        "故障响应时间",
        "technical",
        "h",
        "lower_is_better",
        "Median (p50, linear interpolation) of the incident_response_time samples whose ts falls "
        "on the day (the kanban records one when an incident card first leaves its first column).",
        "tech",
        "technical",
        "incident_response_time",
    ),
)

METRICS: dict[str, MetricDefinition] = {d.key: d for d in DEFINITIONS}
METRIC_KEYS: tuple[str, ...] = tuple(METRICS)
BUSINESS_KEYS: tuple[str, ...] = tuple(d.key for d in DEFINITIONS if d.category == "business")
TECHNICAL_KEYS: tuple[str, ...] = tuple(d.key for d in DEFINITIONS if d.category == "technical")
SAMPLE_SERIES: dict[str, str] = {d.sample_metric: d.key for d in DEFINITIONS if d.sample_metric}


def metric(key: str) -> MetricDefinition:
    """The definition of `key`; KeyError when it is not one of the fourteen."""
    return METRICS[key]


def keys_of_families(families: tuple[Family, ...] | list[Family]) -> list[str]:
    """The metric keys computed by the given formula families, in registry order."""
    wanted = set(families)
    return [d.key for d in DEFINITIONS if d.family in wanted]


def metric_of_alert_parameter(parameter: str) -> str | None:
    """`overdue_rate` for `alert.overdue_rate.warn_pct` (or `.critical_pct`, `.mode`,
    `.warn_at`, `.critical_at`): a parameter a metric's status depends on; None otherwise."""
    parts = parameter.split(".")
    if (
        len(parts) == 3
        and parts[0] == "alert"
        and parts[1] in METRICS
        and parts[2] in ("warn_pct", "critical_pct", "mode", "warn_at", "critical_at")
    ):
        return parts[1]
    return None


# --- metrics computed elsewhere over a period (the kanban's collaboration metrics) ---------------

PeriodMetric = Callable[[date, date], "float | None"]
PERIOD_METRICS: dict[str, PeriodMetric] = {}


def register_period_metric(key: str, compute: PeriodMetric) -> None:
    """Let another app (the kanban) provide a KPI metric computed over a period [start, end].

    `compute(start, end)` returns the value for the whole business (region `all`), or None when
    there is nothing to measure. Registered once, at app start (an AppConfig's `ready`).
    """
    if key in METRICS:
        raise ValueError(f"{key} is one of the fourteen daily metrics")
    PERIOD_METRICS[key] = compute
