"""Typed socket messages of risk collaboration (`/ws/compliance/`, group `compliance`).

- `compliance.snapshot` on connect (and on `resync`): scripts, the latest flagged calls, the
  library's versions, the figures, the running precision;
- `script.updated` {script, action}: created, edited, moved, or re-checked;
- `call.checked` {call}: a call checked on arrival (flagged or not);
- `verdict.recorded` {call, precision}: a reviewer's verdict and the running precision;
- `category.updated` {category}: risk control saved a library category;
- `figures.updated` {figures}: the discrepancy rate and flagged calls per 100 moved.
"""

from __future__ import annotations

from typing import Any

COMPLIANCE_GROUP = "compliance"
SNAPSHOT_CALLS = 50


def compliance_snapshot() -> dict[str, Any]:
    from carloan.compliance import selectors

    _, calls = selectors.calls_list(flagged=True, limit=SNAPSHOT_CALLS)
    _, versions = selectors.live_library()
    return {
        "type": "compliance.snapshot",
        "scripts": selectors.scripts_list(),
        "flagged_calls": calls,
        "library_versions": versions,
        "figures": selectors.figures(),
        "precision": selectors.running_precision(),
    }
