"""Each loan snapshot knows when it stops holding: `superseded_on`, the as_of of the loan's next
snapshot (null for the latest). The stock metrics of a day then read the snapshots current on it
(an index on superseded_on) instead of ordering every loan's whole history.

The database keeps the column right whoever writes (the import, the admin, a script): statement
triggers with transition tables recompute it for the loans a statement touched, writing only the
rows whose value changes (the import already fills it for the rows it inserts). Existing rows are
filled here."""

from django.db import migrations, models

RECOMPUTE = """
    UPDATE loanbook_snapshot AS s SET superseded_on = n.next_as_of
    FROM (
        SELECT id, lead(as_of) OVER (PARTITION BY loan_id ORDER BY as_of) AS next_as_of
        FROM loanbook_snapshot WHERE loan_id IN ({loans})
    ) AS n
    WHERE s.id = n.id AND s.superseded_on IS DISTINCT FROM n.next_as_of
"""

FUNCTIONS = {
    "insert": "SELECT loan_id FROM new_rows",
    "update": "SELECT loan_id FROM new_rows UNION SELECT loan_id FROM old_rows",
    "delete": "SELECT loan_id FROM old_rows",
}
REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "update": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
    "delete": "OLD TABLE AS old_rows",
}

FORWARD = [
    # Existing rows first, before the triggers exist.
    RECOMPUTE.format(loans="SELECT loan_id FROM loanbook_snapshot"),
    *(
        f"""
        CREATE OR REPLACE FUNCTION loanbook_snapshot_supersede_{event}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- Its own UPDATE fires the update trigger again: nothing more to do there.
            IF pg_trigger_depth() > 1 THEN
                RETURN NULL;
            END IF;
            {RECOMPUTE.format(loans=loans)};
            RETURN NULL;
        END
        $$
        """
        for event, loans in FUNCTIONS.items()
    ),
    *(
        f"""
        CREATE TRIGGER loanbook_snapshot_supersede_{event} AFTER {event.upper()}
        ON loanbook_snapshot REFERENCING {REFERENCING[event]}
        FOR EACH STATEMENT EXECUTE FUNCTION loanbook_snapshot_supersede_{event}()
        """
        for event in FUNCTIONS
    ),
]

BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS loanbook_snapshot_supersede_{e} ON loanbook_snapshot"
        for e in FUNCTIONS
    ),
    *(f"DROP FUNCTION IF EXISTS loanbook_snapshot_supersede_{e}()" for e in FUNCTIONS),
]


class Migration(migrations.Migration):
    dependencies = [("carloan", "0017_saved_views")]

    operations = [
        migrations.AddField(
            model_name="loansnapshot",
            name="superseded_on",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="loansnapshot",
            index=models.Index(fields=["superseded_on"], name="snapshot_superseded_idx"),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
