"""Domain signals the metrics app sends; higher rooms (the kanban) listen.

Both are sent after the refresh that caused them has committed, once per refresh, with
`alerts`: a list of `metrics.events.AlertData` (id, metric, region, day, level, status, value,
baseline, delta_pct, raised_at, resolved_at, card, department).

- `alerts_raised`: alerts opened (or reopened) by a refresh or a threshold change. Days in the
  past raise alerts too (an import of last quarter's book); the listener decides which deserve a
  card (contract: a critical one opens a card in the owning department's lane) and records it
  with `metrics.services.alert_card_attach(alert_id=, card_id=)`.
- `alerts_resolved`: alerts whose metric, region and day went back to ok.
"""

from django.dispatch import Signal

alerts_raised = Signal()
alerts_resolved = Signal()
# A quarterly review decided an action (`action`: metrics.kpi.actions.action_data); sent inside
# the transaction that records it: a listener (the kanban) opens its card and answers its id.
review_action_decided = Signal()
