"""`python manage.py kanban_seed_demo`: a realistic shared board for the demo.

What it puts on the shared board (through the kanban services, so ranks, hand-offs, the
transition log and the events are the real ones; the times are then moved into the past):

- open work in every lane: leads stuck between marketing and risk, an appraisal waiting for
  risk, a credit-bureau incident just raised for tech, policy and audit work in progress, a
  Review column in risk at its hard limit, a marketing "In progress" over its soft limit;
- about thirty cards done over the last seven weeks along the usual routes (marketing → risk,
  risk → tech, round trips), so the flow view has cumulative flow, cycle times and hand-off
  waits to show;
- comments, checklists, labels, assignees and due dates (some overdue).

It runs once: a board that already has cards people made is left alone (`--force`
adds the demo cards anyway). `--bulk N` adds N plain filler cards (for trying the board with
2,000 cards). The Review column becomes a hard limit of 3 per lane unless `--keep-limits`.

`seed_demo` calls it when it is installed (by name: the core never imports an app).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from kanban import ranks, services
from kanban.models import Board, Card, CardType, Column, Comment, Lane, Transition
from kanban.selectors import default_board

# A step of a card's life: (days ago, lane department, column name, who moves it).
Step = tuple[float, str, str, str]


@dataclass
class Story:
    title: str
    steps: Sequence[Step]
    type: str = CardType.TASK
    department: str = ""
    labels: Sequence[str] = ()
    assignees: Sequence[str] = ()
    due_in_days: int | None = None
    checklist: Sequence[tuple[str, bool]] = ()
    description: str = ""
    comments: Sequence[tuple[float, str, str]] = field(default_factory=tuple)
    pillar: str = ""  # the strategy pillar its work builds (the review's split against work)


# The pillar finished demo work builds, by its label (promotions build none of the three).
PILLAR_OF_LABEL = {
    "leads": "risk_collaboration",
    "policy": "risk_collaboration",
    "infra": "agile_platform",
    "reporting": "data_platform",
    "promo": "",
}

BACKLOG, DOING, WAITING, REVIEW, DONE = (
    "Backlog",
    "In progress",
    "Waiting for another department",
    "Review",
    "Done",
)

OPEN_WORK: list[Story] = [
    Story(
        "Autohome campaign: 420 leads need pre-screening before dealers call",
        [
            (9, "marketing", BACKLOG, "marketing"),
            (7.5, "marketing", DOING, "marketing"),
            (6.2, "risk", BACKLOG, "marketing"),
        ],
        type=CardType.REQUEST,
        department="marketing",
        labels=["leads", "autohome"],
        assignees=["marketing"],
        due_in_days=-1,
        description="Dealers are calling these leads from Monday. Risk: a quick pre-screen on "
        "credit score and LTV band, so sales does not promise terms we will decline.",
        comments=[
            (6.0, "marketing", "Handed to risk: the file is in the shared folder."),
            (2.5, "marketing", "Dealers are asking again — can we get a first batch?"),
        ],
    ),
    Story(
        "Lead-score cutoff 580 → 560 for EV buyers: risk sign-off",
        [
            (14, "marketing", BACKLOG, "marketing"),
            (12, "marketing", DOING, "marketing"),
            (10, "risk", WAITING, "marketing"),
            (8, "marketing", WAITING, "risk"),
            (5, "risk", WAITING, "marketing"),
        ],
        type=CardType.REQUEST,
        department="marketing",
        labels=["leads", "policy", "ev"],
        assignees=["marketing", "risk"],
        due_in_days=3,
        checklist=[
            ("Backtest on Q3 applications", True),
            ("Expected approval lift", True),
            ("Bad-rate impact at 560", False),
            ("Manager approval", False),
        ],
        comments=[
            (8, "risk", "Need the bad-rate impact first — sent back."),
            (5, "marketing", "Impact attached; back to you."),
        ],
    ),
    Story(
        "Appraisal of AP-2026-11873 (BYD Han, Chengdu) 18 % above the model: risk check",
        [(4.2, "marketing", BACKLOG, "marketing"), (4.0, "risk", BACKLOG, "marketing")],
        type=CardType.REQUEST,
        department="marketing",
        labels=["appraisal", "chengdu"],
        assignees=["risk"],
        due_in_days=1,
        description="The dealer's appraisal is 18 % above our valuation model; the loan is on "
        "hold until risk confirms the value or asks for a second appraisal.",
    ),
    Story(
        "Incident: credit bureau API timeouts (p95 4.2 s), approvals queueing",
        [(0.2, "tech", BACKLOG, "risk")],
        type=CardType.INCIDENT,
        department="tech",
        labels=["bureau", "p1"],
        assignees=["tech"],
        due_in_days=0,
        description="Since 07:40 the bureau answers slowly; applications wait in the queue. "
        "Risk has paused auto-approval.",
    ),
    Story(
        "Incident: loan-book nightly sync 3 h late",
        [(1.6, "tech", BACKLOG, "tech"), (1.4, "tech", DOING, "tech")],
        type=CardType.INCIDENT,
        department="tech",
        labels=["sync"],
        assignees=["tech"],
        due_in_days=0,
        checklist=[("Find the slow step", True), ("Re-run for 2 days", False)],
    ),
    Story(
        "Raise minimum credit score in SOUTH-01 after the overdue spike",
        [(6, "risk", BACKLOG, "risk"), (5, "risk", DOING, "risk")],
        department="risk",
        labels=["policy", "SOUTH-01"],
        assignees=["risk"],
        due_in_days=-2,
        checklist=[
            ("Overdue cohort analysis", True),
            ("Simulate 620 / 640", True),
            ("Draft the parameter change", False),
        ],
    ),
    Story(
        "Audit 37 inflated appraisals at the Chengdu branch",
        [(11, "risk", BACKLOG, "risk"), (3, "risk", DOING, "risk")],
        department="risk",
        labels=["appraisal", "audit", "chengdu"],
        assignees=["risk"],
        due_in_days=9,
        checklist=[
            ("Pull the files", True),
            ("Second appraisals ordered", False),
            ("Branch interview", False),
        ],
    ),
    Story(
        "Fraud rule: the same VIN on two applications within 90 days",
        [
            (9, "risk", BACKLOG, "risk"),
            (8, "risk", DOING, "risk"),
            (7, "tech", BACKLOG, "risk"),
            (4, "tech", DOING, "tech"),
        ],
        type=CardType.REQUEST,
        department="risk",
        labels=["fraud"],
        assignees=["tech"],
        due_in_days=6,
    ),
    Story(
        "Expose the valuation model version in the quote API",
        [(5, "risk", BACKLOG, "risk"), (4.5, "tech", BACKLOG, "risk")],
        type=CardType.REQUEST,
        department="risk",
        labels=["valuation", "api"],
        due_in_days=12,
    ),
    Story(
        "Attribution export for the October channel review",
        [(6, "marketing", BACKLOG, "marketing"), (5.5, "tech", WAITING, "marketing")],
        type=CardType.REQUEST,
        department="marketing",
        labels=["reporting"],
        assignees=["tech"],
        due_in_days=-3,
    ),
    Story(
        "Recalibrate the LTV limit for used EVs",
        [(12, "risk", BACKLOG, "risk"), (9, "risk", DOING, "risk"), (2, "risk", REVIEW, "risk")],
        department="risk",
        labels=["policy", "ev"],
        assignees=["risk", "manager"],
    ),
    Story(
        "Collections script for 30+ days past due",
        [(10, "risk", BACKLOG, "risk"), (6, "risk", DOING, "risk"), (1.5, "risk", REVIEW, "risk")],
        department="risk",
        labels=["collections"],
        assignees=["risk"],
        due_in_days=2,
    ),
    Story(
        "Dealer risk tiers: quarterly refresh",
        [(15, "risk", BACKLOG, "risk"), (7, "risk", DOING, "risk"), (1, "risk", REVIEW, "risk")],
        department="risk",
        labels=["dealers"],
        assignees=["risk"],
    ),
    Story(
        "Q4 dealer promotion: 0 % down payment for EV buyers",
        [(8, "marketing", BACKLOG, "marketing"), (6, "marketing", DOING, "marketing")],
        department="marketing",
        labels=["promo", "ev"],
        assignees=["marketing"],
        due_in_days=5,
        checklist=[
            ("Budget approved", True),
            ("Dealer list", True),
            ("Risk limits agreed", True),
            ("Creative", False),
            ("Launch", False),
        ],
    ),
    Story(
        "WeChat mini-program landing page A/B test",
        [(7, "marketing", BACKLOG, "marketing"), (4, "marketing", DOING, "marketing")],
        department="marketing",
        labels=["wechat", "conversion"],
        assignees=["marketing", "tech"],
        due_in_days=4,
    ),
    Story(
        "Douyin live-stream with three partner dealers",
        [(5, "marketing", BACKLOG, "marketing"), (3, "marketing", DOING, "marketing")],
        department="marketing",
        labels=["promo"],
        assignees=["marketing"],
        due_in_days=10,
    ),
    Story(
        "Channel acquisition-cost report for October",
        [(9, "marketing", BACKLOG, "marketing"), (2, "marketing", DOING, "marketing")],
        department="marketing",
        labels=["reporting", "cac"],
        assignees=["marketing"],
    ),
    Story(
        "Landing-page copy for the Guangzhou auto show",
        [(4, "marketing", BACKLOG, "marketing"), (2.5, "marketing", DOING, "marketing")],
        department="marketing",
        labels=["event"],
        due_in_days=14,
    ),
    Story(
        "Retarget declined applicants with a co-borrower offer",
        [(3, "marketing", BACKLOG, "marketing"), (1, "marketing", DOING, "marketing")],
        department="marketing",
        labels=["conversion"],
        assignees=["marketing"],
    ),
    Story(
        "Spring auto-show booth plan",
        [(2, "marketing", BACKLOG, "marketing")],
        department="marketing",
        labels=["event"],
        due_in_days=40,
    ),
    Story(
        "Move the dashboards to the new Redis cluster",
        [(10, "tech", BACKLOG, "tech"), (6, "tech", DOING, "tech"), (1, "tech", REVIEW, "tech")],
        department="tech",
        labels=["infra"],
        assignees=["tech"],
    ),
    Story(
        "Rotate the bureau API certificates before 15 December",
        [(3, "tech", BACKLOG, "tech")],
        department="tech",
        labels=["infra", "security"],
        assignees=["tech"],
        due_in_days=16,
    ),
]

# Routes of the finished work: each a list of (lane, column, mover) after creation.
ROUTES: list[tuple[str, list[tuple[str, str, str]], str, str]] = [
    (
        "marketing",
        [
            ("marketing", DOING, "marketing"),
            ("risk", DOING, "marketing"),
            ("risk", REVIEW, "risk"),
            ("risk", DONE, "risk"),
        ],
        "request",
        "Pre-screen {n} leads from {channel}",
    ),
    (
        "risk",
        [
            ("risk", DOING, "risk"),
            ("tech", BACKLOG, "risk"),
            ("tech", DOING, "tech"),
            ("tech", DONE, "tech"),
        ],
        "request",
        "Rule change in the scoring service: {topic}",
    ),
    (
        "marketing",
        [
            ("marketing", DOING, "marketing"),
            ("risk", WAITING, "marketing"),
            ("marketing", DOING, "risk"),
            ("marketing", DONE, "marketing"),
        ],
        "request",
        "Promotion terms check: {channel}",
    ),
    (
        "tech",
        [("tech", DOING, "tech"), ("tech", REVIEW, "tech"), ("tech", DONE, "tech")],
        "task",
        "Platform work: {topic}",
    ),
    (
        "risk",
        [("risk", DOING, "risk"), ("risk", REVIEW, "risk"), ("risk", DONE, "risk")],
        "task",
        "Portfolio review: {region}",
    ),
    (
        "marketing",
        [
            ("marketing", DOING, "marketing"),
            ("marketing", REVIEW, "marketing"),
            ("marketing", DONE, "marketing"),
        ],
        "task",
        "Campaign: {channel}",
    ),
    (
        "tech",
        [("tech", DOING, "tech"), ("risk", REVIEW, "tech"), ("risk", DONE, "risk")],
        "incident",
        "Incident follow-up: {topic}",
    ),
]
CHANNELS = ["Autohome", "Dongchedi", "WeChat", "Douyin", "dealer walk-ins", "Baidu search"]
TOPICS = [
    "bureau retries",
    "VIN check",
    "income proof OCR",
    "queue alerts",
    "batch exports",
    "appraisal upload",
    "SMS reminders",
    "GPS tracker feed",
]
REGIONS = ["EAST-01", "EAST-02", "SOUTH-01", "WEST-01", "NORTH-01"]


class Command(BaseCommand):
    help = "Put a realistic set of demo cards on the shared kanban board (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Add the cards anyway.")
        parser.add_argument("--bulk", type=int, default=0, help="Also add N filler cards.")
        parser.add_argument("--keep-limits", action="store_true", help="Leave WIP limits as are.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        board = default_board()
        if board is None:
            self.stdout.write("No board: run the migrations first.")
            return
        users = self._users()
        if not options["keep_limits"]:
            Column.objects.filter(board=board, name=REVIEW).update(
                wip_limit=3, wip_scope="per_lane", wip_policy="hard"
            )
        # Cards people made: the system's own (alerts, flagged applications, script reviews, made
        # by the demo's earlier steps) do not mean the board was already seeded.
        has_work = (
            Card.objects.filter(board=board, archived=False, created_by__isnull=False)
            .exclude(type="alert")
            .exists()
        )
        if has_work and not options["force"]:
            self.stdout.write("The board has cards already: no demo cards added (--force).")
        else:
            rng = random.Random(options["seed"])
            done = self._done_work(board, users, rng)
            for story in OPEN_WORK:
                self._play(board, users, story)
            self.stdout.write(
                self.style.SUCCESS(f"Kanban demo: {len(OPEN_WORK)} open cards, {done} done.")
            )
        if options["bulk"]:
            self._bulk(board, users, options["bulk"], random.Random(options["seed"]))
            self.stdout.write(self.style.SUCCESS(f"Added {options['bulk']} filler cards."))

    def _users(self) -> dict[str, Any]:
        found = {u.username: u for u in get_user_model().objects.filter(
            username__in=["manager", "marketing", "risk", "tech"])}  # fmt: skip
        if len(found) < 4:
            from carloan.management.commands.seed_demo import ensure_demo_users

            found = {u.username: u for u in ensure_demo_users()}
        return found

    def _done_work(self, board: Board, users: dict[str, Any], rng: random.Random) -> int:
        stories = []
        for i in range(32):
            first, route, type_, title = ROUTES[i % len(ROUTES)]
            start = rng.uniform(6, 52)  # created this many days ago
            span = rng.uniform(0.5, min(start - 0.2, 16))  # creation to done
            fractions = sorted(rng.uniform(0.05, 0.95) for _ in route[:-1])
            steps: list[Step] = [(start, first, BACKLOG, first)]
            for fraction, (lane, column, mover) in zip([*fractions, 1.0], route, strict=True):
                steps.append((start - span * fraction, lane, column, mover))
            named = title.format(
                n=rng.randrange(80, 600),
                channel=rng.choice(CHANNELS),
                topic=rng.choice(TOPICS),
                region=rng.choice(REGIONS),
            )
            label = rng.choice(["leads", "policy", "infra", "reporting", "promo"])
            stories.append(
                Story(
                    named,
                    steps,
                    type=type_,
                    department=first,
                    labels=[label],
                    assignees=[route[-1][2]],
                    pillar=PILLAR_OF_LABEL[label],
                )
            )
        stories.sort(key=lambda s: -s.steps[0][0])
        for story in stories:
            self._play(board, users, story)
        return len(stories)

    def _play(self, board: Board, users: dict[str, Any], story: Story) -> None:
        """Create the card and make its moves through the services, then date them back."""
        now = timezone.now()
        lanes = {lane.department: lane for lane in board.lanes.all()}
        columns = {column.name: column for column in board.columns.all()}
        first_days, first_lane, first_column, creator = story.steps[0]
        created_at = now - dt.timedelta(days=first_days)
        fields: dict[str, Any] = {
            "type": story.type,
            "pillar": story.pillar,
            "department": story.department or first_lane,
            "labels": list(story.labels),
            "assignees": [users[name].pk for name in story.assignees if name in users],
            "description": story.description,
            "checklist": [{"text": text, "done": done} for text, done in story.checklist],
        }
        if story.due_in_days is not None:
            fields["due_date"] = timezone.localdate() + dt.timedelta(days=story.due_in_days)
        data = services.card_create(
            user=users[creator],
            board_id=board.pk,
            title=story.title,
            lane_id=lanes[first_lane].pk,
            column_id=columns[first_column].pk,
            **fields,
        )
        card_id = data["id"]
        first_move = now - dt.timedelta(days=story.steps[1][0]) if len(story.steps) > 1 else None
        Card.objects.filter(pk=card_id).update(
            created_at=created_at,
            updated_at=created_at,
            column_entered_at=created_at,
            responded_at=first_move,  # no incident response sample for invented history
            done_at=created_at if columns[first_column].is_done else None,
        )
        Transition.objects.filter(card_id=card_id).update(at=created_at)
        version = data["version"]
        for days, lane, column, mover in story.steps[1:]:
            at = now - dt.timedelta(days=days)
            result = services.card_move(
                user=users[mover],
                card_id=card_id,
                lane_id=lanes[lane].pk,
                column_id=columns[column].pk,
                position=10_000,
                version=version,
            )
            version = result.card["version"]
            last = Transition.objects.filter(card_id=card_id).order_by("-id").first()
            if last is not None and result.moved:
                Transition.objects.filter(pk=last.pk).update(at=at)
            Card.objects.filter(pk=card_id).update(
                updated_at=at,
                column_entered_at=at,
                done_at=at if columns[column].is_done else None,
            )
        for days, author, text in story.comments:
            comment = services.comment_add(user=users[author], card_id=card_id, text=text)
            Comment.objects.filter(pk=comment.pk).update(created_at=now - dt.timedelta(days=days))

    def _bulk(self, board: Board, users: dict[str, Any], count: int, rng: random.Random) -> None:
        """`count` filler cards spread over the cells, each cell's ranks spread afresh."""
        lanes = list(board.lanes.all())
        columns = list(board.columns.all())
        cells: list[tuple[Lane, Column]] = [(lane, column) for lane in lanes for column in columns]
        weights = [4 if c.is_done else (3 if c.position == 0 else 1) for _, c in cells]
        placed = rng.choices(cells, weights=weights, k=count)
        now = timezone.now()
        new: dict[tuple[int, int], list[Card]] = defaultdict(list)
        creator = users.get("manager")
        for i, (lane, column) in enumerate(placed):
            created = now - dt.timedelta(hours=rng.uniform(1, 50 * 24))
            new[(lane.pk, column.pk)].append(
                Card(
                    board=board,
                    lane=lane,
                    column=column,
                    rank="",
                    title=f"Filler card {i + 1}: {rng.choice(TOPICS)}",
                    department=lane.department,
                    labels=["filler"],
                    created_by=creator,
                    created_at=created,
                    updated_at=created,
                    column_entered_at=created,
                    done_at=created if column.is_done else None,
                )
            )
        with transaction.atomic():
            existing: list[Card] = []
            for (lane_id, column_id), cards in new.items():
                old = list(
                    Card.objects.filter(
                        lane_id=lane_id, column_id=column_id, archived=False
                    ).order_by("rank", "id")
                )
                keys = ranks.spread(len(old) + len(cards))
                for card, key in zip([*old, *cards], keys, strict=True):
                    card.rank = key
                existing.extend(old)
            Card.objects.bulk_update(existing, ["rank"], batch_size=1000)
            rows = [card for cards in new.values() for card in cards]
            Card.objects.bulk_create(rows, batch_size=1000)
            Transition.objects.bulk_create(
                [
                    Transition(
                        card=card,
                        board=board,
                        to_lane=card.lane,
                        to_column=card.column,
                        to_department=card.lane.department,
                        by=creator,
                        at=card.created_at,
                    )
                    for card in rows
                ],
                batch_size=2000,
            )
            Board.objects.filter(pk=board.pk).update(seq=board.seq + 1)
