from django.apps import AppConfig


class KanbanConfig(AppConfig):
    name = "kanban"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Kanban"

    def ready(self) -> None:
        """Listen to the metrics' alerts (critical ones become cards) and give KPI scoring the
        two collaboration metrics through the metrics registry (`register_period_metric`), so
        scoring reads every actual from one place; and the review its finished work per strategy
        pillar (`register_work_counter`)."""
        from carloan.signals import (
            applications_flagged,
            script_review_closed,
            script_review_opened,
        )
        from kanban import flow, listeners, selectors
        from metrics.kpi.actions import register_card_reader
        from metrics.kpi.strategy import register_work_counter
        from metrics.registry import register_period_metric
        from metrics.signals import alerts_raised, review_action_decided

        alerts_raised.connect(listeners.on_alerts_raised, dispatch_uid="kanban.alert_cards")
        applications_flagged.connect(
            listeners.on_applications_flagged, dispatch_uid="kanban.flagged_applications"
        )
        script_review_opened.connect(
            listeners.on_script_review_opened, dispatch_uid="kanban.script_review_opened"
        )
        script_review_closed.connect(
            listeners.on_script_review_closed, dispatch_uid="kanban.script_review_closed"
        )
        register_period_metric("handoff_wait_time", flow.handoff_wait_time)
        register_period_metric("cross_department_cycle_time", flow.cross_department_cycle_time)
        register_work_counter(selectors.finished_work_by_pillar)
        register_card_reader(selectors.cards_done)
        review_action_decided.connect(
            listeners.on_review_action_decided, dispatch_uid="kanban.review_actions"
        )
