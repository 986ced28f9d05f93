from django.apps import AppConfig


class CarloanConfig(AppConfig):
    name = "carloan"
    verbose_name = "Loan book"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the sign-in signal receivers (failure counting and the security log).
        from carloan import security  # noqa: F401
