"""The board's writers: versions and 409s, field-level merge, hand-offs, WIP limits, rank keys
(incl. a rebalance as one event), concurrent moves from many threads, event numbers, alert
cards and the incident response sample. Real PostgreSQL; broadcasts are caught at the channel
layer's door after commit."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from carloan.models import Sample
from kanban import ranks, services
from kanban.models import Card, CardEdit, Column, Transition
from metrics.models import Alert
from metrics.selectors import alert_data
from metrics.signals import alerts_raised
from tests.factories import make_user
from tests.test_kanban_support import (
    cell_titles,
    column,
    lane,
    move,
    new_card,
    shared_board,
    version_of,
)

# --- rank keys (pure) ---------------------------------------------------------------------------


def test_a_key_between_two_keys_always_exists_and_sorts_between() -> None:
    rng = random.Random(7)
    keys = [ranks.rank_between(None, None)]
    for _ in range(3000):
        i = rng.randint(0, len(keys))
        lo = keys[i - 1] if i else None
        hi = keys[i] if i < len(keys) else None
        key = ranks.rank_between(lo, hi)
        assert (lo is None or lo < key) and (hi is None or key < hi)
        assert not key.endswith("0")
        keys.insert(i, key)
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_keys_compare_bytewise_digits_then_upper_then_lower() -> None:
    assert "".join(sorted(ranks.DIGITS)) == ranks.DIGITS
    assert ranks.rank_between("9", "A") == "9V"
    assert ranks.rank_between("Z", "a") == "ZV"


@pytest.mark.parametrize("count", [1, 2, 61, 62, 100, 2000])
def test_spread_gives_short_distinct_ordered_keys(count: int) -> None:
    keys = ranks.spread(count)
    assert keys == sorted(keys) and len(set(keys)) == count
    assert all(key and not key.endswith("0") for key in keys)
    assert max(map(len, keys)) <= 4


def test_bad_neighbours_are_refused() -> None:
    with pytest.raises(ValueError):
        ranks.rank_between("b", "a")
    with pytest.raises(ValueError):
        ranks.rank_between("a0", None)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every event the writers hand to the broadcast helper, caught when it would leave: after
    commit (the socket tests follow events through the real helper and channel layer)."""
    events: list[tuple[str, dict[str, Any]]] = []

    def broadcast(group: str, event: Any) -> None:
        transaction.on_commit(lambda: events.append((group, dict(event))), robust=True)

    monkeypatch.setattr(services, "broadcast", broadcast)
    return events


pytestmark = pytest.mark.django_db


# --- create, versions, field-level merge ---------------------------------------------------------


def test_a_new_card_is_last_in_its_cell_with_version_1_and_one_event(
    marketing_head: User, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    board = shared_board()
    with django_capture_on_commit_callbacks(execute=True):
        first = new_card(marketing_head, "Spring campaign leads")
        second = new_card(marketing_head, "Dealer referral form", labels=["q2"])
    assert (first["position"], second["position"]) == (0, 1)
    assert (second["version"], second["labels"], second["department"]) == (1, ["q2"], "marketing")
    assert [e["type"] for _, e in sent] == ["card.created", "card.created"]
    assert [e["seq"] for _, e in sent] == [1, 2]
    assert {group for group, _ in sent} == {board.group_name}
    assert sent[1][1]["card"] == second
    created = Transition.objects.get(card_id=first["id"])
    assert created.from_lane is None and not created.is_handoff


def test_a_stale_edit_of_another_field_is_merged(
    marketing_head: User, risk_head: User, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    card = new_card(marketing_head, "Lead scoring review")
    with django_capture_on_commit_callbacks(execute=True):
        a = services.card_update(
            user=marketing_head, card_id=card["id"], version=1, changes={"title": "Lead scoring"}
        )
        b = services.card_update(
            user=risk_head,
            card_id=card["id"],
            version=1,  # stale: marketing made version 2 meanwhile, but of another field
            changes={"description": "Risk wants the cut-off table", "labels": ["risk"]},
        )
    assert a["version"] == 2 and b["version"] == 3
    assert (b["title"], b["description"], b["labels"]) == (
        "Lead scoring",
        "Risk wants the cut-off table",
        ["risk"],
    )
    assert [e["changed"] for _, e in sent] == [["title"], ["description", "labels"]]
    edits = list(CardEdit.objects.filter(card_id=card["id"]).values_list("version", "changes"))
    assert edits[0] == (2, {"title": ["Lead scoring review", "Lead scoring"]})


def test_a_stale_edit_of_the_same_field_is_a_conflict_with_the_current_card(
    marketing_head: User, risk_head: User, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    card = new_card(marketing_head, "Appraisal backlog")
    services.card_update(user=marketing_head, card_id=card["id"], version=1, changes={"title": "A"})
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.Conflict) as caught,
    ):
        services.card_update(
            user=risk_head, card_id=card["id"], version=1, changes={"title": "B", "labels": ["x"]}
        )
    assert caught.value.body()["fields"] == ["title"]
    card = caught.value.body()["card"]
    assert card["title"] == "A" and card["version"] == 2
    assert sent == []  # nothing committed, nothing sent
    assert Card.objects.get(pk=card["id"]).labels == []


def test_an_edit_after_a_move_merges_but_a_stale_move_after_a_move_conflicts(
    marketing_head: User, risk_head: User
) -> None:
    card = new_card(marketing_head, "Handover")
    move(marketing_head, card["id"], "marketing", "In progress", version=1)
    edited = services.card_update(
        user=risk_head, card_id=card["id"], version=1, changes={"due_date": "2026-12-01"}
    )
    assert edited["due_date"] == "2026-12-01" and edited["version"] == 3
    with pytest.raises(services.Conflict) as caught:
        move(risk_head, card["id"], "risk", "Backlog", version=1)
    assert set(caught.value.body()["fields"]) == {"lane", "column", "rank"}
    # A move against the version after the move is fine although the due date changed since.
    moved = move(risk_head, card["id"], "risk", "Backlog", version=2)
    assert moved.card["lane"] == lane(shared_board(), "risk").pk


def test_an_edit_that_changes_nothing_sends_nothing_and_keeps_the_version(
    marketing_head: User, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    card = new_card(marketing_head, "Same")
    with django_capture_on_commit_callbacks(execute=True):
        same = services.card_update(
            user=marketing_head, card_id=card["id"], version=1, changes={"title": "Same"}
        )
    assert same["version"] == 1 and sent == []
    assert shared_board().__class__.objects.get(pk=card["board"]).seq == 1


def test_every_caller_meets_the_same_limits_the_api_documents(marketing_head: User) -> None:
    """The service is the one place the rules live: a caller that skips the API (a listener,
    the demo) is held to the limits the serializers document from the same constants."""
    from kanban.api import CardFieldsSerializer

    documented = CardFieldsSerializer().fields
    assert documented["description"].max_length == services.DESCRIPTION_MAX
    assert documented["labels"].max_length == services.MAX_LABELS
    card = new_card(marketing_head, "Limits")
    with pytest.raises(ValidationError) as caught:
        services.card_update(
            user=marketing_head,
            card_id=card["id"],
            version=1,
            changes={
                "description": "x" * (services.DESCRIPTION_MAX + 1),
                "labels": [f"l{i}" for i in range(services.MAX_LABELS + 1)],
            },
        )
    assert set(caught.value.message_dict) == {"description", "labels"}


def test_bad_values_are_refused_with_field_errors(marketing_head: User) -> None:
    card = new_card(marketing_head, "Checklist")
    with pytest.raises(ValidationError) as caught:
        services.card_update(
            user=marketing_head,
            card_id=card["id"],
            version=1,
            changes={"type": "epic", "checklist": [{"done": True}], "metric": "nope"},
        )
    assert set(caught.value.message_dict) == {"type", "checklist", "metric"}
    updated = services.card_update(
        user=marketing_head,
        card_id=card["id"],
        version=1,
        changes={"checklist": [{"text": "call dealer", "done": True}], "assignees": []},
    )
    assert updated["checklist"] == [{"text": "call dealer", "done": True}]


def test_viewers_may_not_write(viewer: User, marketing_head: User) -> None:
    card = new_card(marketing_head, "Read only")
    with pytest.raises(PermissionDenied):
        new_card(viewer, "Nope")
    with pytest.raises(PermissionDenied):
        move(viewer, card["id"], "risk", "Backlog")
    with pytest.raises(PermissionDenied):
        services.comment_add(user=viewer, card_id=card["id"], text="hi")


def test_a_department_head_may_move_another_departments_card(
    marketing_head: User, tech_head: User
) -> None:
    card = new_card(marketing_head, "Landing page slow")
    assert move(tech_head, card["id"], "tech", "In progress").card["department"] == "marketing"


# --- hand-offs, WIP limits -----------------------------------------------------------------------


def test_a_move_into_another_departments_lane_is_a_recorded_handoff(
    marketing_head: User, risk_head: User
) -> None:
    card = new_card(marketing_head, "Appraisal for lead 42")
    same_lane = move(marketing_head, card["id"], "marketing", "Waiting for another department")
    handoff = move(marketing_head, card["id"], "risk", "Waiting for another department")
    back = move(risk_head, card["id"], "risk", "In progress")
    assert (same_lane.handoff, handoff.handoff, back.handoff) == (False, True, False)
    log = list(
        Transition.objects.filter(card_id=card["id"])
        .order_by("id")
        .values_list("from_department", "to_department", "by_department", "is_handoff")
    )
    assert log == [
        ("", "marketing", "marketing", False),
        ("marketing", "marketing", "marketing", False),
        ("marketing", "risk", "marketing", True),
        ("risk", "risk", "risk", False),
    ]
    assert back.card["handoff_count"] == 1


def _limit(name: str, limit: int, policy: str, scope: str = "per_lane") -> Column:
    col = column(shared_board(), name)
    col.wip_limit, col.wip_policy, col.wip_scope = limit, policy, scope
    col.save()
    return col


def test_a_hard_wip_limit_refuses_the_move_with_a_clear_message(marketing_head: User) -> None:
    _limit("In progress", 2, "hard")
    cards = [new_card(marketing_head, f"Task {i}") for i in range(3)]
    move(marketing_head, cards[0]["id"], "marketing", "In progress")
    move(marketing_head, cards[1]["id"], "marketing", "In progress")
    with pytest.raises(ValidationError) as caught:
        move(marketing_head, cards[2]["id"], "marketing", "In progress")
    message = caught.value.message_dict["column"][0]
    assert "WIP limit" in message and "at most 2" in message and "has 2" in message
    assert Card.objects.get(pk=cards[2]["id"]).column.name == "Backlog"
    # Per lane: risk's lane of the same column still has room; moving within the cell is fine.
    move(marketing_head, cards[2]["id"], "risk", "In progress")
    move(marketing_head, cards[0]["id"], "marketing", "In progress", position=1)


def test_a_board_wide_limit_counts_every_lane(marketing_head: User) -> None:
    _limit("Review", 1, "hard", scope="board")
    a, b = new_card(marketing_head, "A"), new_card(marketing_head, "B", "tech")
    move(marketing_head, a["id"], "marketing", "Review")
    with pytest.raises(ValidationError):
        move(marketing_head, b["id"], "tech", "Review")
    # Changing lane inside the column does not add to a board-wide count.
    assert move(marketing_head, a["id"], "risk", "Review").warnings == []


def test_a_soft_wip_limit_moves_with_a_warning_in_answer_and_event(
    marketing_head: User, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    _limit("In progress", 1, "soft")
    a, b = new_card(marketing_head, "A"), new_card(marketing_head, "B")
    move(marketing_head, a["id"], "marketing", "In progress")
    with django_capture_on_commit_callbacks(execute=True):
        result = move(marketing_head, b["id"], "marketing", "In progress")
    assert result.card["column"] == column(shared_board(), "In progress").pk
    assert len(result.warnings) == 1 and "WIP limit" in result.warnings[0]
    assert sent[-1][1]["warnings"] == result.warnings


# --- ranks on the board --------------------------------------------------------------------------


def test_positions_follow_moves_within_and_between_cells(marketing_head: User) -> None:
    board = shared_board()
    ids = {t: new_card(marketing_head, t)["id"] for t in "ABCD"}
    move(marketing_head, ids["D"], "marketing", "Backlog", position=0)
    assert cell_titles(board, "marketing", "Backlog") == ["D", "A", "B", "C"]
    move(marketing_head, ids["A"], "marketing", "Backlog", position=3)
    assert cell_titles(board, "marketing", "Backlog") == ["D", "B", "C", "A"]
    moved = move(marketing_head, ids["B"], "risk", "Backlog", position=7)  # clamped to the end
    assert moved.card["position"] == 0
    new_card(marketing_head, "E", "risk", position=0)
    assert cell_titles(board, "risk", "Backlog") == ["E", "B"]


def test_a_rebalance_keeps_the_order_and_is_one_event(
    marketing_head: User,
    sent: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(ranks, "MAX_RANK_LENGTH", 2)
    board = shared_board()
    for title in ["1", "2", "3", "4"]:
        new_card(marketing_head, title)
    movers = [new_card(marketing_head, "M")["id"], new_card(marketing_head, "N")["id"]]
    rebalanced = 0
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        # Squeeze M and N in turn right after "1": each new key lies between "1" and the last.
        for i in range(20):
            result = move(marketing_head, movers[i % 2], "marketing", "Backlog", position=1)
            rebalanced += result.rebalanced
    assert rebalanced >= 1
    assert len(sent) == 20  # one event per move, rebalances included
    assert sum(e["rebalanced"] for _, e in sent) == rebalanced
    titles = cell_titles(board, "marketing", "Backlog")
    assert titles == ["1", "N", "M", "2", "3", "4"]  # N moved last
    keys = list(Card.objects.filter(lane__department="marketing").values_list("rank", flat=True))
    assert len(set(keys)) == len(keys) and max(map(len, keys)) <= 2


def test_card_positions_in_the_board_answer_are_0_based_per_cell(marketing_head: User) -> None:
    from kanban.selectors import board_snapshot

    for title in "ABC":
        new_card(marketing_head, title)
    new_card(marketing_head, "R", "risk")
    cards = board_snapshot(shared_board())["cards"]
    assert sorted((c["title"], c["position"]) for c in cards) == [
        ("A", 0),
        ("B", 1),
        ("C", 2),
        ("R", 0),
    ]


# --- sequence numbers ------------------------------------------------------------------------


def test_every_change_takes_the_next_number_and_a_refused_one_gives_it_back(
    marketing_head: User, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    _limit("Review", 0, "hard")
    with django_capture_on_commit_callbacks(execute=True):
        card = new_card(marketing_head, "Numbered")
        move(marketing_head, card["id"], "risk", "In progress")
        with pytest.raises(ValidationError):
            move(marketing_head, card["id"], "risk", "Review")
        services.comment_add(user=marketing_head, card_id=card["id"], text="risk, please look")
        other = new_card(marketing_head, "Other")
        services.link_add(
            user=marketing_head, card_id=card["id"], to_card_id=other["id"], kind="blocks"
        )
        services.card_delete(user=marketing_head, card_id=other["id"])
    assert [(e["type"], e["seq"]) for _, e in sent] == [
        ("card.created", 1),
        ("card.moved", 2),
        ("card.updated", 3),
        ("card.created", 4),
        ("card.updated", 5),
        ("card.deleted", 6),
    ]
    assert sent[2][1]["card"]["comment_count"] == 1
    assert sent[4][1]["card"]["links"][0]["to"] == other["id"]
    assert sent[5][1]["card"]["archived"] is True


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_many_threads_moving_at_once_leave_every_card_once_in_a_distinct_place() -> None:
    """12 people move 60 cards at random for a while; afterwards every card is on the board
    exactly once, ranks are distinct in every cell, and the event numbers have no gap."""
    board = shared_board()
    users = [make_user(f"head{i}", "department_head", "marketing") for i in range(12)]
    ids = [new_card(users[0], f"card {i}")["id"] for i in range(60)]
    seq_before = board.__class__.objects.get(pk=board.pk).seq
    cells = [(d, c) for d in ("marketing", "risk", "tech") for c in ("Backlog", "In progress")]
    errors: list[BaseException] = []
    conflicts = Counter[str]()
    moves_done = Counter[str]()
    start = threading.Barrier(len(users))

    def work(index: int, user: User) -> None:
        rng = random.Random(index)
        start.wait()
        try:
            for _ in range(15):
                department, column_name = rng.choice(cells)
                try:
                    result = move(
                        user,
                        rng.choice(ids),
                        department,
                        column_name,
                        position=rng.randint(0, 12),
                    )
                    moves_done["ok" if result.moved else "same"] += 1
                except services.Conflict:
                    conflicts["stale"] += 1  # read a version, someone moved it first
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    cards = list(
        Card.objects.filter(board=board, archived=False).values("id", "lane", "column", "rank")
    )
    assert sorted(c["id"] for c in cards) == sorted(ids)
    places = Counter((c["lane"], c["column"], c["rank"]) for c in cards)
    assert max(places.values()) == 1
    assert moves_done["ok"] > 50
    board.refresh_from_db()
    assert board.seq == seq_before + moves_done["ok"]
    moved_transitions = Transition.objects.filter(card__board=board, from_lane__isnull=False)
    assert moved_transitions.count() <= moves_done["ok"]


# --- alerts become cards -------------------------------------------------------------------------


def _alert(metric: str, level: str, day: dt.date, region: str = "SOUTH-01") -> dict[str, Any]:
    alert = Alert.objects.create(
        metric=metric,
        region=region,
        day=day,
        level=level,
        value=6.9,
        baseline=5.0,
        delta_pct=38.0,
        raised_at=timezone.now(),
    )
    return dict(alert_data(alert))


def test_a_critical_alert_opens_one_card_in_the_owning_lane(
    sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    board = shared_board()
    today = timezone.localdate()
    alert = _alert("overdue_rate", "critical", today - dt.timedelta(days=1))
    existing = new_card(make_user("rita", "department_head", "risk"), "Old risk work", "risk")
    with django_capture_on_commit_callbacks(execute=True):
        alerts_raised.send(sender=Alert, alerts=[alert])
        alerts_raised.send(sender=Alert, alerts=[alert])  # a second refresh: no second card
    card = Card.objects.get(alert_id=alert["id"])
    assert Card.objects.filter(alert_id=alert["id"]).count() == 1
    assert (card.lane.department, card.column.name, card.type) == ("risk", "Backlog", "alert")
    assert card.title == (f"Overdue rate critical in SOUTH-01 on {alert['day']} (+38 %)")
    assert (card.metric, card.region, card.created_by) == ("overdue_rate", "SOUTH-01", None)
    assert cell_titles(board, "risk", "Backlog") == [card.title, existing["title"]]
    assert Alert.objects.get(pk=alert["id"]).card_id == card.pk
    assert [e["type"] for _, e in sent] == ["card.created"]
    assert sent[0][1]["card"]["metric"] == "overdue_rate"


def test_marketing_and_tech_alerts_go_to_their_lanes_and_warnings_or_old_days_open_none() -> None:
    shared_board()
    today = timezone.localdate()
    cac = _alert("customer_acquisition_cost", "critical", today, "all")
    api = _alert("api_response_time_p95", "critical", today, "all")
    warn = _alert("npl_ratio", "warn", today)
    old = _alert(
        "npl_ratio", "critical", today - dt.timedelta(days=services.ALERT_CARD_MAX_AGE_DAYS + 1)
    )
    alerts_raised.send(sender=Alert, alerts=[cac, api, warn, old])
    lanes = dict(Card.objects.values_list("alert_id", "lane__department"))
    assert lanes == {cac["id"]: "marketing", api["id"]: "tech"}
    assert Card.objects.get(alert_id=cac["id"]).title.startswith(
        "Customer acquisition cost critical in all regions on"
    )


def test_the_next_critical_days_of_an_episode_join_its_open_card(tech_head: User) -> None:
    board = shared_board()
    today = timezone.localdate()
    first = _alert("overdue_rate", "critical", today - dt.timedelta(days=2))
    second = _alert("overdue_rate", "critical", today - dt.timedelta(days=1))
    elsewhere = _alert("overdue_rate", "critical", today, "EAST-01")
    alerts_raised.send(sender=Alert, alerts=[first, second, elsewhere])
    card = Card.objects.get(alert_id=first["id"])
    # One card for SOUTH-01's episode, holding both days' alerts; EAST-01 has its own.
    assert Card.objects.filter(board=board, type="alert").count() == 2
    assert Alert.objects.get(pk=second["id"]).card_id == card.pk
    assert Card.objects.get(alert_id=elsewhere["id"]).region == "EAST-01"
    # Once the episode's card is done, a new critical day opens a new card.
    move(tech_head, card.pk, "risk", "Done")
    third = _alert("overdue_rate", "critical", today)
    alerts_raised.send(sender=Alert, alerts=[third])
    assert Card.objects.get(alert_id=third["id"]).pk != card.pk


# --- incident response -------------------------------------------------------------------------


def test_an_incident_leaving_its_first_column_records_its_response_time_once(
    tech_head: User,
) -> None:
    card = new_card(tech_head, "Credit bureau timeouts", "tech", type="incident", region="EAST-01")
    Card.objects.filter(pk=card["id"]).update(created_at=timezone.now() - dt.timedelta(hours=5))
    move(tech_head, card["id"], "risk", "Backlog")  # a lane change is not leaving the column
    assert not Sample.objects.filter(metric="incident_response_time").exists()
    move(tech_head, card["id"], "tech", "In progress")
    move(tech_head, card["id"], "tech", "Backlog")
    move(tech_head, card["id"], "tech", "Review")
    samples = list(Sample.objects.filter(metric="incident_response_time"))
    assert len(samples) == 1
    assert samples[0].value == pytest.approx(5.0, abs=0.01)
    assert (samples[0].region, samples[0].source) == ("EAST-01", "kanban")


def test_tasks_record_no_response_sample(tech_head: User) -> None:
    card = new_card(tech_head, "Upgrade PostgreSQL", "tech")
    move(tech_head, card["id"], "tech", "In progress")
    assert not Sample.objects.exists()
    assert version_of(card["id"]) == 2
