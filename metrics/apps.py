from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from carloan.health import problem_source_register
        from carloan.signals import loanbook_changed, parameters_changed
        from metrics import latency, listeners
        from metrics.selectors import refresh_problems

        problem_source_register("metrics_refresh", refresh_problems)
        request_finished.connect(latency.flush_if_due, dispatch_uid="metrics.latency")
        loanbook_changed.connect(listeners.on_loanbook_changed, dispatch_uid="metrics.refresh")
        parameters_changed.connect(
            listeners.on_parameters_changed, dispatch_uid="metrics.thresholds"
        )
