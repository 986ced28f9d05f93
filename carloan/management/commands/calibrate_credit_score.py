"""`manage.py calibrate_credit_score`: run the credit-score auto-calibration now."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from carloan.parameters.calibration import credit_score_calibrate


class Command(BaseCommand):
    help = (
        "Propose a new risk.min_credit_score so that the 30+ days-past-due rate of recent loans "
        "above the cutoff meets risk.calibration.target_bad_rate_pct. The proposal is filed as a "
        "change request for a manager to approve on /parameters/; nothing is applied. Prints the "
        "proposal (or why there is none) and the cut-off table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = credit_score_calibrate()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "proposed": result.proposed,
                        "reason": result.reason,
                        "request": result.request.pk if result.request else None,
                        "evidence": result.evidence,
                    },
                    indent=2,
                )
            )
            return
        bands = result.evidence.get("bands", [])
        if bands:
            self.stdout.write("score band   loans    bad  bad %   loans >=  bad % >=")
            for band in bands:
                rate = band["bad_rate_pct"]
                above = band["bad_rate_at_or_above_pct"]
                self.stdout.write(
                    f"{band['band_start']:>4}-{band['band_end']:<4}  {band['loans']:>6} "
                    f"{band['bad']:>6} {rate if rate is not None else 0:>6.2f}   "
                    f"{band['loans_at_or_above']:>7}  {above if above is not None else 0:>7.2f}"
                )
        style = self.style.SUCCESS if result.proposed else self.style.WARNING
        self.stdout.write(style(result.reason))
        if result.request is not None:
            self.stdout.write(f"Filed change request #{result.request.pk} for a manager.")
