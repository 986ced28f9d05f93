"""`python manage.py valuation_seed_collateral`: describe the demo loans' vehicles, revalue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from valuation.demo import collateral_seed_demo
from valuation.services import collateral_revalue


class Command(BaseCommand):
    help = (
        "Give every loan with a vehicle id but no described vehicle a deterministic demo "
        "description (make, model, year, mileage, history...), then revalue the collateral of "
        "the active loans (unless --no-revalue). For demo books only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-revalue", action="store_true", help="Only add the vehicles.")

    def handle(self, *args: Any, **options: Any) -> None:
        added = collateral_seed_demo()
        self.stdout.write(f"collateral vehicles added: {added}")
        if not options["no_revalue"]:
            result = collateral_revalue()
            self.stdout.write(f"collateral revalued: {result}")
