"""The loan book's generations: a sequence every write to the tables the business formulas read
advances (one `nextval` per statement, from a statement-level trigger), and another for the
technical samples, so a period computed from the loan book (`metrics.periods`) can be cached
until the book changes; samples arriving every second do not drop the business families."""

from django.db import migrations

GENERATIONS = {
    "metrics_loanbook_generation": (
        "loanbook_lead",
        "loanbook_application",
        "loanbook_loan",
        "loanbook_snapshot",
        "loanbook_marketing_spend",
        "loanbook_valuation",
        "loanbook_complaint",
    ),
    "metrics_samples_generation": ("loanbook_sample",),
}
TABLES = [(sequence, t) for sequence, tables in GENERATIONS.items() for t in tables]

FORWARD = [
    *(f"CREATE SEQUENCE IF NOT EXISTS {sequence}" for sequence in GENERATIONS),
    # The sequence is the trigger's argument: one function for both generations.
    """
    CREATE OR REPLACE FUNCTION metrics_loanbook_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval(TG_ARGV[0]);
        RETURN NULL;
    END
    $$
    """,
    *(
        f"CREATE TRIGGER metrics_loanbook_generation AFTER INSERT OR UPDATE OR DELETE ON {t} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION metrics_loanbook_changed('{sequence}')"
        for sequence, t in TABLES
    ),
    *(
        f"CREATE TRIGGER metrics_loanbook_generation_truncate AFTER TRUNCATE ON {t} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION metrics_loanbook_changed('{sequence}')"
        for sequence, t in TABLES
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS metrics_loanbook_generation ON {t}" for _s, t in TABLES),
    *(f"DROP TRIGGER IF EXISTS metrics_loanbook_generation_truncate ON {t}" for _s, t in TABLES),
    "DROP FUNCTION IF EXISTS metrics_loanbook_changed()",
    *(f"DROP SEQUENCE IF EXISTS {sequence}" for sequence in GENERATIONS),
]


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0010_kpi_targets_from_the_case"),
        ("carloan", "0016_loanbook_write_lighter"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
