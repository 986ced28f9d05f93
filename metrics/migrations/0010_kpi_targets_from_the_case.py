"""The seed case's reported results become the default targets (issue 19): overdue 1.2 %
(threshold 4 %), NPL 3.5 % (threshold 6 %), valuation accuracy 92 % (threshold 75 %), incident
response 3 h (threshold 24 h). Only a department's set still as installed (version 1, never
changed by a manager) takes them, as its installed set (version 1's record says so): clients
holding version 1 stay valid, and a set a manager changed is left as they made it."""

from django.db import migrations
from django.utils import timezone

NEW = {
    "risk": {
        "overdue_rate": (1.2, 4.0),
        "npl_ratio": (3.5, 6.0),
        "valuation_accuracy": (92.0, 75.0),
    },
    "tech": {"incident_response_time": (3.0, 24.0)},
}


def _set(rows):
    return [
        {
            "metric": r.metric,
            "target": r.target,
            "threshold": r.threshold,
            "weight": r.weight,
            "collaboration": r.collaboration,
        }
        for r in rows
    ]


def forwards(apps, schema_editor):
    KPIDefinition = apps.get_model("metrics", "KPIDefinition")
    KPISetChange = apps.get_model("metrics", "KPISetChange")
    for department, targets in NEW.items():
        if KPISetChange.objects.filter(department=department, version__gt=1).exists():
            continue  # a manager changed it
        rows = list(KPIDefinition.objects.filter(department=department).order_by("position"))
        if not rows:
            continue
        old = _set(rows)
        for row in rows:
            if row.metric in targets:
                row.target, row.threshold = targets[row.metric]
                row.save(update_fields=["target", "threshold"])
        installed = KPISetChange.objects.filter(department=department, version=1).first()
        if installed is not None:
            installed.new_set = _set(rows)
            installed.reason = (
                (installed.reason + " " if installed.reason else "")
                + f"Targets from the case's reported results since {timezone.localdate()} "
                f"(before: {old})."
            )[:2000]
            installed.save(update_fields=["new_set", "reason"])


class Migration(migrations.Migration):
    dependencies = [("metrics", "0009_review_actions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
