"""`python manage.py compliance_evaluate`: the checker's precision and recall on the held-apart
labelled set, per category and for "not compliant" as a whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from carloan.compliance.evaluation import EVALUATION_SET, evaluate, load

GOAL = 0.86


def _pct(value: float | None) -> str:
    return "   —  " if value is None else f"{100 * value:5.1f} %"


class Command(BaseCommand):
    help = "Precision and recall of the compliance checker on the held-apart labelled set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=EVALUATION_SET)
        parser.add_argument(
            "--misses", action="store_true", help="also list the texts it got wrong"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        items = load(options["file"])
        result = evaluate(items)
        write = self.stdout.write
        write(f"{result.utterances} utterances from {options['file']}")
        write(f"{'category':28} {'precision':>10} {'recall':>9}   TP  FP  FN")
        for key, score in result.categories.items():
            write(
                f"{key:28} {_pct(score.precision):>10} {_pct(score.recall):>9}  "
                f"{score.true_positives:3} {score.false_positives:3} {score.false_negatives:3}"
            )
        overall = result.not_compliant
        write(
            f"{'NOT COMPLIANT (overall)':28} {_pct(overall.precision):>10} "
            f"{_pct(overall.recall):>9}  {overall.true_positives:3} "
            f"{overall.false_positives:3} {overall.false_negatives:3}"
        )
        met = all(v is not None and v >= GOAL for v in (overall.precision, overall.recall))
        write(f"goal (both at least {GOAL:.0%}): {'met' if met else 'NOT met'}")
        if options["misses"]:
            for miss in result.misses:
                write(f"{miss['id']}: expected {miss['expected']} found {miss['found']}")
                write(f"    {miss['text']}")
