"""`manage.py refresh_metrics [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--family ...]`"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.registry import FAMILIES
from metrics.selectors import business_today
from metrics.services import loanbook_first_day, metrics_refresh


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date written YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Recompute the metric values of every region for the days from --start to --end "
        "(default: from the first loan book day to today), then statuses and alerts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=str, help="First day (YYYY-MM-DD).")
        parser.add_argument("--end", type=str, help="Last day (YYYY-MM-DD), default today.")
        parser.add_argument(
            "--family",
            action="append",
            choices=FAMILIES,
            help="Only these formula families (repeatable); default all.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        end = _day(options["end"]) if options["end"] else business_today()
        if options["start"]:
            start = _day(options["start"])
        else:
            first = loanbook_first_day()
            if first is None:
                self.stdout.write("The loan book is empty: nothing to compute.")
                return
            start = min(first, end)
        if end < start:
            raise CommandError(f"--end {end} is before --start {start}")
        began = time.monotonic()
        result = metrics_refresh(start=start, end=end, families=options["family"])
        seconds = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items())
        self.stdout.write(
            f"Metrics of {start} to {end} computed in {time.monotonic() - began:.2f} s "
            f"({seconds}): {result.values_changed} values and {result.statuses_changed} statuses "
            f"changed, {result.alerts_raised} alerts raised, {result.alerts_resolved} resolved."
        )
