from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from carloan.compliance import selectors as compliance
        from carloan.health import problem_source_register
        from carloan.signals import loanbook_changed, loanbook_imported, parameters_changed
        from metrics import latency, listeners
        from metrics.registry import register_period_metric
        from metrics.selectors import refresh_problems

        problem_source_register("metrics_refresh", refresh_problems)
        request_finished.connect(latency.flush_if_due, dispatch_uid="metrics.latency")
        loanbook_changed.connect(listeners.on_loanbook_changed, dispatch_uid="metrics.refresh")
        loanbook_imported.connect(listeners.on_loanbook_imported, dispatch_uid="metrics.periods")
        parameters_changed.connect(
            listeners.on_parameters_changed, dispatch_uid="metrics.thresholds"
        )
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        for signal in (post_save, post_delete):
            signal.connect(
                listeners.on_person_changed,
                sender=get_user_model(),
                dispatch_uid=f"metrics.people.{signal is post_save}",
            )
        # Risk collaboration's two figures, for KPI sets (contract section 9): the discrepancy
        # rate as the scripts stood at the period's end, flagged calls per 100 over the period.
        register_period_metric(
            "script_discrepancy_rate", lambda start, end: compliance.script_discrepancy_rate(end)
        )
        register_period_metric("flagged_calls_per_100", compliance.flagged_calls_per_100)
        # Screening's false-invitation rate (contract section 10): invited leads declined.
        from carloan.screening import selectors as screening

        register_period_metric("false_invitation_rate", screening.false_invitation_rate)
