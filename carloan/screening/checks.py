"""The six cross-checks of contract section 10, made by set-based SQL: one statement computes
and upserts the checks of a set of applications (every application, or those a change affects),
whatever the order in which applications and blacklist entries arrived.

- `blacklist`: any identifier of the application (applicant, phone, VIN, device, dealer) is on
  the blacklist, in an entry without `expires_at` or one expiring after `applied_at`;
- `shared_phone` / `shared_device`: its phone (device) is on applications of at least
  max + 1 distinct applicants (its own included) applied within `window_days` of its own,
  before or after; an application without an applicant key counts as a person of its own;
- `vin_reuse`: its VIN is on an application of another applicant within the window;
- `ltv`: 100 × amount_requested / vehicle_value > `risk.max_ltv_pct`;
- `debt_to_income`: 100 × (amount_requested / 36) / monthly_income > `risk.xcheck.max_dti_pct`.

A check is `not_applicable` when a field it needs is empty. An application with a failed check
is flagged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, transaction

PARAMETERS = (
    "risk.xcheck.window_days",
    "risk.xcheck.max_applicants_per_phone",
    "risk.xcheck.max_applicants_per_device",
    "risk.xcheck.max_dti_pct",
    "risk.max_ltv_pct",
)

# Speed (measured by bench/screening_bench.py, figures in bench/README.md): every join on an
# identifier also says `<> ''` (implied anyway: a check is not_applicable, and a neighbour or a
# holder is not looked for, when the identifier is empty; blacklist values are never empty), so
# that PostgreSQL may use the partial indexes on (phone | device_id | vin, applied_at), which
# hold only non-empty values; without it each shared count scanned the whole window of the book
# by `applied_at`. `checked` is MATERIALIZED so that each check is computed once: inlined, its
# subqueries ran again for `failed` and again for `flagged`.

# The person an application belongs to: its applicant key, or itself when it has none.
_PERSON = "coalesce(nullif({t}.applicant_key, ''), 'application:' || {t}.application_id)"

_SHARED = """
    CASE WHEN a.{column} = '' THEN 'not_applicable'
         WHEN (SELECT count(DISTINCT {person_b}) FROM loanbook_application b
               WHERE b.{column} = a.{column} AND b.{column} <> ''
                 AND b.applied_at BETWEEN a.applied_at - make_interval(days => %(window)s)
                                      AND a.applied_at + make_interval(days => %(window)s)
              ) > %({limit})s THEN 'fail'
         ELSE 'pass' END
"""

_SQL = """
WITH target AS ({target}),
checked AS MATERIALIZED (
    SELECT a.application_id,
        CASE WHEN a.applicant_key = '' AND a.phone = '' AND a.vin = '' AND a.device_id = ''
                  AND a.dealer_id = '' THEN 'not_applicable'
             WHEN EXISTS (
                SELECT 1 FROM screening_blacklist_entry e
                WHERE (e.expires_at IS NULL OR e.expires_at > a.applied_at)
                  AND ((e.type = 'applicant' AND e.value = a.applicant_key)
                    OR (e.type = 'phone' AND e.value = a.phone)
                    OR (e.type = 'vin' AND e.value = a.vin)
                    OR (e.type = 'device' AND e.value = a.device_id)
                    OR (e.type = 'dealer' AND e.value = a.dealer_id))
             ) THEN 'fail' ELSE 'pass' END AS blacklist,
        {shared_phone} AS shared_phone,
        CASE WHEN a.vin = '' THEN 'not_applicable'
             WHEN EXISTS (
                SELECT 1 FROM loanbook_application b
                WHERE b.vin = a.vin AND b.vin <> '' AND {person_b} <> {person_a}
                  AND b.applied_at BETWEEN a.applied_at - make_interval(days => %(window)s)
                                       AND a.applied_at + make_interval(days => %(window)s)
             ) THEN 'fail' ELSE 'pass' END AS vin_reuse,
        CASE WHEN a.amount_requested IS NULL OR a.vehicle_value IS NULL OR a.vehicle_value <= 0
                  THEN 'not_applicable'
             WHEN 100 * a.amount_requested / a.vehicle_value > %(max_ltv)s THEN 'fail'
             ELSE 'pass' END AS ltv,
        CASE WHEN a.amount_requested IS NULL OR a.monthly_income IS NULL OR a.monthly_income <= 0
                  THEN 'not_applicable'
             WHEN 100 * (a.amount_requested / 36) / a.monthly_income > %(max_dti)s THEN 'fail'
             ELSE 'pass' END AS debt_to_income,
        {shared_device} AS shared_device
    FROM loanbook_application a JOIN target USING (application_id)
),
counted AS (
    SELECT *,
        (blacklist = 'fail')::int + (shared_phone = 'fail')::int + (vin_reuse = 'fail')::int
        + (ltv = 'fail')::int + (debt_to_income = 'fail')::int
        + (shared_device = 'fail')::int AS failed
    FROM checked
),
upserted AS (
    INSERT INTO screening_application_check AS c (
        application_id, blacklist, shared_phone, vin_reuse, ltv, debt_to_income, shared_device,
        failed, flagged, checked_at)
    SELECT application_id, blacklist, shared_phone, vin_reuse, ltv, debt_to_income,
           shared_device, failed, failed > 0, now()
    FROM counted
    ON CONFLICT (application_id) DO UPDATE SET
        blacklist = EXCLUDED.blacklist, shared_phone = EXCLUDED.shared_phone,
        vin_reuse = EXCLUDED.vin_reuse, ltv = EXCLUDED.ltv,
        debt_to_income = EXCLUDED.debt_to_income, shared_device = EXCLUDED.shared_device,
        failed = EXCLUDED.failed, flagged = EXCLUDED.flagged, checked_at = EXCLUDED.checked_at,
        -- a flag risk control cleared opens again only when more checks fail than then
        status = CASE WHEN EXCLUDED.failed > c.failed THEN 'open' ELSE c.status END
    WHERE (c.blacklist, c.shared_phone, c.vin_reuse, c.ltv, c.debt_to_income, c.shared_device)
          IS DISTINCT FROM
          (EXCLUDED.blacklist, EXCLUDED.shared_phone, EXCLUDED.vin_reuse, EXCLUDED.ltv,
           EXCLUDED.debt_to_income, EXCLUDED.shared_device)
    RETURNING c.application_id, c.flagged, c.failed, c.blacklist
)
SELECT application_id, flagged, failed, blacklist FROM upserted
"""


def _statement(target: str) -> str:
    person_a = _PERSON.format(t="a")
    person_b = _PERSON.format(t="b")
    return _SQL.format(
        target=target,
        person_a=person_a,
        person_b=person_b,
        shared_phone=_SHARED.format(column="phone", person_b=person_b, limit="max_phone"),
        shared_device=_SHARED.format(column="device_id", person_b=person_b, limit="max_device"),
    )


ALL = "SELECT application_id FROM loanbook_application"
LISTED = "SELECT unnest(%(ids)s::text[]) AS application_id"
# The applications that share a phone, device or VIN with the listed ones (their counts move
# when one of them arrives or changes), and the listed ones themselves. One lateral lookup per
# identifier: as one join with ORs, PostgreSQL guessed ~3,400 neighbours per application (it
# cannot tell that '' is not matched) and scanned the whole book for 200 of them.
NEIGHBOURS = """
    SELECT unnest(%(ids)s::text[]) AS application_id
    UNION
    SELECT n.application_id FROM loanbook_application a, LATERAL (
        SELECT b.application_id FROM loanbook_application b
        WHERE a.phone <> '' AND b.phone <> '' AND b.phone = a.phone
        UNION ALL
        SELECT b.application_id FROM loanbook_application b
        WHERE a.device_id <> '' AND b.device_id <> '' AND b.device_id = a.device_id
        UNION ALL
        SELECT b.application_id FROM loanbook_application b
        WHERE a.vin <> '' AND b.vin <> '' AND b.vin = a.vin
    ) n
    WHERE a.application_id = ANY(%(ids)s)
"""
# The applications holding an identifier of the listed (type, value) pairs: one join per type,
# so that each can use its index (or one hash join), and a UNION, so that an application holding
# two listed identifiers (a ring's phone and device) is checked once; selected twice, the upsert
# stopped with "ON CONFLICT DO UPDATE command cannot affect row a second time".
HOLDERS = "\n    UNION".join(
    f"""
    SELECT a.application_id FROM loanbook_application a
    JOIN unnest(%(types)s::text[], %(values)s::text[]) AS l(type, value)
      ON l.type = '{kind}' AND a.{column} <> '' AND a.{column} = l.value"""
    for kind, column in (
        ("applicant", "applicant_key"),
        ("phone", "phone"),
        ("vin", "vin"),
        ("device", "device_id"),
        ("dealer", "dealer_id"),
    )
)


def run(
    target: str, parameters: Mapping[str, Any], **bind: Any
) -> list[tuple[str, bool, int, str]]:
    """Make the checks of the applications `target` selects; answer (id, flagged, failed,
    blacklist) for each application whose checks changed."""
    values = {
        "window": int(parameters["risk.xcheck.window_days"]),
        "max_phone": int(parameters["risk.xcheck.max_applicants_per_phone"]),
        "max_device": int(parameters["risk.xcheck.max_applicants_per_device"]),
        "max_dti": float(parameters["risk.xcheck.max_dti_pct"]),
        "max_ltv": float(parameters["risk.max_ltv_pct"]),
        **bind,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT off (for this transaction): with a million applications the planner's costs pass
        # jit_above_cost even for one application's re-check, and compiling took ~40 ms of a
        # 2 ms statement; the whole book runs no slower without it (bench/screening_bench.py).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_statement(target), values)
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


def for_applications(
    ids: Sequence[str], parameters: Mapping[str, Any]
) -> list[tuple[str, bool, int, str]]:
    """New or changed applications, and those whose shared counts they move."""
    return run(NEIGHBOURS, parameters, ids=list(ids))


def for_identifiers(
    pairs: Sequence[tuple[str, str]], parameters: Mapping[str, Any]
) -> list[tuple[str, bool, int, str]]:
    """The applications holding the listed identifiers (a blacklist change)."""
    return run(HOLDERS, parameters, types=[t for t, _ in pairs], values=[v for _, v in pairs])


def for_all(parameters: Mapping[str, Any]) -> list[tuple[str, bool, int, str]]:
    """Every application (a threshold change)."""
    return run(ALL, parameters)
