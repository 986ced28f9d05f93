"""`python manage.py seed_demo`: the demo users, and the demo loan book when the book is empty.

The users (`manager`, `marketing`, `risk`, `tech`, `viewer`, password `carloan-demo`) are created
or updated every time. The book (see `carloan.demo`) goes in only when there is no loan book yet
(no lead, application, loan or snapshot): it is loaded through the same import service as any
lender's file, kind by kind, and the metric values of its days are computed at the end.
"""

from __future__ import annotations

import io
import time
from datetime import date
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from carloan.demo import IMPORT_ORDER, demo_book, months_before, row_counts
from carloan.models import Lead, Loan, LoanApplication, LoanSnapshot, Profile

DEMO_PASSWORD = "carloan-demo"  # noqa: S105 (the documented demo password)

# username: (group, department)
DEMO_USERS: dict[str, tuple[str, str]] = {
    "manager": ("manager", ""),
    "marketing": ("department_head", "marketing"),
    "risk": ("department_head", "risk"),
    "tech": ("department_head", "tech"),
    "viewer": ("viewer", ""),
}


def ensure_demo_users() -> list[User]:
    """Create or update the five demo users: role, department and password (idempotent)."""
    users = []
    roles = {name: Group.objects.get_or_create(name=name)[0] for name in ("viewer",
             "department_head", "manager")}  # fmt: skip
    for username, (role, department) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.carloan.example"}
        )
        if not user.check_password(DEMO_PASSWORD) or not user.is_active:
            user.set_password(DEMO_PASSWORD)
            user.is_active = True
            user.save()
        user.groups.set([roles[role]])
        Profile.objects.update_or_create(user=user, defaults={"department": department})
        users.append(user)
    return users


def book_is_empty() -> bool:
    return not any(model.objects.exists() for model in (Lead, LoanApplication, Loan, LoanSnapshot))


class Command(BaseCommand):
    help = (
        "Create the demo users (password carloan-demo) and, into a database without a loan "
        "book, load the demo book through the import service."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--end-date",
            type=date.fromisoformat,
            default=None,
            help="Last day of the demo book (YYYY-MM-DD; default: today)",
        )
        parser.add_argument("--months", type=int, default=6, help="Months of history (6)")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Volume multiplier (1.0: ~30k leads)"
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed")
        parser.add_argument(
            "--users-only", action="store_true", help="Only create or update the demo users"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            ensure_demo_users()
        self.stdout.write("Demo users: " + ", ".join(DEMO_USERS) + f" (password {DEMO_PASSWORD})")
        if options["users_only"]:
            return
        if not book_is_empty():
            self.stdout.write("The loan book is not empty: the demo book was not loaded.")
            return
        months, scale = options["months"], options["scale"]
        if months < 1 or scale <= 0:
            raise CommandError("--months must be at least 1 and --scale above 0.")
        end = options["end_date"] or timezone.localdate()
        self.load_book(end, months, scale, options["seed"])

    def load_book(self, end: date, months: int, scale: float, seed: int | None) -> None:
        from carloan.loanbook.services import ImportRejected, loanbook_import, loanbook_refresh

        started = time.monotonic()
        start = months_before(end, months)
        self.stdout.write(f"Generating the demo book: {start} to {end}, scale {scale} ...")
        kwargs: dict[str, Any] = {"seed": seed} if seed is not None else {}
        book = demo_book(end=end, months=months, scale=scale, **kwargs)
        counts = row_counts(book)
        self.stdout.write(f"  generated {sum(counts.values()):,} rows in "
                          f"{time.monotonic() - started:.1f} s")  # fmt: skip
        admin = User.objects.filter(username="manager").first()
        run_ids = []
        for kind in IMPORT_ORDER:
            began = time.monotonic()
            try:
                result = loanbook_import(
                    kind=kind,
                    source=io.BytesIO(book[kind]),
                    file_name=f"demo/{kind}.csv",
                    user=admin,
                    refresh="none",
                )
            except ImportRejected as exc:
                raise CommandError(f"The demo {kind} were rejected: {exc.errors[:5]}") from exc
            run_ids.append(result.run_id)
            self.stdout.write(
                f"  imported {kind:<15} {result.rows:>8,} rows in {time.monotonic() - began:5.1f} s"
            )
        began = time.monotonic()
        self.stdout.write("Computing the metric values of the demo days ...")
        if "refresh_metrics" in get_commands():
            call_command("refresh_metrics", "--start", start.isoformat(), "--end", end.isoformat())
            from carloan.models import ImportRun

            ImportRun.objects.filter(pk__in=run_ids).update(refreshed_at=timezone.now())
        else:
            for run_id in run_ids:
                if run_id is not None:
                    loanbook_refresh(run_id=run_id)
        self.stdout.write(f"  done in {time.monotonic() - began:.1f} s")
        # The apps' own demo steps, named, not imported (the core never imports an app): the
        # valuation model learns from the demo's sales and values the loans' collateral, and the
        # kanban gets a working board with hand-offs, so every page has data at once.
        for command in ("fit_valuation", "valuation_seed_collateral", "kanban_seed_demo"):
            if command in get_commands():
                began = time.monotonic()
                self.stdout.write(f"Running {command} ...")
                call_command(command, stdout=self.stdout, stderr=self.stderr)
                self.stdout.write(f"  done in {time.monotonic() - began:.1f} s")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo book loaded ({sum(counts.values()):,} rows, {start} to {end}) in "
                f"{time.monotonic() - started:.1f} s."
            )
        )
