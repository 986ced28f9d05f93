"""The evaluation figures the page and `GET /api/compliance/evaluation/` show: precision and
recall on the held-apart set, computed once per process (the set and the shipped model do not
change while it runs)."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def evaluation_summary() -> dict[str, Any]:
    from carloan.compliance import evaluation

    return evaluation.summary()
