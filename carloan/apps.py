from django.apps import AppConfig


class CarloanConfig(AppConfig):
    name = "carloan"
    verbose_name = "Loan book"
    default_auto_field = "django.db.models.BigAutoField"
