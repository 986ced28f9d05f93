"""Celery tasks of the core: thin, by id, safe to run twice."""

from __future__ import annotations

from carloan.celery import service_task
from carloan.loanbook import services


@service_task("carloan.loanbook_refresh", max_retries=5)
def loanbook_refresh(run_id: int) -> None:
    """Recompute the metric days an import touched (see services.loanbook_refresh)."""
    services.loanbook_refresh(run_id=run_id)


@service_task("carloan.parameters_calibrate", minutes=5)
def parameters_calibrate() -> str:
    """The daily auto-calibration of the credit-score cutoff: files a change request at most
    (see carloan.parameters.calibration). Safe to repeat: a pending proposal blocks another."""
    from carloan.parameters.calibration import credit_score_calibrate

    return credit_score_calibrate(scheduled=True).reason


@service_task("carloan.compliance_calls_check", minutes=10)
def compliance_calls_check() -> int:
    """Check any call whose transcript was not checked as it stands (the import's refresh does
    it at once; this catches a refresh that failed). Safe to repeat: checked calls are skipped."""
    from carloan.compliance.services import calls_check_pending

    return calls_check_pending()


@service_task("carloan.compliance_model_retrain", minutes=14)
def compliance_model_retrain() -> str:
    """Weekly: learn from the reviewers' verdicts (see services.model_retrain); a model that
    does worse than the one in use is kept aside, not used."""
    from carloan.compliance.services import model_retrain

    row = model_retrain(minimum_verdicts=1)
    return "no verdicts yet" if row is None else f"model {row.pk}: {row.note}"


@service_task("carloan.screening_recheck_all", minutes=14)
def screening_recheck_all() -> int:
    """Every application's cross-checks, after a threshold change (set-based: one statement)."""
    from carloan.screening.services import recheck_all

    return len(recheck_all())
