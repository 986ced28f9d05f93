"""`superseded_on` kept right under concurrent writers and nested writes (after 0018).

- Two transactions adding snapshots to one loan could each relink the loan's chain without the
  other's row, leaving two "latest" snapshots: the relink now first takes a transaction-level
  advisory lock on the loans' buckets (64, in order: no deadlock), so the second waits for the
  first to commit and then sees its rows (each statement of a volatile function takes a new
  snapshot under READ COMMITTED).
- The recursion guard (`pg_trigger_depth() > 1`) would have skipped a write made from another
  trigger: the update trigger now relinks only the loans whose snapshots changed loan or day,
  which its own relinking never does (and an import's value-only upserts no longer relink).
"""

from django.db import migrations

LOCK_SPACE = 1818  # the advisory locks' first key: loan snapshot chains

RELINK = f"""
CREATE OR REPLACE FUNCTION loanbook_snapshot_relink(loans varchar[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(loans), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock({LOCK_SPACE}, b.bucket)
    FROM (SELECT DISTINCT abs(hashtext(l)) % 64 AS bucket FROM unnest(loans) AS l
          ORDER BY 1) AS b;
    UPDATE loanbook_snapshot AS s SET superseded_on = n.next_as_of
    FROM (
        SELECT id, lead(as_of) OVER (PARTITION BY loan_id ORDER BY as_of) AS next_as_of
        FROM loanbook_snapshot WHERE loan_id IN (SELECT unnest(loans))
    ) AS n
    WHERE s.id = n.id AND s.superseded_on IS DISTINCT FROM n.next_as_of;
END
$$
"""

MOVED = """
    SELECT n.loan_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
    WHERE (n.loan_id, n.as_of) IS DISTINCT FROM (o.loan_id, o.as_of)
    UNION
    SELECT o.loan_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
    WHERE (n.loan_id, n.as_of) IS DISTINCT FROM (o.loan_id, o.as_of)
"""

LOANS = {
    "insert": "SELECT DISTINCT loan_id FROM new_rows",
    "update": MOVED,
    "delete": "SELECT DISTINCT loan_id FROM old_rows",
}

FORWARD = [
    RELINK,
    *(
        f"""
        CREATE OR REPLACE FUNCTION loanbook_snapshot_supersede_{event}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM loanbook_snapshot_relink(ARRAY({loans}));
            RETURN NULL;
        END
        $$
        """
        for event, loans in LOANS.items()
    ),
]


def _previous() -> list[str]:
    from importlib import import_module

    before = import_module("carloan.migrations.0018_snapshot_superseded_on")
    functions = [sql for sql in before.FORWARD if "CREATE OR REPLACE FUNCTION" in sql]
    return [*functions, "DROP FUNCTION IF EXISTS loanbook_snapshot_relink(varchar[])"]


class Migration(migrations.Migration):
    dependencies = [("carloan", "0018_snapshot_superseded_on")]

    operations = [migrations.RunSQL(FORWARD, _previous())]
