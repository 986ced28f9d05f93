"""The seed's rule, kept by the data too: a minimum collaboration weight that an earlier version
let a manager set below 20 is raised to 20, as a change of its own in the parameter's history."""

from django.db import migrations
from django.utils import timezone

KEY = "kpi.min_collaboration_weight_pct"
FLOOR = 20.0


def raise_to_floor(apps, schema_editor):  # type: ignore[no-untyped-def]
    Parameter = apps.get_model("carloan", "Parameter")
    ParameterChange = apps.get_model("carloan", "ParameterChange")
    row = Parameter.objects.select_for_update().filter(key=KEY).first()
    if row is None or not isinstance(row.value, int | float) or row.value >= FLOOR:
        return
    now = timezone.now()
    old = row.value
    row.value, row.version, row.updated_by, row.updated_at = FLOOR, row.version + 1, None, now
    row.save()
    ParameterChange.objects.create(
        key=KEY,
        version=row.version,
        old_value=old,
        new_value=FLOOR,
        reason="Raised to the programme's floor: collaboration weighs at least 20 %.",
        changed_by=None,
        changed_at=now,
    )


class Migration(migrations.Migration):
    dependencies = [("carloan", "0003_parameters")]

    operations = [migrations.RunPython(raise_to_floor, migrations.RunPython.noop)]
