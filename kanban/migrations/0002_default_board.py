"""The shared board every signed-in user sees: lanes marketing, risk, tech and the five columns."""

from django.db import migrations

LANES = ["marketing", "risk", "tech"]
# (name, WIP limit per lane, is_done): soft limits, a warning when a lane takes on too much.
COLUMNS = [
    ("Backlog", None, False),
    ("In progress", 5, False),
    ("Waiting for another department", None, False),
    ("Review", 3, False),
    ("Done", None, True),
]


def create(apps, schema_editor):
    Board = apps.get_model("kanban", "Board")
    Lane = apps.get_model("kanban", "Lane")
    Column = apps.get_model("kanban", "Column")
    board, created = Board.objects.get_or_create(
        slug="shared", defaults={"name": "Marketing · Risk · Tech", "visibility": "everyone"}
    )
    if not created:
        return
    for position, department in enumerate(LANES):
        Lane.objects.create(board=board, department=department, position=position)
    for position, (name, wip, done) in enumerate(COLUMNS):
        Column.objects.create(
            board=board,
            name=name,
            position=position,
            wip_limit=wip,
            wip_scope="per_lane",
            wip_policy="soft",
            is_done=done,
        )


def remove(apps, schema_editor):
    apps.get_model("kanban", "Board").objects.filter(slug="shared", cards__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("kanban", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
