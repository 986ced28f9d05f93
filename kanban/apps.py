from django.apps import AppConfig


class KanbanConfig(AppConfig):
    name = "kanban"
    default_auto_field = "django.db.models.BigAutoField"
