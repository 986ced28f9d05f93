"""Each department's starting KPI set (metrics/kpi/defaults.py as of this migration), logged as
version 1 of its set."""

from django.db import migrations
from django.utils import timezone

DEFAULTS = {
    "marketing": [
        ("lead_conversion_rate", 30.0, 15.0, 30.0, False),
        ("customer_acquisition_cost", 2500.0, 4000.0, 30.0, False),
        ("approval_rate", 70.0, 50.0, 15.0, False),
        ("handoff_wait_time", 4.0, 48.0, 25.0, True),
    ],
    "risk": [
        ("overdue_rate", 3.0, 8.0, 30.0, False),
        ("npl_ratio", 0.5, 3.0, 20.0, False),
        ("valuation_accuracy", 90.0, 70.0, 25.0, False),
        ("cross_department_cycle_time", 3.0, 14.0, 25.0, True),
    ],
    "tech": [
        ("api_response_time_p95", 200.0, 500.0, 20.0, False),
        ("availability", 99.9, 99.0, 25.0, False),
        ("data_sync_lag_p95", 60.0, 300.0, 15.0, False),
        ("incident_response_time", 1.0, 8.0, 15.0, False),
        ("handoff_wait_time", 4.0, 48.0, 25.0, True),
    ],
}


def install(apps, schema_editor):
    KPIDefinition = apps.get_model("metrics", "KPIDefinition")
    KPISetChange = apps.get_model("metrics", "KPISetChange")
    now = timezone.now()
    for department, rows in DEFAULTS.items():
        if KPIDefinition.objects.filter(department=department).exists():
            continue
        new_set = []
        for position, (metric, target, threshold, weight, collaboration) in enumerate(rows):
            KPIDefinition.objects.create(
                department=department,
                position=position,
                metric=metric,
                target=target,
                threshold=threshold,
                weight=weight,
                collaboration=collaboration,
            )
            new_set.append(
                {
                    "metric": metric,
                    "target": target,
                    "threshold": threshold,
                    "weight": weight,
                    "collaboration": collaboration,
                }
            )
        KPISetChange.objects.create(
            department=department,
            version=1,
            changed_at=now,
            old_set=[],
            new_set=new_set,
            reason="Default KPI set",
        )


def remove(apps, schema_editor):
    apps.get_model("metrics", "KPIDefinition").objects.all().delete()
    apps.get_model("metrics", "KPISetChange").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_kpi")]
    operations = [migrations.RunPython(install, remove)]
