"""The shared marketing–risk–tech board: boards, department lanes, columns, cards, the transition
log (every move, hand-offs marked) and the edit log.

- A board's `seq` counts the events of the board: every change takes the next number while it
  holds the board row's lock, so a client that sees a gap knows it missed one and resyncs.
- A card's place in its cell (lane × column) is its `rank`, a base-62 key compared byte-wise
  (collation "C"); ties, which the writers never make, are broken by id. `position` (0-based) is
  derived from the ranks when a card is shown.
- `field_versions` remembers, per field, the card version that last changed it: an edit sent
  against an older version still succeeds when none of its fields changed since (field-level
  optimistic locking).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from carloan.models import REGION_MAX, Department
from metrics.kpi.pillars import PILLAR_LABELS

RANK_MAX = 255


class Visibility(models.TextChoices):
    EVERYONE = "everyone", "Every signed-in user"
    DEPARTMENTS = "departments", "Its departments and members (managers always)"


class Board(models.Model):
    """A kanban board shared by departments; the default one is visible to everyone."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64, unique=True)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE
    )
    departments = ArrayField(
        models.CharField(max_length=16, choices=Department.choices), default=list, blank=True
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="kanban_boards"
    )
    seq = models.BigIntegerField(default=0, help_text="Number of the board's last event.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def group_name(self) -> str:
        """The channel-layer group of the board's live events."""
        return f"kanban.board.{self.pk}"


class Lane(models.Model):
    """A department's swimlane across the board."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="lanes")
    department = models.CharField(max_length=16, choices=Department.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["board_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["board", "department"], name="lane_board_dept_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.board} / {self.department}"


class WipScope(models.TextChoices):
    PER_LANE = "per_lane", "Per lane"
    BOARD = "board", "Across the lanes"


class WipPolicy(models.TextChoices):
    SOFT = "soft", "Warn"
    HARD = "hard", "Refuse"


class Column(models.Model):
    """A step of the work (Backlog … Done) with its work-in-progress limit."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    wip_limit = models.PositiveIntegerField(null=True, blank=True)
    wip_scope = models.CharField(max_length=16, choices=WipScope.choices, default=WipScope.PER_LANE)
    wip_policy = models.CharField(max_length=8, choices=WipPolicy.choices, default=WipPolicy.SOFT)
    is_done = models.BooleanField(default=False)

    class Meta:
        ordering = ["board_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["board", "name"], name="column_board_name_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.board} / {self.name}"


class CardType(models.TextChoices):
    TASK = "task"
    REQUEST = "request"
    INCIDENT = "incident"
    ALERT = "alert"


class Pillar(models.TextChoices):
    """The strategy's three investment pillars (`strategy.budget.*`): what a card's work builds.
    The quarterly review sets the share of finished work per pillar beside the budget split."""

    DATA_PLATFORM = "data_platform", PILLAR_LABELS["data_platform"]
    RISK_COLLABORATION = "risk_collaboration", PILLAR_LABELS["risk_collaboration"]
    AGILE_PLATFORM = "agile_platform", PILLAR_LABELS["agile_platform"]


class Card(models.Model):
    """A piece of work on the board, owned by a department, in one lane and one column."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="cards")
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="cards")
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="cards")
    rank = models.CharField(max_length=RANK_MAX, db_collation="C")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    type = models.CharField(max_length=16, choices=CardType.choices, default=CardType.TASK)
    pillar = models.CharField(
        max_length=24,
        choices=Pillar.choices,
        blank=True,
        default="",
        db_default="",
        help_text="The strategy pillar its work builds; '' when none.",
    )
    department = models.CharField(max_length=16, choices=Department.choices)
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="kanban_cards"
    )
    due_date = models.DateField(null=True, blank=True)
    labels = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    checklist = models.JSONField(default=list, blank=True)
    metric = models.CharField(max_length=64, blank=True, default="")
    alert = models.OneToOneField(
        "metrics.Alert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="kanban_card",
        help_text="The metric alert this card was opened for (at most one card per alert).",
    )
    region = models.CharField(max_length=REGION_MAX, blank=True, default="")
    script = models.ForeignKey(
        "carloan.Script",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_cards",
        help_text="The sales script this card reviews (risk control's review is a hand-off).",
    )
    application_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The flagged credit application this card is about (one card each).",
    )
    version = models.PositiveIntegerField(default=1)
    field_versions = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    column_entered_at = models.DateTimeField(help_text="When it entered its current cell.")
    done_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(
        null=True, blank=True, help_text="When it first left the column it was created in."
    )
    archived = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["board_id", "lane_id", "column_id", "rank", "id"]
        indexes = [
            models.Index(
                fields=["board", "lane", "column", "rank"],
                name="card_cell_rank_idx",
                condition=models.Q(archived=False),
            ),
            models.Index(fields=["board", "done_at"], name="card_board_done_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application_id"],
                condition=~models.Q(application_id=""),
                name="card_one_per_application",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class LinkKind(models.TextChoices):
    BLOCKS = "blocks"
    RELATES = "relates"


class CardLink(models.Model):
    """One card blocks (or relates to) another card of the same board."""

    from_card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="links_out")
    to_card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=8, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_card", "to_card", "kind"], name="cardlink_once_uniq"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_card=models.F("to_card")), name="cardlink_not_self"
            ),
        ]


class Comment(models.Model):
    """A remark someone left on a card."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["card", "created_at"], name="comment_card_idx")]


class Transition(models.Model):
    """One move of a card (its creation too, with no `from`): who moved it where and when.

    `is_handoff` marks a move into another department's lane. The departments are copied in
    (the lanes', and the mover's at the time), so flow statistics are plain SQL over this table.
    """

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="transitions")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="+")
    from_lane = models.ForeignKey(
        Lane, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_column = models.ForeignKey(
        Column, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="+")
    to_column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="+")
    from_department = models.CharField(max_length=16, blank=True, default="")
    to_department = models.CharField(max_length=16)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_department = models.CharField(
        max_length=16, blank=True, default="", help_text="The mover's department then."
    )
    at = models.DateTimeField()
    is_handoff = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["card", "at"], name="transition_card_at_idx"),
            models.Index(fields=["board", "at"], name="transition_board_at_idx"),
            models.Index(
                fields=["board", "at"],
                name="transition_handoff_idx",
                condition=models.Q(is_handoff=True),
            ),
        ]


class CardEdit(models.Model):
    """One edit of a card's fields: the version it made and each field's old and new value."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="edits")
    version = models.PositiveIntegerField()
    changes = models.JSONField(help_text="{field: [old, new]}")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=16, default="update")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["card", "at"], name="cardedit_card_at_idx")]
