"""`python manage.py seed_demo`: the demo users, and the demo loan book when the book is empty.

The users (`manager`, `marketing`, `risk`, `tech`, `viewer`, password `carloan-demo`) are created
or updated every time. The book (see `carloan.dev.demo`) goes in only when there is no loan book yet
(no lead, application, loan or snapshot): it is loaded through the same import service as any
lender's file, kind by kind, and the metric values of its days are computed at the end.
"""

from __future__ import annotations

import io
import time
from datetime import date
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from carloan.compliance.services import calls_check_pending
from carloan.dev.demo import IMPORT_ORDER, demo_book, months_before, row_counts
from carloan.models import Lead, Loan, LoanApplication, LoanSnapshot, Profile
from carloan.screening.services import recheck_all

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


# Sales scripts of the demo: (title, channel, text, how far through review it gets).
DEMO_SCRIPTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "新车贷 · 电话开场白",
        "phone",
        "您好，我是XX汽车金融的客户经理。我们的车贷年化利率4.8%起，首付最低三成，"
        "能否获批以征信审核结果为准。需要的话我把费用清单发给您。",
        "approved",
    ),
    (
        "服务费九五折 · 短信",
        "sms",
        "【XX汽车金融】本月办理车贷，贷款服务费享九五折，年化利率以合同为准，详询门店。",
        "approved",
    ),
    (
        "Used-car loan · WeChat post",
        "wechat",
        "Drive home your used car with a 30% down payment. Rates from 6.5% APR; approval "
        "depends on a credit check. GPS and a lien registration apply.",
        "approved",
    ),
    (
        "周末冲量话术（草稿）",
        "phone",
        "零首付提车，不查征信，秒批秒放款！仅限今天，错过再等一年。",
        "draft",
    ),
    (
        "Dealer hand-out (for review)",
        "store",
        "Borrow up to 90% of the car's value. Monthly rate only 0.6%. Ask about our insurance.",
        "in_review",
    ),
)


def ensure_demo_blacklist_proposal() -> int:
    """One blacklist proposal waiting for risk control: marketing's head asks to list a phone
    seen on several suspicious leads (the /risk/ page's four-eyes has something to decide)."""
    from carloan.screening.models import BlacklistChange
    from carloan.screening.services import blacklist_propose_add

    marketing = User.objects.filter(username="marketing").first()
    if marketing is None or BlacklistChange.objects.filter(source="proposal").exists():
        return 0
    try:
        blacklist_propose_add(
            user=marketing,
            type="phone",
            value="17098765432",
            reason="Same caller behind leads under three names",
            note="Three leads this week from one call centre gave this number with different IDs.",
        )
    except ValidationError:  # the demo's own list holds it already
        return 0
    return 1


def ensure_demo_scripts() -> int:
    """The demo scripts, written by marketing and reviewed by risk, when there are none yet: an
    approved 九五折 script turns needs_review as soon as a manager lowers
    `marketing.max_promo_discount_pct` below 5."""
    from carloan.compliance.models import Call, Script
    from carloan.compliance.services import script_create, script_update

    if Script.objects.exists():
        return 0
    marketing = User.objects.get(username="marketing")
    risk = User.objects.get(username="risk")
    used: list[int] = []
    for title, channel, text, reach in DEMO_SCRIPTS:
        script = script_create(user=marketing, title=title, channel=channel, text=text)
        if reach == "draft":
            continue
        script = script_update(
            user=marketing,
            script_id=script["id"],
            version=script["version"],
            changes={"state": "in_review"},
        )
        if reach == "approved":
            script_update(
                user=risk,
                script_id=script["id"],
                version=script["version"],
                changes={"state": "approved"},
                note="" if script["compliant"] else "demo",
            )
            used.append(script["id"])
    # The demo calls were made with the approved scripts (every fourth with none named), so
    # the script × risk matrix has rows to compare.
    calls = list(Call.objects.order_by("call_id").values_list("call_id", flat=True))
    for n, call_id in enumerate(calls):
        if n % 4 != 3:
            Call.objects.filter(call_id=call_id).update(script_id=str(used[n % len(used)]))
    return len(DEMO_SCRIPTS)


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
        began = time.monotonic()
        checked = calls_check_pending()
        scripts = ensure_demo_scripts()
        ensure_demo_blacklist_proposal()
        flagged = sum(1 for _id, is_flagged, *_ in recheck_all() if is_flagged)
        self.stdout.write(
            f"Checked {checked:,} demo calls, wrote {scripts} demo scripts and cross-checked "
            f"the applications ({flagged:,} flagged) in {time.monotonic() - began:.1f} s"
        )
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
