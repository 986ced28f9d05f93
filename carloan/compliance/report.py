"""The evaluation figures the page and `GET /api/compliance/evaluation/` show: precision and
recall on the held-apart set, with the model in use, computed once per process and model (the
sets do not change while it runs; a retrained model in use is scored afresh)."""

from __future__ import annotations

import threading
from typing import Any

_computed: dict[int | None, dict[str, Any]] = {}
_lock = threading.Lock()


def evaluation_summary() -> dict[str, Any]:
    from carloan.compliance import evaluation
    from carloan.compliance.models import TrainedModel
    from carloan.compliance.services import current_model

    active = TrainedModel.objects.filter(active=True).values_list("pk", flat=True).first()
    with _lock:
        found = _computed.get(active)
    if found is None:
        found = evaluation.summary(model=current_model())
        found["model"] = "shipped" if active is None else f"trained here (#{active})"
        with _lock:
            _computed[active] = found
    return found
