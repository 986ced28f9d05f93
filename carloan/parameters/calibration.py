"""Auto-calibration of the credit-score cutoff (`risk.min_credit_score`).

It looks at recent loans (funded within `risk.calibration.lookback_days` before the latest
snapshot day, leaving out the last 60 days: too young to be 30 days past due), each with its
application's credit score, and calls a loan bad when any snapshot up to that day shows 30 or
more days past due, or a charge-off. From the cut-off table (score bands of 50 points: loans,
bad loans, bad rate, and the same for every loan at or above the band) computed in SQL:

1. no proposal while a calibration request for the cutoff is pending;
2. no proposal when fewer than `risk.calibration.min_sample` loans score at or above the
   current cutoff (too little evidence);
3. no proposal when their 30+ DPD rate already meets `risk.calibration.target_bad_rate_pct`
   (the calibration only tightens: below the cutoff there are only override loans, too few to
   show what loosening would cost);
4. else the lowest band edge above the cutoff whose loans at or above number at least the
   minimum sample and meet the target is suggested (none: no proposal), and the proposal moves
   towards it by at most `risk.calibration.max_step` points;
5. the proposal is filed as a change request (source "calibration", with the table as
   evidence) for a manager to approve. It is never applied here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from carloan.parameters.models import ChangeRequest
from carloan.parameters.registry import REGISTRY
from carloan.parameters.selectors import parameter_values
from carloan.parameters.services import change_request_file, require_manager

KEY = "risk.min_credit_score"
BAND_POINTS = 50
SEASONING_DAYS = 60
BAD_DPD = 30

_BOOK = f"""
WITH snapshot_day AS (SELECT max(as_of) AS day FROM loanbook_snapshot),
book AS (
    SELECT l.loan_id, a.credit_score AS score,
           bool_or(s.dpd >= {BAD_DPD} OR s.status = 'charged_off') AS bad
    FROM loanbook_loan l
    JOIN loanbook_application a ON a.application_id = l.application_id
    JOIN loanbook_snapshot s ON s.loan_id = l.loan_id
    CROSS JOIN snapshot_day
    WHERE a.credit_score IS NOT NULL
      AND (l.funded_at AT TIME ZONE %(tz)s)::date
          BETWEEN snapshot_day.day - %(lookback)s::int AND snapshot_day.day - {SEASONING_DAYS}
      AND s.as_of <= snapshot_day.day
    GROUP BY l.loan_id, a.credit_score
)
"""

_BANDS = (
    _BOOK
    + f""",
bands AS (
    SELECT (score / {BAND_POINTS}) * {BAND_POINTS} AS band,
           count(*) AS loans, count(*) FILTER (WHERE bad) AS bad
    FROM book
    GROUP BY 1
)
SELECT band, loans, bad,
       sum(loans) OVER (ORDER BY band DESC) AS loans_at_or_above,
       sum(bad) OVER (ORDER BY band DESC) AS bad_at_or_above
FROM bands
ORDER BY band
"""
)

_AT_CUTOFF = (
    _BOOK
    + """
SELECT (SELECT day FROM snapshot_day),
       count(*) FILTER (WHERE score >= %(cutoff)s),
       count(*) FILTER (WHERE score >= %(cutoff)s AND bad),
       count(*)
FROM book
"""
)


@dataclass
class CalibrationResult:
    """One calibration run: whether it proposed a cutoff, why (not), and the evidence."""

    proposed: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    request: ChangeRequest | None = None


def _pct(bad: int, loans: int) -> float | None:
    return float(100 * bad / loans) if loans else None


def cutoff_table(*, lookback_days: int) -> list[dict[str, Any]]:
    """The cut-off table of recent loans by score band (see the module), lowest band first."""
    with connection.cursor() as cursor:
        cursor.execute(_BANDS, {"tz": settings.TIME_ZONE, "lookback": lookback_days})
        rows = cursor.fetchall()
    return [
        {
            "band_start": int(band),
            "band_end": int(band) + BAND_POINTS - 1,
            "loans": int(loans),
            "bad": int(bad),
            "bad_rate_pct": _pct(bad, loans),
            "loans_at_or_above": int(above),
            "bad_at_or_above": int(bad_above),
            "bad_rate_at_or_above_pct": _pct(bad_above, above),
        }
        for band, loans, bad, above, bad_above in rows
    ]


# pg_advisory_xact_lock key: one calibration at a time across every process.
CALIBRATE_LOCK = 72_310_602


def credit_score_calibrate(*, user: Any = None, scheduled: bool = False) -> CalibrationResult:
    """Run the calibration once (see the module). `user` (a manager) when run by hand; the daily
    beat task runs it as the system with `scheduled=True`, which `risk.calibration.mode` "off"
    turns into a no-op.

    Two runs at once (the beat task and a manager's button, or a task delivered twice) must not
    both file a proposal: the pending check and the filing happen under one advisory lock."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CALIBRATE_LOCK])
        return _credit_score_calibrate(user=user, scheduled=scheduled)


def _credit_score_calibrate(*, user: Any, scheduled: bool) -> CalibrationResult:
    if user is not None:
        require_manager(user, "run the calibration")
    values = parameter_values()
    if scheduled and values["risk.calibration.mode"] == "off":
        return CalibrationResult(False, "Calibration is off (risk.calibration.mode).")
    current = int(values[KEY])
    target = float(values["risk.calibration.target_bad_rate_pct"])
    min_sample = int(values["risk.calibration.min_sample"])
    max_step = int(values["risk.calibration.max_step"])
    lookback = int(values["risk.calibration.lookback_days"])

    with connection.cursor() as cursor:
        cursor.execute(
            _AT_CUTOFF, {"tz": settings.TIME_ZONE, "lookback": lookback, "cutoff": current}
        )
        snapshot_day, loans_at, bad_at, sample = cursor.fetchone()
    table = cutoff_table(lookback_days=lookback)
    evidence: dict[str, Any] = {
        "key": KEY,
        "current_cutoff": current,
        "target_bad_rate_pct": target,
        "min_sample": min_sample,
        "max_step": max_step,
        "bad_definition": f"{BAD_DPD}+ days past due or charged off, on any snapshot",
        "window": {
            "snapshot_day": snapshot_day.isoformat() if snapshot_day else None,
            "funded_from": (snapshot_day - timedelta(days=lookback)).isoformat()
            if snapshot_day
            else None,
            "funded_to": (snapshot_day - timedelta(days=SEASONING_DAYS)).isoformat()
            if snapshot_day
            else None,
        },
        "sample": sample,
        "at_current_cutoff": {
            "loans": loans_at,
            "bad": bad_at,
            "bad_rate_pct": _pct(bad_at, loans_at),
        },
        "bands": table,
        "suggested_cutoff": None,
        "proposed_cutoff": None,
        "capped": False,
    }

    pending = (
        ChangeRequest.objects.filter(
            status=ChangeRequest.Status.PENDING,
            source=ChangeRequest.Source.CALIBRATION,
            changes__has_key=KEY,
        )
        .values_list("id", flat=True)
        .first()
    )
    if pending is not None:
        return CalibrationResult(
            False,
            f"Calibration request #{pending} is still pending: approve or reject it first.",
            evidence,
        )
    if loans_at < min_sample:
        return CalibrationResult(
            False,
            f"Too little evidence: {loans_at} recent loans score at or above the cutoff "
            f"{current}; at least {min_sample} are needed (risk.calibration.min_sample).",
            evidence,
        )
    rate = float(100 * bad_at / loans_at)
    if rate <= target:
        return CalibrationResult(
            False,
            f"The current cutoff {current} already meets the target: {rate:.2f} % of its "
            f"{loans_at} recent loans went {BAD_DPD}+ days past due (target {target:g} %).",
            evidence,
        )
    suggested = next(
        (
            band["band_start"]
            for band in table
            if band["band_start"] > current
            and band["loans_at_or_above"] >= min_sample
            and band["bad_rate_at_or_above_pct"] is not None
            and band["bad_rate_at_or_above_pct"] <= target
        ),
        None,
    )
    if suggested is None:
        return CalibrationResult(
            False,
            f"{rate:.2f} % of the {loans_at} recent loans at or above {current} went "
            f"{BAD_DPD}+ days past due (target {target:g} %), but no higher cutoff with at least "
            f"{min_sample} loans meets the target: no proposal.",
            evidence,
        )
    spec = REGISTRY[KEY]
    proposal = min(suggested, current + max_step, int(spec.max or suggested))
    evidence.update(
        suggested_cutoff=suggested, proposed_cutoff=proposal, capped=proposal < suggested
    )
    reason = (
        f"Calibration: {rate:.2f} % of the {loans_at} recent loans at or above {current} went "
        f"{BAD_DPD}+ days past due (target {target:g} %). From {suggested} the rate meets the "
        f"target; proposed {proposal}"
        + (f" (capped by the maximum step of {max_step} points)." if proposal < suggested else ".")
    )
    outcome = change_request_file(
        changes={KEY: proposal},
        user=None,
        reason=reason,
        source=ChangeRequest.Source.CALIBRATION,
        evidence=evidence,
    )
    return CalibrationResult(True, reason, evidence, outcome.request)
