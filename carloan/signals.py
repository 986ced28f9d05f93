"""Domain signals the loan book sends; higher rooms (metrics, valuation) listen.

`loanbook_changed` is sent after an import commits, with the kind and the first and last
business day its rows touch, so listeners can recompute exactly those days.
Arguments: kind (str), first_day (date | None), last_day (date | None), synchronous (bool).
"""

from django.dispatch import Signal

loanbook_changed = Signal()
