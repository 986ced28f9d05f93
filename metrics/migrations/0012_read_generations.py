"""Generations of the metric values and of the alerts: a sequence each, advanced by every
statement that writes the table (a statement-level trigger) and again once a refresh, an
acknowledgement or an escalation commits (`metrics.selectors.advance_read_generations`). The
dashboard's panels and open alerts are cached under them (`metrics.selectors`), so the pages and
APIs that every open browser reads stop recomputing what has not changed."""

from django.db import migrations

GENERATIONS = {
    "metrics_values_generation": "metrics_metricvalue",
    "metrics_alerts_generation": "metrics_alert",
}

FORWARD = [
    *(f"CREATE SEQUENCE IF NOT EXISTS {sequence}" for sequence in GENERATIONS),
    # metrics_loanbook_changed(sequence) of migration 0011: nextval of its argument.
    *(
        f"CREATE TRIGGER {sequence} AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION metrics_loanbook_changed('{sequence}')"
        for sequence, table in GENERATIONS.items()
    ),
    *(
        f"CREATE TRIGGER {sequence}_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION metrics_loanbook_changed('{sequence}')"
        for sequence, table in GENERATIONS.items()
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {s} ON {t}" for s, t in GENERATIONS.items()),
    *(f"DROP TRIGGER IF EXISTS {s}_truncate ON {t}" for s, t in GENERATIONS.items()),
    *(f"DROP SEQUENCE IF EXISTS {sequence}" for sequence in GENERATIONS),
]


class Migration(migrations.Migration):
    dependencies = [("metrics", "0011_loanbook_generation")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
