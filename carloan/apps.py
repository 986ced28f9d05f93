from django.apps import AppConfig


class CarloanConfig(AppConfig):
    name = "carloan"
    verbose_name = "Loan book"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the sign-in signal receivers (failure counting and the security log).
        from carloan import security  # noqa: F401
        from carloan.compliance import listeners
        from carloan.signals import loanbook_changed, parameters_changed

        parameters_changed.connect(
            listeners.on_parameters_changed, dispatch_uid="compliance.scripts_recheck"
        )
        loanbook_changed.connect(listeners.on_loanbook_changed, dispatch_uid="compliance.calls")
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from carloan.parameters import services as parameter_services

        for signal in (post_save, post_delete):
            # The parameters page and list name people (who changed, who asked).
            signal.connect(
                parameter_services.on_person_changed,
                sender=get_user_model(),
                dispatch_uid=f"parameters.people.{signal is post_save}",
            )
        from carloan.screening import services as screening

        parameters_changed.connect(
            screening.on_parameters_changed, dispatch_uid="screening.thresholds"
        )
        loanbook_changed.connect(screening.on_loanbook_changed, dispatch_uid="screening.checks")
