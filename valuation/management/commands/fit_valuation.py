"""`python manage.py fit_valuation`: fit the valuation model from the imported vehicle sales."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from valuation.model import FitOptions
from valuation.services import NotEnoughSales, valuation_fit
from valuation.support import support_rows


class Command(BaseCommand):
    help = (
        "Fit the twelve-factor valuation model from vehicle_sales, evaluate it on the held-out "
        "fifth of the sales, and make it the active model if it is not worse than the active one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--half-life-days",
            type=float,
            default=FitOptions.half_life_days,
            help="Sales this many days older than the latest weigh half as much (default 365).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row = valuation_fit(options=FitOptions(half_life_days=options["half_life_days"]))
        except NotEnoughSales as exc:
            raise CommandError(str(exc)) from exc

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f} %"

        self.stdout.write(
            f"valuation model v{row.version}: fitted on {row.sales_count} sales in "
            f"{row.fit_seconds:.2f} s; held out {row.holdout_count}: PPE10 {pct(row.ppe10)}, "
            f"MAPE {pct(row.mape)}, median error {pct(row.median_error_pct)}, "
            f"range coverage {pct(row.coverage)}"
        )
        self.stdout.write(row.decision_note)
        # what the sales were too thin to estimate, as the page shows it
        for item in support_rows(row.parameters):
            if item["status"] != "estimated":
                self.stdout.write(f"  {item['label']} ({item['status_label']}): {item['note']}")
