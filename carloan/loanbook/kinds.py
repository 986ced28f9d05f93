"""What each importable kind looks like (contract section 2): its table, its columns, its key.

A column's `type` is one of: text, timestamp, date, decimal, integer, float, choice.
`key` lists the columns a row is upserted by (for a `counted` kind, every column and the
`occurrence` the import numbers). `day_column` is the column whose business day says
which metric days a row touches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from carloan.departments import DEPARTMENTS
from carloan.screening.identifiers import BLACKLIST_TYPES


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    min_value: Decimal | int | float | None = None
    max_value: Decimal | int | float | None = None
    max_length: int = 64
    is_region: bool = False
    # For type "identifier": which kind of person's identifier (carloan.screening.identifiers):
    # stored only as its keyed hash and last four characters.
    identifier: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    day_column: str
    description: str = ""
    extra_days_columns: tuple[str, ...] = field(default=())
    # Rows are measurements: identical rows in one file are distinct (each one counts), told
    # apart by an `occurrence` column the import numbers (0, 1, ...); `key` names every column
    # and `occurrence`, so a file imported again stores nothing twice.
    counted: bool = False
    # Columns the import computes from the rows it inserts (name, SQL over the staged rows).
    computed: tuple[tuple[str, str], ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ZERO = Decimal(0)
MAX_TRANSCRIPT = 20_000  # as a text POSTed to the check
SAMPLE_METRICS = (
    "api_response_time",
    "availability",
    "credit_query_latency",
    "data_sync_lag",
    "data_consistency",
    "incident_response_time",
)


def _id(name: str) -> Column:
    return Column(name, "text", required=True)


def _region() -> Column:
    return Column("region", "text", required=True, max_length=32, is_region=True)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "leads",
            "loanbook_lead",
            (
                _id("lead_id"),
                Column("created_at", "timestamp", required=True),
                _region(),
                Column("branch", "text"),
                Column("channel", "text", required=True),
            ),
            key=("lead_id",),
            day_column="created_at",
            description="Prospective borrowers from marketing channels",
        ),
        Kind(
            "applications",
            "loanbook_application",
            (
                _id("application_id"),
                Column("lead_id", "text"),
                _region(),
                Column("applied_at", "timestamp", required=True),
                Column(
                    "decision", "choice", required=True, choices=("approved", "rejected", "pending")
                ),
                Column("decided_at", "timestamp"),
                Column("credit_score", "integer", min_value=0, max_value=1000),
                Column("applicant_key", "identifier", identifier="applicant"),
                Column("phone", "identifier", identifier="phone"),
                Column("vin", "identifier", identifier="vin"),
                Column("dealer_id", "identifier", identifier="dealer"),
                Column("device_id", "identifier", identifier="device"),
                Column("monthly_income", "decimal", min_value=ZERO, max_value=Decimal(10**9)),
                Column("amount_requested", "decimal", min_value=ZERO, max_value=Decimal(10**9)),
                Column("vehicle_value", "decimal", min_value=ZERO, max_value=Decimal(10**9)),
            ),
            key=("application_id",),
            day_column="decided_at",
            extra_days_columns=("applied_at",),
            description="Credit applications and their decisions",
        ),
        Kind(
            "loans",
            "loanbook_loan",
            (
                _id("loan_id"),
                Column("application_id", "text"),
                _region(),
                Column("funded_at", "timestamp", required=True),
                Column("principal", "decimal", required=True, min_value=ZERO),
                Column("term_months", "integer", required=True, min_value=1, max_value=600),
                Column("annual_rate", "decimal", min_value=ZERO, max_value=Decimal(1000)),
                Column("vehicle_id", "text"),
                Column("appraised_value", "decimal", min_value=ZERO),
            ),
            key=("loan_id",),
            day_column="funded_at",
            description="Funded loans",
        ),
        Kind(
            "loan_snapshots",
            "loanbook_snapshot",
            (
                Column("loan_id", "text", required=True),
                Column("as_of", "date", required=True),
                Column("outstanding_principal", "decimal", required=True, min_value=ZERO),
                Column("dpd", "integer", required=True, min_value=0, max_value=100000),
                Column(
                    "status", "choice", required=True, choices=("active", "closed", "charged_off")
                ),
            ),
            key=("loan_id", "as_of"),
            day_column="as_of",
            # The next snapshot among the file's (a trigger corrects it against stored ones).
            computed=(("superseded_on", "lead(as_of) OVER (PARTITION BY loan_id ORDER BY as_of)"),),
            description="A loan's outstanding principal, days past due and status as of a day",
        ),
        Kind(
            "marketing_spend",
            "loanbook_marketing_spend",
            (
                Column("date", "date", required=True),
                _region(),
                Column("channel", "text", required=True),
                Column("amount", "decimal", required=True, min_value=ZERO),
            ),
            key=("date", "region", "channel"),
            day_column="date",
            description="Marketing spend per day, region and channel",
        ),
        Kind(
            "valuations",
            "loanbook_valuation",
            (
                _id("valuation_id"),
                _region(),
                Column("requested_at", "timestamp", required=True),
                Column("completed_at", "timestamp"),
                Column("model_value", "decimal", min_value=ZERO),
                Column("reference_value", "decimal", min_value=ZERO),
                Column("vehicle_id", "text"),
            ),
            key=("valuation_id",),
            day_column="completed_at",
            description="Collateral valuations: model value against reference value",
        ),
        Kind(
            "complaints",
            "loanbook_complaint",
            (
                _id("complaint_id"),
                Column("received_at", "timestamp", required=True),
                _region(),
                Column("category", "text"),
            ),
            key=("complaint_id",),
            day_column="received_at",
            description="Compliance complaints",
        ),
        Kind(
            "samples",
            "loanbook_sample",
            (
                Column("metric", "choice", required=True, choices=SAMPLE_METRICS),
                Column("ts", "timestamp", required=True),
                Column("value", "float", required=True),
                Column("region", "text", max_length=32, is_region=True),
                Column("source", "text"),
            ),
            key=("metric", "ts", "region", "source", "value", "occurrence"),
            day_column="ts",
            counted=True,
            description="Technical measurements (latency, availability, sync lag, ...)",
        ),
        Kind(
            "vehicle_sales",
            "loanbook_vehicle_sale",
            (
                _id("sale_id"),
                Column("sold_at", "timestamp", required=True),
                _region(),
                Column("make", "text", required=True),
                Column("model", "text", required=True),
                Column("year", "integer", required=True, min_value=1950, max_value=2100),
                Column("new_price", "decimal", required=True, min_value=ZERO),
                Column("mileage_km", "integer", required=True, min_value=0, max_value=5_000_000),
                Column(
                    "condition_grade", "choice", required=True, choices=("A", "B", "C", "D", "E")
                ),
                Column("accidents", "integer", required=True, min_value=0, max_value=100),
                Column("repairs", "integer", required=True, min_value=0, max_value=100),
                Column("violations", "integer", required=True, min_value=0, max_value=1000),
                Column("owners", "integer", required=True, min_value=0, max_value=100),
                Column(
                    "fuel_type",
                    "choice",
                    required=True,
                    choices=("petrol", "diesel", "hybrid", "ev"),
                ),
                Column("price", "decimal", required=True, min_value=ZERO),
            ),
            key=("sale_id",),
            day_column="sold_at",
            description="Used-vehicle sales the valuation model learns from",
        ),
        Kind(
            "blacklist",
            "screening_blacklist_entry",
            (
                _id("entry_id"),
                Column("type", "choice", required=True, choices=BLACKLIST_TYPES),
                Column("value", "identifier", required=True, identifier="by_type"),
                Column("reason", "text", required=True, max_length=500),
                Column("added_at", "timestamp", required=True),
                Column("expires_at", "timestamp"),
                Column("department", "choice", choices=DEPARTMENTS),
            ),
            key=("entry_id",),
            day_column="added_at",
            description="The shared blacklist: applicants, phones, VINs, dealers and devices",
        ),
        Kind(
            "calls",
            "loanbook_call",
            (
                _id("call_id"),
                Column("started_at", "timestamp", required=True),
                _region(),
                Column("agent", "text", required=True),
                Column("transcript", "text", required=True, max_length=MAX_TRANSCRIPT),
                Column("lead_id", "text"),
                Column("script_id", "text"),
                Column("direction", "choice", choices=("outbound", "inbound")),
            ),
            key=("call_id",),
            day_column="started_at",
            description="Sales call transcripts, each checked against the phrase library",
        ),
    )
}
