"""`python manage.py compliance_evaluate`: the checker's precision and recall on a labelled set
(`--set dev|holdout|tuning`, or any `--file`), per category and for "not compliant" as a whole,
with the rules alone and with the rules and the learned model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carloan.compliance.evaluation import (
    HELD_APART,
    SETS,
    Evaluation,
    Score,
    apart_from_training,
    compare,
    load,
)
from carloan.compliance.learned import shipped_model

GOAL = 0.86
HELD_APART_FILES = {SETS[name] for name in HELD_APART}


def _pct(value: float | None) -> str:
    return "   —  " if value is None else f"{100 * value:5.1f} %"


def _figures(score: Score) -> str:
    return (
        f"{_pct(score.precision):>8} {_pct(score.recall):>8} "
        f"{score.true_positives:4} {score.false_positives:3} {score.false_negatives:3}"
    )


def _met(result: Evaluation) -> bool:
    overall = result.not_compliant
    return all(v is not None and v >= GOAL for v in (overall.precision, overall.recall))


class Command(BaseCommand):
    help = (
        "Precision and recall of the compliance checker on a labelled set, rules alone and "
        "rules with the learned model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--set",
            choices=sorted(SETS),
            default="dev",
            help="a shipped set: dev (evaluation.jsonl, the default), holdout, holdout_2 (the "
            "newest held-apart set), tuning",
        )
        parser.add_argument("--file", type=Path, help="any labelled set (instead of --set)")
        parser.add_argument(
            "--misses",
            action="store_true",
            help="also list the texts the rules with the model got wrong",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"] or SETS[options["set"]]
        if not path.exists():
            raise CommandError(f"No labelled set at {path}.")
        items: list[Any] = load(path)
        overlap = 0
        if path in HELD_APART_FILES:
            items, overlap = apart_from_training(items)
        rules, both = compare(items)
        write = self.stdout.write
        model = shipped_model()
        write(f"{rules.utterances} utterances from {path}")
        if overlap:
            write(f"({overlap} more set aside: the same text is in a training set)")
        if model is None:
            write("no learned model (data/model.json): both columns are the rules alone")
        header = f"{'precision':>8} {'recall':>8}   TP  FP  FN"
        write(f"{'':28} {'rules alone':^34} {'rules + learned model':^34}")
        write(f"{'category':28} {header}   {header}")
        for key, score in rules.categories.items():
            write(f"{key:28} {_figures(score)}   {_figures(both.categories[key])}")
        write(
            f"{'NOT COMPLIANT (overall)':28} {_figures(rules.not_compliant)}   "
            f"{_figures(both.not_compliant)}"
        )
        for name, result in (("rules alone", rules), ("rules + learned model", both)):
            verdict = "met" if _met(result) else "NOT met"
            write(f"goal (both at least {GOAL:.0%}), {name}: {verdict}")
        if options["misses"]:
            for miss in both.misses:
                write(f"{miss['id']}: expected {miss['expected']} found {miss['found']}")
                write(f"    {miss['text']}")
