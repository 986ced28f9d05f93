"""`python manage.py revalue_collateral`: what the nightly task does, by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from valuation.services import collateral_revalue


class Command(BaseCommand):
    help = "Revalue the vehicle of every active loan: model value, LTV, appraisal flags."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=date.fromisoformat, default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(collateral_revalue(today=options["day"])))
