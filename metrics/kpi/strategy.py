"""The strategy split against the work done (contract section 7a): the budget split managers set
(`strategy.budget.*`, a preset or their own values) beside the share of finished kanban work per
pillar, for a quarter and the quarters before it.

- **Target**: the split in force at the quarter's end (contract section 7a), now for the quarter
  under way, from the parameters' history; the review says when it changed during the quarter.
- **Work done**: cards finished in the quarter (`done_at` in it, archived ones included) that
  carry a pillar, counted per pillar, overall and per department. Cards without a pillar are
  counted apart (`untagged`): they are not part of the split. The kanban counts them and
  registers its counter here (`register_work_counter`, from its AppConfig): metrics never
  imports the kanban.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from carloan.departments import DEPARTMENTS
from carloan.parameters.models import Parameter, ParameterChange
from carloan.parameters.presets import PRESETS
from carloan.parameters.registry import BUDGET_KEYS, REGISTRY
from metrics.kpi.pillars import PILLARS
from metrics.kpi.quarters import Quarter

# (pillar, department, count) of the cards finished in [start, end); '' for no pillar.
WorkCounter = Callable[[datetime, datetime], Iterable[tuple[str, str, int]]]
_work_counters: list[WorkCounter] = []


def register_work_counter(counter: WorkCounter) -> None:
    """Let the kanban tell how many cards were finished per pillar and department (once, at app
    start)."""
    if counter not in _work_counters:
        _work_counters.append(counter)


KEY_OF = dict(zip(PILLARS, BUDGET_KEYS, strict=True))
TREND_QUARTERS = 4


def _bounds(quarter: Quarter) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(quarter.start, time.min, tzinfo=zone),
        datetime.combine(quarter.end + timedelta(days=1), time.min, tzinfo=zone),
    )


def target_split(end: datetime, now: datetime | None = None) -> dict[str, float]:
    """Each pillar's budget share (%) in force at the quarter's end (contract section 7a), or
    now for a quarter under way: from the parameters' history."""
    moment = min(end, now or timezone.now())
    changes = list(
        ParameterChange.objects.filter(key__in=BUDGET_KEYS)
        .order_by("changed_at", "id")
        .values_list("key", "changed_at", "old_value", "new_value")
    )
    current = {
        key: float(value)
        for key, value in Parameter.objects.filter(key__in=BUDGET_KEYS).values_list("key", "value")
    }
    values = {}
    for key in BUDGET_KEYS:
        before = [c for c in changes if c[0] == key and c[1] < moment]
        after = [c for c in changes if c[0] == key and c[1] >= moment]
        if before:
            values[key] = float(before[-1][3])
        elif after:
            values[key] = float(after[0][2])
        else:
            values[key] = current.get(key, float(REGISTRY[key].default))
    return {pillar: round(values[KEY_OF[pillar]], 2) for pillar in PILLARS}


def changed_within(start: datetime, end: datetime) -> bool:
    """Whether the split changed during [start, end) (the review says so beside the target)."""
    return ParameterChange.objects.filter(
        key__in=BUDGET_KEYS, changed_at__gte=start, changed_at__lt=end
    ).exists()


def _shares(counts: dict[str, int]) -> dict[str, float | None]:
    total = sum(counts.values())
    return {p: round(100 * counts.get(p, 0) / total, 1) if total else None for p in PILLARS}


def done_work(start: datetime, end: datetime) -> dict[str, Any]:
    """Cards finished in [start, end): per pillar overall and per department, with shares (%)."""
    overall: dict[str, int] = defaultdict(int)
    by_department: dict[str, dict[str, int]] = {d: defaultdict(int) for d in DEPARTMENTS}
    untagged = 0
    for counter in _work_counters:
        for pillar, department, count in counter(start, end):
            if not pillar:
                untagged += count
                continue
            overall[pillar] += count
            by_department.setdefault(department, defaultdict(int))[pillar] += count
    return {
        "counts": {p: overall.get(p, 0) for p in PILLARS},
        "total": sum(overall.values()),
        "untagged": untagged,
        "shares": _shares(overall),
        "departments": {
            department: {
                "counts": {p: counts.get(p, 0) for p in PILLARS},
                "total": sum(counts.values()),
                "shares": _shares(counts),
            }
            for department, counts in by_department.items()
        },
    }


def matching_preset(split: dict[str, float]) -> str | None:
    """The preset whose split this is (to 0.5 points), or None for a manual split."""
    for name, preset in PRESETS.items():
        if all(abs(float(preset.values[KEY_OF[p]]) - split[p]) < 0.5 for p in PILLARS):
            return name
    return None


def strategy_split(quarter: Quarter, now: datetime | None = None) -> dict[str, Any]:
    """The quarter's target split and work done, its gap per pillar (done − target, points),
    and the same for the quarters before it (oldest first)."""
    now = now or timezone.now()
    trend = []
    for each in quarter.last(TREND_QUARTERS):
        start, end = _bounds(each)
        target = target_split(end, now)
        done = done_work(start, end)
        trend.append(
            {
                "quarter": each.label,
                "target": target,
                "shares": done["shares"],
                "total": done["total"],
            }
        )
    # the last of the trend is the quarter itself
    start, end = _bounds(quarter)
    return {
        "quarter": quarter.label,
        "target": target,
        "changed": changed_within(start, min(end, now)),
        "preset": matching_preset(target),
        "done": done,
        "gap": {
            p: round(done["shares"][p] - target[p], 1) if done["shares"][p] is not None else None
            for p in PILLARS
        },
        "trend": trend,
    }
