"""Domain signals the loan book sends; higher rooms (metrics, valuation) listen.

`loanbook_changed` is sent after an import commits, with the kind and the first and last
business day its rows touch, so listeners can recompute exactly those days.
Arguments: kind (str), first_day (date | None), last_day (date | None), synchronous (bool).
"""

from django.dispatch import Signal

loanbook_changed = Signal()

# Sent after a parameter change commits, with `keys` (the parameter keys whose values changed),
# so listeners can react without the core importing them (metrics re-evaluates alert statuses).
parameters_changed = Signal()
