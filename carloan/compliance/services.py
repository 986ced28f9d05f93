"""Writes of risk collaboration (contract section 9): library edits, scripts and their review,
calls and their checks, reviewers' verdicts.

Who may do what:
- the library: risk control's department head, or a manager (every edit versioned with who and
  why, revertible);
- scripts: marketing's head (or a manager) drafts, edits, submits and retires; risk control's
  head (or a manager) approves, asks for changes, or sends an approved script back to review;
- calls: department heads and managers POST them (or import them); risk control's head or a
  manager gives verdicts on findings.

A script's review is a hand-off card on the kanban: `script_review_opened` is sent when a script
goes to review (submitted, or turned `needs_review` by a parameter or library change) and
`script_review_closed` when risk decides; the kanban listens (it may import us; we may not import
it). Every change is broadcast to the `compliance` group after commit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from carloan.compliance import selectors
from carloan.compliance.checker import MAX_TEXT, PROMOTIONS_KEY, Result, check_text
from carloan.compliance.events import COMPLIANCE_GROUP
from carloan.compliance.learned import LearnedModel
from carloan.compliance.library import BY_KEY
from carloan.compliance.models import (
    Call,
    FindingVerdict,
    PhraseCategory,
    PhraseCategoryChange,
    Script,
    ScriptRevision,
    ScriptState,
    Severity,
    TrainedModel,
    Verdict,
)
from carloan.compliance.patterns import pattern_problems
from carloan.departments import MARKETING, RISK
from carloan.errors import Conflict
from carloan.parameters.selectors import parameter_values
from carloan.realtime import broadcast
from carloan.roles import DEPARTMENT_HEAD, _groups, department_of, is_manager
from carloan.signals import script_review_closed, script_review_opened

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_CHANNEL = 32
MAX_NOTE = 2_000
CHECK_BATCH = 500


# --- who may ------------------------------------------------------------------------------------


def _is_head_of(user: Any, department: str) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and DEPARTMENT_HEAD in _groups(user)
        and department_of(user) == department
    )


def may_edit_library(user: Any) -> bool:
    return is_manager(user) or _is_head_of(user, RISK)


def may_write_scripts(user: Any) -> bool:
    return is_manager(user) or _is_head_of(user, MARKETING)


def may_review_scripts(user: Any) -> bool:
    return is_manager(user) or _is_head_of(user, RISK)


def may_give_verdicts(user: Any) -> bool:
    return is_manager(user) or _is_head_of(user, RISK)


def may_post_calls(user: Any) -> bool:
    return is_manager(user) or bool(
        user is not None and user.is_authenticated and DEPARTMENT_HEAD in _groups(user)
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- checking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveCheck:
    result: Result
    against: dict[str, Any]


def check(text: str) -> LiveCheck:
    """`text` checked against the library, the parameters and the model as they stand now."""
    categories, versions = selectors.live_library()
    parameters = parameter_values()
    result = check_text(text, parameters=parameters, categories=categories, model=current_model())
    return LiveCheck(result, _against(parameters, versions))


# --- the learned model in use -------------------------------------------------------------------

_loaded: dict[int, LearnedModel] = {}
_loaded_lock = threading.Lock()


def current_model() -> LearnedModel | None:
    """The active model trained here (read once per process), or None for the shipped one."""
    active = TrainedModel.objects.filter(active=True).values_list("pk", flat=True).first()
    if active is None:
        return None
    with _loaded_lock:
        found = _loaded.get(active)
    if found is None:
        document = TrainedModel.objects.filter(pk=active).values_list("document", flat=True).first()
        if document is None:
            return None
        found = LearnedModel.from_json(document)
        with _loaded_lock:
            _loaded.clear()  # one model in memory: the active one
            _loaded[active] = found
    return found


def _f1(score: Any) -> float:
    precision, recall = score.precision or 0.0, score.recall or 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def model_retrain(
    *, minimum_verdicts: int = 0, files: Sequence[Path] | None = None
) -> TrainedModel | None:
    """Train a model on the shipped labelled sets and every reviewer's verdict; keep it, and
    make it the one in use when it does no worse (F1 of precision and recall of "not
    compliant", within half a point) on the development set than the model in use. None when
    there are fewer than `minimum_verdicts` verdicts (nothing new to learn from). `files`: the
    labelled sets (default: the shipped training sets)."""
    from carloan.compliance.evaluation import SETS, evaluate, load
    from carloan.compliance.learned import shipped_model, train, training_examples

    verdicts = verdict_examples()
    if len(verdicts) < minimum_verdicts:
        return None
    examples = training_examples(files) + verdicts
    in_use = current_model() or shipped_model()
    # The finder's threshold and the verifier's veto were chosen by cross-validation when the
    # shipped model was trained on the same labelled sets: kept, so the week's run trains once.
    model = train(
        examples,
        threshold=float(in_use.thresholds.min()) if in_use else None,
        veto=in_use.veto if in_use else None,
    )
    dev = load(SETS["dev"])
    new = evaluate(dev, model=model).not_compliant
    old = evaluate(dev, model=in_use, use_model=in_use is not None).not_compliant
    better = _f1(new) >= _f1(old) - 0.005
    with transaction.atomic():
        if better:
            TrainedModel.objects.filter(active=True).update(active=False)
        row = TrainedModel.objects.create(
            trained_at=timezone.now(),
            examples=len(examples),
            verdicts=len(verdicts),
            dev_precision=new.precision,
            dev_recall=new.recall,
            replaced_precision=old.precision,
            replaced_recall=old.recall,
            active=better,
            note="in use" if better else "kept aside: worse than the model in use on the dev set",
            document=model.to_json(),
        )
    logger.info(
        "compliance model %s trained on %s examples (%s verdicts): dev %.3f/%.3f against "
        "%.3f/%.3f, %s",
        row.pk,
        row.examples,
        row.verdicts,
        new.precision or 0,
        new.recall or 0,
        old.precision or 0,
        old.recall or 0,
        row.note,
    )
    return row


def _read_parameters() -> set[str]:
    """The live parameters the check reads: those of the categories, and whether promotions
    are on at all (off: no discount may be promised)."""
    return {c.parameter for c in BY_KEY.values() if c.parameter} | {PROMOTIONS_KEY}


def _against(parameters: Mapping[str, Any], versions: Mapping[str, int]) -> dict[str, Any]:
    wanted = _read_parameters()
    return {
        "parameters": {key: parameters.get(key) for key in sorted(wanted)},
        "library": dict(versions),
    }


def _findings(result: Result) -> list[dict[str, Any]]:
    return [f.as_dict() for f in result.findings]


# --- the library --------------------------------------------------------------------------------


def _category_fields(key: str) -> dict[str, Any]:
    data = selectors.library_category(key)
    return {k: data[k] for k in ("severity", "patterns", "suggestion_en", "suggestion_zh")}


def _clean_category_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "severity" in changes:
        if changes["severity"] not in Severity.values:
            errors["severity"] = [f"Give one of {', '.join(Severity.values)}."]
        cleaned["severity"] = changes["severity"]
    for name in ("suggestion_en", "suggestion_zh"):
        if name in changes:
            value = changes[name]
            if not isinstance(value, str) or not value.strip():
                errors[name] = ["A suggested rewrite may not be empty."]
            elif len(value) > MAX_NOTE:
                errors[name] = [f"At most {MAX_NOTE:,} characters."]
            else:
                cleaned[name] = value.strip()
    if "patterns" in changes:
        patterns = changes["patterns"]
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            errors["patterns"] = ["Give a list of regular expressions."]
        elif not patterns:
            errors["patterns"] = ["A category needs at least one pattern."]
        else:
            problems = pattern_problems(patterns)
            if problems:
                errors["patterns"] = [
                    f"pattern {index + 1} ({patterns[index][:60] if index < len(patterns) else ''}"
                    f"): {why}"
                    for index, why in sorted(problems.items())
                ]
            cleaned["patterns"] = list(patterns)
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        raise ValidationError(
            {"non_field_errors": ["Change at least one of severity, patterns, suggestions."]}
        )
    return cleaned


def category_update(
    *, user: Any, key: str, version: int, changes: Mapping[str, Any], reason: str
) -> dict[str, Any]:
    """Save risk control's edit of one category against the `version` the editor saw; re-check
    every script at once (after commit)."""
    _require(may_edit_library(user), "Only risk control's head and managers may edit the library.")
    if key not in BY_KEY:
        raise LookupError(key)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the library changes."]})
    cleaned = _clean_category_changes(changes)
    with transaction.atomic():
        row = PhraseCategory.objects.select_for_update().filter(key=key).first()
        current_version = row.version if row else 1
        if version != current_version:
            raise Conflict(
                f"{key} was changed (version {current_version}) since you read version {version}.",
                selectors.library_category(key),
            )
        old = _category_fields(key)
        new = {**old, **cleaned}
        if new == old:
            return selectors.library_category(key)
        now = timezone.now()
        PhraseCategory.objects.update_or_create(
            key=key,
            defaults={**new, "version": current_version + 1, "updated_by": user, "updated_at": now},
        )
        PhraseCategoryChange.objects.create(
            key=key,
            version=current_version + 1,
            old=old,
            new=new,
            reason=reason[:MAX_NOTE],
            changed_by=user,
            changed_at=now,
        )
        data = selectors.library_category(key)
        broadcast(COMPLIANCE_GROUP, {"type": "category.updated", "category": data})
        transaction.on_commit(
            lambda: scripts_recheck(reason=f"library: {key} v{current_version + 1}"), robust=True
        )
    return data


def category_revert(
    *, user: Any, key: str, to_version: int, base_version: int, reason: str
) -> dict[str, Any]:
    """Make a category again what it was at `to_version` (1 = as shipped), as a new version."""
    if key not in BY_KEY:
        raise LookupError(key)
    if to_version == 1:
        shipped = BY_KEY[key]
        target = {
            "severity": shipped.severity,
            "patterns": list(shipped.patterns),
            "suggestion_en": shipped.suggestion_en,
            "suggestion_zh": shipped.suggestion_zh,
        }
    else:
        change = PhraseCategoryChange.objects.filter(key=key, version=to_version).first()
        if change is None:
            raise ValidationError({"version": [f"{key} has no version {to_version}."]})
        target = change.new
    return category_update(
        user=user,
        key=key,
        version=base_version,
        changes=target,
        reason=reason or f"revert to version {to_version}",
    )


# --- scripts ------------------------------------------------------------------------------------


def _clean_script_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    limits = {"title": MAX_TITLE, "channel": MAX_CHANNEL, "text": MAX_TEXT}
    for name, limit in limits.items():
        if name not in changes:
            continue
        value = changes[name]
        if not isinstance(value, str) or not value.strip():
            errors[name] = [f"Give the script's {name}."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit:,} characters."]
        else:
            cleaned[name] = value.strip() if name != "text" else value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _apply_check(script: Script, live: LiveCheck) -> None:
    script.findings = _findings(live.result)
    script.compliant = live.result.compliant
    script.checked_at = timezone.now()
    script.checked_against = live.against


def _revise(script: Script, *, action: str, user: Any, note: str = "") -> None:
    was_live = (
        Script.objects.filter(pk=script.pk, state__in=selectors.LIVE_STATES).exists()
        if script.pk
        else False
    )
    script.version += 1
    script.updated_at = timezone.now()
    if user is not None:
        script.updated_by = user
    script.save()
    ScriptRevision.objects.create(
        script=script,
        version=script.version,
        action=action,
        state=script.state,
        title=script.title,
        text=script.text,
        findings=script.findings,
        note=note[:MAX_NOTE],
        by=user,
        at=script.updated_at,
    )
    data = selectors.script_data(script)
    broadcast(COMPLIANCE_GROUP, {"type": "script.updated", "script": data, "action": action})
    if was_live != (script.state in selectors.LIVE_STATES):
        # A script entered or left the field: the discrepancy rate may move.
        broadcast(COMPLIANCE_GROUP, {"type": "figures.updated", "figures": selectors.figures()})


def script_create(*, user: Any, title: str, channel: str, text: str) -> dict[str, Any]:
    """A new draft, checked at once."""
    _require(may_write_scripts(user), "Only marketing's head and managers may write scripts.")
    missing = {
        name: [f"Give the script's {name}."]
        for name, value in (("title", title), ("channel", channel), ("text", text))
        if value is None
    }
    if missing:
        raise ValidationError(missing)
    cleaned = _clean_script_fields({"title": title, "channel": channel, "text": text})
    now = timezone.now()
    with transaction.atomic():
        script = Script(
            **cleaned,
            state=ScriptState.DRAFT,
            version=0,
            created_by=user,
            created_at=now,
            updated_by=user,
            updated_at=now,
        )
        _apply_check(script, check(script.text))
        _revise(script, action="create", user=user)
    return selectors.script_data(script)


# Who may move a script from one state to another (the text's own edits come back to draft).
_TRANSITIONS: dict[tuple[str, str], str] = {
    (ScriptState.DRAFT, ScriptState.IN_REVIEW): MARKETING,
    (ScriptState.IN_REVIEW, ScriptState.APPROVED): RISK,
    (ScriptState.IN_REVIEW, ScriptState.DRAFT): RISK,
    (ScriptState.NEEDS_REVIEW, ScriptState.APPROVED): RISK,
    (ScriptState.NEEDS_REVIEW, ScriptState.DRAFT): RISK,
    (ScriptState.APPROVED, ScriptState.NEEDS_REVIEW): RISK,
    (ScriptState.DRAFT, ScriptState.RETIRED): MARKETING,
    (ScriptState.IN_REVIEW, ScriptState.RETIRED): MARKETING,
    (ScriptState.APPROVED, ScriptState.RETIRED): MARKETING,
    (ScriptState.NEEDS_REVIEW, ScriptState.RETIRED): MARKETING,
}
_ACTIONS = {
    ScriptState.IN_REVIEW: "submit",
    ScriptState.APPROVED: "approve",
    ScriptState.DRAFT: "request_changes",
    ScriptState.NEEDS_REVIEW: "send_to_review",
    ScriptState.RETIRED: "retire",
}


def script_update(
    *, user: Any, script_id: int, version: int, changes: Mapping[str, Any], note: str = ""
) -> dict[str, Any]:
    """Edit a script (title, channel, text) and/or move it to `state`, against `version`.

    - Editing the words of a script in review or approved sends it back to draft (it must be
      reviewed again); a retired script is not edited.
    - Approving a script the check finds not compliant needs a `note` saying why.
    - 409 (Conflict) when the script changed since `version`.
    """
    unknown = set(changes) - {"title", "channel", "text", "state"}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    note = (note or "").strip()
    with transaction.atomic():
        script = Script.objects.select_for_update().filter(pk=script_id).first()
        if script is None:
            raise LookupError(script_id)
        if script.version != version:
            raise Conflict(
                f"The script was changed (version {script.version}) since you read version "
                f"{version}.",
                selectors.script_data(script),
            )
        fields = _clean_script_fields({k: v for k, v in changes.items() if k != "state"})
        fields = {k: v for k, v in fields.items() if getattr(script, k) != v}
        target = changes.get("state")
        if target is not None and target not in ScriptState.values:
            raise ValidationError({"state": [f"Give one of {', '.join(ScriptState.values)}."]})
        if fields:
            _edit(script, user, fields, note)
        if target is not None and target != script.state:
            _move(script, user, target, note)
    return selectors.script_data(script)


def _edit(script: Script, user: Any, fields: Mapping[str, Any], note: str) -> None:
    _require(may_write_scripts(user), "Only marketing's head and managers may edit scripts.")
    if script.state == ScriptState.RETIRED:
        raise ValidationError({"state": ["A retired script is not edited; write a new one."]})
    was = script.state
    for name, value in fields.items():
        setattr(script, name, value)
    if "text" in fields:
        _apply_check(script, check(script.text))
    words_changed = bool({"text", "title"} & set(fields))
    if words_changed and was != ScriptState.DRAFT:
        script.state = ScriptState.DRAFT
        note = note or "edited after review: submit it again"
    _revise(script, action="edit", user=user, note=note)
    if was != script.state and was in (ScriptState.IN_REVIEW, ScriptState.NEEDS_REVIEW):
        _review_closed(script, outcome="withdrawn", user=user)


def _move(script: Script, user: Any, target: str, note: str) -> None:
    who = _TRANSITIONS.get((script.state, target))
    if who is None:
        raise ValidationError({"state": [f"A script cannot go from {script.state} to {target}."]})
    if who == RISK:
        _require(may_review_scripts(user), "Only risk control's head and managers review scripts.")
    elif target == ScriptState.RETIRED:
        _require(
            may_write_scripts(user) or may_review_scripts(user),
            "Only marketing's or risk control's head and managers may retire scripts.",
        )
    else:
        _require(may_write_scripts(user), "Only marketing's head and managers submit scripts.")
    if target == ScriptState.APPROVED:
        _apply_check(script, check(script.text))
        if not script.compliant and not note:
            raise ValidationError(
                {
                    "note": [
                        "The check finds this script not compliant: change the text, or say "
                        "in a note why it may be approved as it is."
                    ]
                }
            )
    if (
        target == ScriptState.DRAFT
        and script.state
        in (
            ScriptState.IN_REVIEW,
            ScriptState.NEEDS_REVIEW,
        )
        and not note
    ):
        raise ValidationError({"note": ["Say what marketing should change."]})
    was = script.state
    script.state = target
    script.review_note = note if target in (ScriptState.APPROVED, ScriptState.DRAFT) else ""
    _revise(script, action=_ACTIONS[target], user=user, note=note)
    if target in (ScriptState.IN_REVIEW, ScriptState.NEEDS_REVIEW):
        _review_opened(script, reason="submitted" if target == ScriptState.IN_REVIEW else note)
    elif was in (ScriptState.IN_REVIEW, ScriptState.NEEDS_REVIEW):
        outcome = {
            ScriptState.APPROVED: "approved",
            ScriptState.DRAFT: "changes_requested",
            ScriptState.RETIRED: "retired",
        }[ScriptState(target)]
        _review_closed(script, outcome=outcome, user=user)


def _review_opened(script: Script, *, reason: str, user: Any = None) -> None:
    data = selectors.script_data(script)
    transaction.on_commit(
        lambda: script_review_opened.send(sender=Script, script=data, reason=reason),
        robust=True,
    )


def _review_closed(script: Script, *, outcome: str, user: Any) -> None:
    data = selectors.script_data(script)
    transaction.on_commit(
        lambda: script_review_closed.send(sender=Script, script=data, outcome=outcome, user=user),
        robust=True,
    )


def scripts_recheck(*, reason: str) -> list[int]:
    """Check every script that is not retired against the library and parameters as they stand
    now. An approved script that turns not compliant goes to `needs_review` at once (a review
    card opens). Answers the ids of the scripts sent to review."""
    sent: list[int] = []
    categories, versions = selectors.live_library()
    parameters = parameter_values()
    model = current_model()
    against = _against(parameters, versions)
    with transaction.atomic():
        for script in Script.objects.select_for_update().exclude(state=ScriptState.RETIRED):
            result = check_text(
                script.text, parameters=parameters, categories=categories, model=model
            )
            findings = _findings(result)
            if findings == script.findings and script.checked_against == against:
                continue
            script.findings = findings
            script.compliant = result.compliant
            script.checked_at = timezone.now()
            script.checked_against = against
            if script.state == ScriptState.APPROVED and not result.compliant:
                script.state = ScriptState.NEEDS_REVIEW
                note = f"no longer compliant after a change ({reason})"
                _revise(script, action="recheck", user=None, note=note)
                _review_opened(script, reason=note)
                sent.append(script.pk)
            else:
                # The findings changed, not the state: saved without a new version, so an
                # editor's open form does not go stale for a re-check.
                Script.objects.filter(pk=script.pk).update(
                    findings=script.findings,
                    compliant=script.compliant,
                    checked_at=script.checked_at,
                    checked_against=against,
                )
                broadcast(
                    COMPLIANCE_GROUP,
                    {
                        "type": "script.updated",
                        "script": selectors.script_data(script),
                        "action": "recheck",
                    },
                )
        broadcast(COMPLIANCE_GROUP, {"type": "figures.updated", "figures": selectors.figures()})
    if sent:
        logger.info("re-check (%s) sent scripts %s to review", reason, sent)
    return sent


def on_parameters_changed(sender: Any, *, keys: Sequence[str], **kwargs: Any) -> None:
    """A parameter a category reads changed: re-check every script (scripts are few: at once,
    in the saving process, so every open page sees `needs_review` the moment it is saved)."""
    read = _read_parameters()
    if read & set(keys):
        scripts_recheck(reason="parameters: " + ", ".join(sorted(read & set(keys))))


# --- calls --------------------------------------------------------------------------------------


def transcript_hash(transcript: str) -> str:
    """As PostgreSQL's md5() of the text (the `transcript_md5` column)."""
    return hashlib.md5(transcript.encode("utf-8"), usedforsecurity=False).hexdigest()


def calls_check_pending(*, call_ids: Iterable[str] | None = None) -> int:
    """Check every call whose transcript was not checked as it stands (new, or re-imported with
    other words), in batches; broadcast each one checked. Answers how many were checked."""
    categories, _versions = selectors.live_library()
    parameters = parameter_values()
    model = current_model()
    checked = 0
    pending = Call.objects.all()
    if call_ids is not None:
        pending = pending.filter(call_id__in=list(call_ids))
    while True:
        with transaction.atomic():
            batch = list(_unchecked(pending)[:CHECK_BATCH])
            if not batch:
                break
            now = timezone.now()
            for call in batch:
                result = check_text(
                    call.transcript, parameters=parameters, categories=categories, model=model
                )
                call.findings = _findings(result)
                call.flagged = not result.compliant
                call.checked_hash = transcript_hash(call.transcript)
                call.checked_at = now
            Call.objects.bulk_update(batch, ["findings", "flagged", "checked_hash", "checked_at"])
            for call in batch:
                broadcast(
                    COMPLIANCE_GROUP, {"type": "call.checked", "call": selectors.call_data(call)}
                )
            checked += len(batch)
    if checked:
        transaction.on_commit(
            lambda: broadcast(
                COMPLIANCE_GROUP, {"type": "figures.updated", "figures": selectors.figures()}
            ),
            robust=True,
        )
    return checked


def _unchecked(calls: Any) -> Any:
    """Calls whose transcript is not the one last checked (a partial index finds them)."""
    return (
        calls.exclude(checked_hash=F("transcript_md5"))
        .select_for_update(skip_locked=True)
        .order_by("started_at", "call_id")
    )


def call_record(*, user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """Store one call (POSTed; `data` already validated) and check it at once."""
    _require(may_post_calls(user), "Only department heads and managers may send calls.")
    with transaction.atomic():
        Call.objects.update_or_create(call_id=data["call_id"], defaults=dict(data))
        calls_check_pending(call_ids=[data["call_id"]])
    found = selectors.call_detail(data["call_id"])
    assert found is not None
    return found


def verdict_record(
    *,
    user: Any,
    call_id: str,
    category: str,
    start: int,
    end: int,
    verdict: str,
    note: str = "",
) -> dict[str, Any]:
    """A reviewer says a finding of the call is right or wrong, or marks one it missed (any
    span of the transcript). Saying it again replaces the earlier verdict."""
    _require(may_give_verdicts(user), "Only risk control's head and managers give verdicts.")
    if category not in BY_KEY:
        raise ValidationError({"category": [f"{category!r} is not a category of the library."]})
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": [f"Give one of {', '.join(Verdict.values)}."]})
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_id=call_id).first()
        if call is None:
            raise LookupError(call_id)
        if not 0 <= start < end <= len(call.transcript):
            raise ValidationError(
                {"start": [f"Give 0 ≤ start < end ≤ {len(call.transcript)} (the transcript)."]}
            )
        found = any(
            (f["category"], f["start"], f["end"]) == (category, start, end)
            for f in call.findings or []
        )
        if verdict == Verdict.MISSED and found:
            raise ValidationError({"verdict": ["The check found this one: say right or wrong."]})
        if verdict != Verdict.MISSED and not found:
            raise ValidationError(
                {"start": ["The call has no finding of this category at this place."]}
            )
        FindingVerdict.objects.update_or_create(
            call=call,
            category=category,
            start=start,
            end=end,
            defaults={
                "verdict": verdict,
                "excerpt": call.transcript[start:end],
                "note": (note or "")[:MAX_NOTE],
                "by": user,
                "at": timezone.now(),
            },
        )
        data = selectors.call_detail(call_id)
        broadcast(
            COMPLIANCE_GROUP,
            {"type": "verdict.recorded", "call": data, "precision": selectors.running_precision()},
        )
    assert data is not None
    return data


def verdict_examples() -> list[Any]:
    """Reviewers' verdicts as training examples of the learned model: the sentence around a
    finding judged right is a positive of its category, judged wrong a negative, missed a
    positive."""
    from carloan.compliance.learned import Example, sentence_around

    examples = []
    for verdict in FindingVerdict.objects.select_related("call").iterator():
        text = sentence_around(verdict.call.transcript, verdict.start, verdict.end)
        category = frozenset({verdict.category})
        if verdict.verdict == Verdict.WRONG:
            examples.append(Example(text, frozenset(), category))
        else:
            examples.append(Example(text, category, frozenset()))
    return examples
