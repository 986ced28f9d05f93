"""Domain signals the loan book sends; higher rooms (metrics, valuation) listen.

`loanbook_changed` is sent after an import commits, with the kind and the first and last
business day its rows touch, so listeners can recompute exactly those days.
Arguments: kind (str), first_day (date | None), last_day (date | None), synchronous (bool).
"""

from django.dispatch import Signal

loanbook_changed = Signal()

# Sent after an import commits, whatever its refresh (also "none"): `kinds` (the kinds
# imported). Caches of figures computed from the loan book are dropped (metrics' periods).
loanbook_imported = Signal()

# Sent after a parameter change commits, with `keys` (the parameter keys whose values changed),
# so listeners can react without the core importing them (metrics re-evaluates alert statuses).
parameters_changed = Signal()

# Sent after commit when a sales script goes to risk control's review (submitted, or sent back
# by a parameter or library change): `script` (the script's data), `reason`. The kanban opens
# the review's hand-off card.
script_review_opened = Signal()

# Sent after commit when the review ends: `script`, `outcome` (approved, changes_requested,
# retired, withdrawn), `user` (who decided, None for the system). The kanban closes the card.
script_review_closed = Signal()

# Sent after commit when applications' cross-checks change so that they fail the blacklist
# check or two checks or more: `applications` ([{application_id, failed, blacklist}]). The
# kanban opens one card per application in risk control's lane.
applications_flagged = Signal()
