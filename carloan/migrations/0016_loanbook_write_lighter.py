"""Fewer indexes for an import to keep up to date (issue 22).

- `sample_metric_ts_idx` (metric, ts) is the first two columns of `sample_identity_uniq`, which
  serves the same reads.
- The `varchar_pattern_ops` twins Django adds to the loan book's text keys serve only
  `LIKE 'prefix%'`, which nothing runs on these columns; each costs every imported row an index
  insert. (A later AlterField of one of these columns may add its twin back: drop it again.)
"""

from django.db import migrations

PATTERN_TWINS = [
    ("loanbook_lead", "lead_id", "loanbook_lead_lead_id_0fe84bce_like"),
    ("loanbook_application", "application_id", "loanbook_application_application_id_a4adb49e_like"),
    ("loanbook_application", "lead_id", "loanbook_application_lead_id_f85168a7_like"),
    ("loanbook_loan", "loan_id", "loanbook_loan_loan_id_506c658d_like"),
    ("loanbook_loan", "application_id", "loanbook_loan_application_id_306c14be_like"),
    ("loanbook_valuation", "valuation_id", "loanbook_valuation_valuation_id_b211d6d2_like"),
    ("loanbook_vehicle_sale", "sale_id", "loanbook_vehicle_sale_sale_id_594d2ff2_like"),
    ("loanbook_complaint", "complaint_id", "loanbook_complaint_complaint_id_4f2d2a77_like"),
    ("loanbook_call", "call_id", "loanbook_call_call_id_4e968125_like"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("carloan", "0015_audit_events"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="sample",
            name="sample_metric_ts_idx",
        ),
        *(
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}" varchar_pattern_ops)',
            )
            for table, column, index in PATTERN_TWINS
        ),
    ]
