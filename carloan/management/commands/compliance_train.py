"""`python manage.py compliance_train`: train the compliance checker's learned model on the
shipped training sets (and on reviewers' verdicts, when the app provides them) and write
`carloan/compliance/data/model.json`. Same data, same file."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from carloan.compliance.learned import (
    MODEL_FILE,
    CrossValidation,
    Example,
    shipped_model,
    train,
    training_examples,
)

# Where the app's reviewers' verdicts come from, when that exists: a function with no
# arguments answering an iterable of `Example`.
VERDICTS = "carloan.compliance.services:verdict_examples"


def verdict_source(spec: str = VERDICTS) -> Callable[[], Iterable[Example]] | None:
    """The verdicts function named by `module:function`, or None when it does not exist (yet)."""
    module_name, _, name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, name, None)
    return found if callable(found) else None


def _pct(value: float | None) -> str:
    return "   —  " if value is None else f"{100 * value:5.1f} %"


def train_and_write(
    extra: Callable[[], Iterable[Example]] | None = None,
    *,
    output: Path = MODEL_FILE,
    write: Callable[[str], Any] = print,
) -> Path:
    """Train on the training sets plus `extra()`'s examples, print the figures, write the
    model."""
    examples = training_examples()
    labelled = len(examples)
    if extra is not None:
        try:
            examples.extend(extra())
        except DatabaseError as error:  # no database (yet): the training sets alone
            write(f"reviewers' verdicts not read ({error.__class__.__name__}: {error})".strip())
    write(
        f"training on {len(examples)} examples: {labelled} labelled texts, "
        f"{len(examples) - labelled} reviewers' verdicts"
    )

    def report(cv: CrossValidation) -> None:
        write(f"cross-validated on the labelled texts ({cv.examples} examples, 5 folds):")
        write(f"{'category':28} {'TP':>4} {'FP':>4} {'FN':>4}")
        for key, (tp, fp, fn) in cv.per_category.items():
            write(f"{key:28} {tp:4} {fp:4} {fn:4}")
        write(
            f"not compliant, rules only:    precision {_pct(cv.rules_precision)}  "
            f"recall {_pct(cv.rules_recall)}"
        )
        write(
            f"not compliant, rules + model: precision {_pct(cv.precision)}  "
            f"recall {_pct(cv.recall)}"
        )

    model = train(examples, report=report)
    write(
        f"{len(model.vocabulary)} features; threshold {model.thresholds.min():.2f}, "
        f"veto {model.veto:.2f}"
    )
    model.save(output)
    if output == MODEL_FILE:
        shipped_model.cache_clear()
    write(f"wrote {output} ({output.stat().st_size / 1024:.0f} KiB)")
    return output


class Command(BaseCommand):
    help = "Train the compliance checker's learned model and write data/model.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=MODEL_FILE)
        parser.add_argument(
            "--no-verdicts",
            action="store_true",
            help="train on the shipped training sets only, not on reviewers' verdicts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        extra = None if options["no_verdicts"] else verdict_source()
        train_and_write(extra, output=options["output"], write=self.stdout.write)
