"""The KPI sets every department starts with (installed by migration 0003, the case's targets by
0010; kept here for the tests and the README). Collaboration weighs 25 in each set.

Where the seed case reports a result, it is the target, and the threshold is where the case
started or a level clearly worse (issue 19): overdue rate 1.2 % (threshold 4 %), NPL ratio 3.5 %
(the case's reported level scores 100; threshold 6 %), valuation accuracy 92 % (threshold 75 %),
incident response 3 h (the case went from 24 h: threshold 24 h). The others fit the demo book's
quarters: a department that holds its numbers scores in the 50s to 80s.

- marketing: converts leads at a fair acquisition cost, and its leads must pass credit (the
  approval rate is risk's metric, shared); collaboration: how fast it picks up hand-offs.
- risk: the portfolio's overdue and NPL ratios and valuation accuracy; collaboration: how fast
  work that crosses departments is finished.
- tech: API latency, availability, data sync lag and incident response; collaboration: hand-off
  wait.
"""

from __future__ import annotations

from typing import Any

DEFAULT_KPI_SETS: dict[str, list[dict[str, Any]]] = {
    "marketing": [
        {"metric": "lead_conversion_rate", "target": 30.0, "threshold": 15.0, "weight": 30.0},
        {
            "metric": "customer_acquisition_cost",
            "target": 2500.0,
            "threshold": 4000.0,
            "weight": 30.0,
        },
        {"metric": "approval_rate", "target": 70.0, "threshold": 50.0, "weight": 15.0},
        {
            "metric": "handoff_wait_time",
            "target": 4.0,
            "threshold": 48.0,
            "weight": 25.0,
            "collaboration": True,
        },
    ],
    "risk": [
        {"metric": "overdue_rate", "target": 1.2, "threshold": 4.0, "weight": 30.0},
        {"metric": "npl_ratio", "target": 3.5, "threshold": 6.0, "weight": 20.0},
        {"metric": "valuation_accuracy", "target": 92.0, "threshold": 75.0, "weight": 25.0},
        {
            "metric": "cross_department_cycle_time",
            "target": 3.0,
            "threshold": 14.0,
            "weight": 25.0,
            "collaboration": True,
        },
    ],
    "tech": [
        {"metric": "api_response_time_p95", "target": 200.0, "threshold": 500.0, "weight": 20.0},
        {"metric": "availability", "target": 99.9, "threshold": 99.0, "weight": 25.0},
        {"metric": "data_sync_lag_p95", "target": 60.0, "threshold": 300.0, "weight": 15.0},
        {"metric": "incident_response_time", "target": 3.0, "threshold": 24.0, "weight": 15.0},
        {
            "metric": "handoff_wait_time",
            "target": 4.0,
            "threshold": 48.0,
            "weight": 25.0,
            "collaboration": True,
        },
    ],
}
