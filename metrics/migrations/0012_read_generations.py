"""Generations of the metric values and of the alerts: a sequence each, advanced by the
statements that write the table (statement-level triggers) and again once a refresh, an
acknowledgement or an escalation commits (`metrics.selectors.advance_read_generations`). The
dashboard's panels and open alerts are cached under them (`metrics.selectors`), so the pages and
APIs that every open browser reads stop recomputing what has not changed.

Every refresh runs its alert statements whether or not they change a row; the alerts' triggers
read their transition tables and advance the sequence only when rows were written, so the cached
alert lists outlive the refreshes that change nothing. The values' trigger does not: a refresh
rewrites only changed values, and a transition table would copy every row a full recompute
writes."""

from django.db import migrations

FORWARD = [
    "CREATE SEQUENCE IF NOT EXISTS metrics_values_generation",
    "CREATE SEQUENCE IF NOT EXISTS metrics_alerts_generation",
    # metrics_loanbook_changed(sequence) of migration 0011: nextval of its argument.
    "CREATE TRIGGER metrics_values_generation AFTER INSERT OR UPDATE OR DELETE "
    "ON metrics_metricvalue FOR EACH STATEMENT "
    "EXECUTE FUNCTION metrics_loanbook_changed('metrics_values_generation')",
    """
    CREATE OR REPLACE FUNCTION metrics_rows_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM old_rows) THEN PERFORM nextval(TG_ARGV[0]); END IF;
        ELSIF EXISTS (SELECT 1 FROM new_rows) THEN
            PERFORM nextval(TG_ARGV[0]);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    # Transition tables take one event per trigger.
    "CREATE TRIGGER metrics_alerts_generation_insert AFTER INSERT ON metrics_alert "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION metrics_rows_changed('metrics_alerts_generation')",
    "CREATE TRIGGER metrics_alerts_generation_update AFTER UPDATE ON metrics_alert "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION metrics_rows_changed('metrics_alerts_generation')",
    "CREATE TRIGGER metrics_alerts_generation_delete AFTER DELETE ON metrics_alert "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION metrics_rows_changed('metrics_alerts_generation')",
    *(
        f"CREATE TRIGGER {sequence}_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION metrics_loanbook_changed('{sequence}')"
        for sequence, table in (
            ("metrics_values_generation", "metrics_metricvalue"),
            ("metrics_alerts_generation", "metrics_alert"),
        )
    ),
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS metrics_values_generation ON metrics_metricvalue",
    "DROP TRIGGER IF EXISTS metrics_values_generation_truncate ON metrics_metricvalue",
    "DROP TRIGGER IF EXISTS metrics_alerts_generation_insert ON metrics_alert",
    "DROP TRIGGER IF EXISTS metrics_alerts_generation_update ON metrics_alert",
    "DROP TRIGGER IF EXISTS metrics_alerts_generation_delete ON metrics_alert",
    "DROP TRIGGER IF EXISTS metrics_alerts_generation_truncate ON metrics_alert",
    "DROP FUNCTION IF EXISTS metrics_rows_changed()",
    "DROP SEQUENCE IF EXISTS metrics_values_generation",
    "DROP SEQUENCE IF EXISTS metrics_alerts_generation",
]


class Migration(migrations.Migration):
    dependencies = [("metrics", "0011_loanbook_generation")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
