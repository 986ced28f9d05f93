"""HTTP API of the live parameters (contract section 4), thin over the services and selectors.

Status codes: 200 applied (or read); 202 a change of a `risk.*` parameter filed as a pending
change request; 400 bad input, nothing stored (field errors: `value`, or the parameter keys of a
bulk change); 403 not a manager (or approving one's own request); 404 unknown parameter, preset
or request; 409 stale `version` (the body holds the current state) or a request already decided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.errors import Conflict
from carloan.parameters import selectors, services
from carloan.parameters.calibration import credit_score_calibrate
from carloan.parameters.models import ChangeRequest
from carloan.parameters.presets import PRESETS
from carloan.parameters.registry import CATEGORIES, REGISTRY, TYPES, InvalidValue
from carloan.parameters.whatif import WHAT_IF_KEYS, parameter_what_if
from carloan.roles import ManagerOrRead

TAG = ["parameters"]


# --- shapes (for the schema; the data itself comes from the selectors) -------------------------


@extend_schema_field(
    {"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}]},
)
class ValueField(serializers.JSONField):
    """A parameter value: a number (integer, decimal, percent), a word (choice) or a boolean."""


class DescriptionSerializer(serializers.Serializer):
    en = serializers.CharField()
    zh = serializers.CharField()


class ParameterSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="e.g. `risk.max_ltv_pct`")
    value = ValueField(help_text="The current value.")
    type = serializers.ChoiceField(choices=list(TYPES))
    category = serializers.ChoiceField(choices=list(CATEGORIES))
    unit = serializers.CharField(help_text="e.g. `%`, `points`, `CNY`; '' when none.")
    min = serializers.FloatField(allow_null=True, help_text="Lowest allowed value (numbers).")
    max = serializers.FloatField(allow_null=True, help_text="Highest allowed value (numbers).")
    choices = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Allowed words (choice type)."
    )
    decimal_places = serializers.IntegerField(
        allow_null=True, help_text="Most decimals a decimal or percent value may have."
    )
    default = ValueField(help_text="The registry default (the value of version 1).")
    description = DescriptionSerializer(help_text="What the parameter means, en and zh.")
    four_eyes = serializers.BooleanField(
        help_text="True for `risk.*`: a change needs a second manager's approval."
    )
    version = serializers.IntegerField(help_text="Send it back with a change (409 when stale).")
    updated_by = serializers.CharField(
        allow_null=True, help_text="Username; null if never changed."
    )
    updated_at = serializers.DateTimeField(allow_null=True)
    pending_requests = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of pending change requests touching it."
    )


class ChangeRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ChangeRequest.Status.choices)
    source = serializers.ChoiceField(
        choices=ChangeRequest.Source.choices,
        help_text="`calibration` when auto-calibration filed it.",
    )
    action = serializers.ChoiceField(choices=ChangeRequest.Action.choices)
    changes = serializers.DictField(child=ValueField(), help_text="{key: proposed value}")
    base_versions = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="{key: version it was filed against}; approval answers 409 when one moved on.",
    )
    reason = serializers.CharField()
    requested_by = serializers.CharField(allow_null=True, help_text="null: the system.")
    requested_at = serializers.DateTimeField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    evidence = serializers.JSONField(
        allow_null=True, help_text="Calibration: the cut-off table and figures behind it."
    )


class ChangeResultSerializer(serializers.Serializer):
    change_set = serializers.UUIDField(
        allow_null=True,
        help_text="Shared by the history rows of this change; null if nothing changed.",
    )
    changed = serializers.ListField(child=serializers.CharField(), help_text="Keys changed.")
    parameters = ParameterSerializer(many=True, help_text="The new state of the changed keys.")
    request = ChangeRequestSerializer(allow_null=True, help_text="The approved request, if any.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = ParameterSerializer(many=True, help_text="Current state of the stale parameters.")
    request = ChangeRequestSerializer(allow_null=True)
    value = ValueField(required=False, help_text="Single-key calls: the current value.")
    version = serializers.IntegerField(required=False, help_text="Single-key calls: the version.")


class HistorySerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version this change made.")
    action = serializers.ChoiceField(choices=["set", "revert", "preset", "approval"])
    old_value = ValueField()
    new_value = ValueField()
    reason = serializers.CharField()
    changed_by = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()
    change_set = serializers.UUIDField()
    request = serializers.IntegerField(allow_null=True, help_text="The approved request, if any.")
    requested_by = serializers.CharField(allow_null=True)


class PresetSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = DescriptionSerializer()
    description = DescriptionSerializer()
    values = serializers.DictField(child=ValueField())
    current = serializers.BooleanField(help_text="True when the parameters hold these values.")
    versions = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The current version of each parameter the preset sets: send them back to "
        "apply it (409 if one has changed since).",
    )


class WhatIfSideSerializer(serializers.Serializer):
    value = ValueField()
    approvals = serializers.IntegerField(
        help_text="Approved applications in the window that pass this value."
    )
    decided_eligible = serializers.IntegerField(
        help_text="Approved or rejected applications in the window that pass this value."
    )
    active_loans = serializers.IntegerField(help_text="Their active loans on the snapshot day.")
    outstanding = serializers.FloatField()
    overdue_rate = serializers.FloatField(
        allow_null=True, help_text="% of outstanding with dpd >= 1; null without active loans."
    )


class WhatIfSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=list(WHAT_IF_KEYS))
    window = inline_serializer(
        "WhatIfWindow",
        {
            "start": serializers.DateField(allow_null=True),
            "end": serializers.DateField(allow_null=True),
            "days": serializers.IntegerField(),
        },
    )
    snapshot_day = serializers.DateField(allow_null=True)
    population = serializers.IntegerField(help_text="Applications approved in the window.")
    unmeasured = serializers.IntegerField(
        help_text="Of those, without a score (or an appraised loan): not judged."
    )
    current = WhatIfSideSerializer()
    proposed = WhatIfSideSerializer()
    difference = inline_serializer(
        "WhatIfDifference",
        {
            "approvals": serializers.IntegerField(),
            "overdue_rate_pp": serializers.FloatField(allow_null=True),
        },
    )


class CalibrationSerializer(serializers.Serializer):
    proposed = serializers.BooleanField(help_text="True when a change request was filed.")
    reason = serializers.CharField(help_text="The proposal, or why there is none.")
    request = ChangeRequestSerializer(allow_null=True)
    evidence = serializers.JSONField(help_text="Cut-off table (score bands) and figures.")


# --- input ---------------------------------------------------------------------------------------


class ReasonField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, default="", max_length=2000, **kwargs)


class PatchSerializer(serializers.Serializer):
    value = ValueField(help_text="The new value.")
    version = serializers.IntegerField(min_value=1, help_text="The version you changed from.")
    reason = ReasonField(help_text="Why (kept in the history).")


class BulkItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = ValueField()
    version = serializers.IntegerField(min_value=1)


class BulkPatchSerializer(serializers.Serializer):
    changes = BulkItemSerializer(many=True, allow_empty=False)
    reason = ReasonField()

    def validate_changes(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [item["key"] for item in items]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Each key at most once: {', '.join(duplicates)}.")
        return items


class RevertSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The earlier version to go back to.")
    base_version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The current version you saw: if the parameter has changed since, the revert "
        "answers 409 instead of overwriting that change. The page always sends it.",
    )
    reason = ReasonField()


class ReasonSerializer(serializers.Serializer):
    reason = ReasonField()


class PresetApplySerializer(serializers.Serializer):
    versions = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        help_text="The version you saw of each parameter the preset sets (the list's `versions`).",
    )
    reason = ReasonField()


class NoteSerializer(serializers.Serializer):
    note = ReasonField(help_text="Why approved or rejected.")


# --- helpers ---------------------------------------------------------------------------------


def _call(fn: Callable[[], Any], key: str | None = None) -> Any:
    """Run a service; a change request that does not exist is a 404. Its `Conflict` is answered
    409 by the API's exception handler; for one parameter's PATCH (`key`) the answer also says
    that parameter's value and version now."""
    try:
        return fn()
    except Conflict as exc:
        for state in (exc.current or []) if key is not None else []:
            if state["key"] == key:
                exc.extra.update(value=state["value"], version=state["version"])
        raise
    except ChangeRequest.DoesNotExist as exc:
        raise exceptions.NotFound("No such change request.") from exc


def _known(key: str) -> None:
    if key not in REGISTRY:
        raise exceptions.NotFound(f"There is no parameter {key}.")


def _outcome(outcome: services.ChangeOutcome) -> Response:
    if outcome.pending:
        assert outcome.request is not None
        return Response(
            selectors.change_request_data(outcome.request), status=status.HTTP_202_ACCEPTED
        )
    return Response(
        {
            "change_set": str(outcome.change_set) if outcome.change_set else None,
            "changed": outcome.changed,
            "parameters": (
                selectors.parameters_state(
                    outcome.changed, rows=outcome.rows, pending=outcome.pending_requests
                )
                if outcome.changed
                else []
            ),
            "request": selectors.change_request_data(outcome.request) if outcome.request else None,
        }
    )


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


ERRORS: dict[int | str, Any] = {
    400: OpenApiResponse(description="Bad input; field errors; nothing stored."),
    403: OpenApiResponse(description="Not a manager (or approving one's own request)."),
    404: OpenApiResponse(description="No such parameter, preset or request."),
    409: OpenApiResponse(
        ConflictSerializer, description="Stale version or request: the current state."
    ),
}


def _errors(*codes: int) -> dict[int | str, Any]:
    return {code: ERRORS[code] for code in codes}


# --- views -----------------------------------------------------------------------------------


class ParameterListView(APIView):
    """Every live parameter; a bulk change (how the budget split is changed)."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_list",
        summary="Every parameter with its value, type, bounds, version and pending requests",
        parameters=[
            OpenApiParameter("category", str, enum=list(CATEGORIES), description="Only this one.")
        ],
        responses={200: ParameterSerializer(many=True)},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        category = request.query_params.get("category")
        if category and category not in CATEGORIES:
            raise exceptions.ValidationError({"category": [f"One of: {', '.join(CATEGORIES)}."]})
        if not category:  # every open parameters page reads it: the cached JSON text
            return HttpResponse(selectors.parameters_state_json(), content_type="application/json")
        states = selectors.parameters_state()
        if category:
            states = [s for s in states if s["category"] == category]
        return Response(states)

    @extend_schema(
        tags=TAG,
        operation_id="parameters_bulk_change",
        summary="Change several parameters at once, atomically (e.g. the three budget shares)",
        request=BulkPatchSerializer,
        responses={
            200: ChangeResultSerializer,
            202: OpenApiResponse(
                ChangeRequestSerializer,
                description="A `risk.*` key is among them: the whole set is a pending request.",
            ),
            **_errors(400, 403, 409),
        },
    )
    def patch(self, request: Request) -> Response:
        data = _valid(BulkPatchSerializer, request.data)
        changes = {item["key"]: (item["value"], item["version"]) for item in data["changes"]}
        result = _call(
            lambda: services.parameters_change(
                changes=changes, user=request.user, reason=data["reason"]
            )
        )
        return _outcome(result)


def _single_key_errors(exc: DjangoValidationError, key: str) -> exceptions.ValidationError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"value": exc.messages}
    return exceptions.ValidationError(
        {("value" if field == key else field): messages for field, messages in errors.items()}
    )


class ParameterDetailView(APIView):
    """One parameter; change it."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_retrieve",
        responses={200: ParameterSerializer, **_errors(404)},
    )
    def get(self, request: Request, key: str) -> Response:
        _known(key)
        return Response(selectors.parameter_state(key))

    @extend_schema(
        tags=TAG,
        operation_id="parameters_change",
        summary="Change one parameter (risk.* parameters: a request for a second manager)",
        request=PatchSerializer,
        responses={
            200: ParameterSerializer,
            202: OpenApiResponse(
                ChangeRequestSerializer, description="Filed as a pending change request."
            ),
            **_errors(400, 403, 404, 409),
        },
    )
    def patch(self, request: Request, key: str) -> Response:
        _known(key)
        data = _valid(PatchSerializer, request.data)
        try:
            result = _call(
                lambda: services.parameters_change(
                    changes={key: (data["value"], data["version"])},
                    user=request.user,
                    reason=data["reason"],
                ),
                key,
            )
        except DjangoValidationError as exc:
            raise _single_key_errors(exc, key) from exc
        if result.pending:
            return _outcome(result)
        pending = (result.pending_requests or {}).get(key)
        return Response(selectors.parameter_state(key, row=result.rows.get(key), pending=pending))


class ParameterHistoryView(APIView):
    """Every change of one parameter, newest first."""

    @extend_schema(
        tags=TAG,
        operation_id="parameters_history",
        parameters=[OpenApiParameter("limit", int, description="At most this many (100; 1000).")],
        responses={200: HistorySerializer(many=True), **_errors(404)},
    )
    def get(self, request: Request, key: str) -> Response:
        _known(key)
        try:
            limit = min(max(int(request.query_params.get("limit", 100)), 1), 1000)
        except ValueError:
            raise exceptions.ValidationError({"limit": ["A whole number."]}) from None
        return Response(selectors.parameter_history(key, limit))


class ParameterRevertView(APIView):
    """Go back to an earlier version, as a new version."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_revert",
        summary="Revert to an earlier version (a new version; keys sharing a rule come along)",
        request=RevertSerializer,
        responses={
            200: ChangeResultSerializer,
            202: OpenApiResponse(ChangeRequestSerializer, description="Risk key: a request."),
            **_errors(400, 403, 404, 409),
        },
    )
    def post(self, request: Request, key: str) -> Response:
        _known(key)
        data = _valid(RevertSerializer, request.data)
        result = _call(
            lambda: services.parameter_revert(
                key=key,
                version=data["version"],
                user=request.user,
                reason=data["reason"],
                base_version=data.get("base_version"),
            ),
            key,
        )
        return _outcome(result)


class WhatIfView(APIView):
    """Backtest a proposed risk threshold over the last 90 days of the loan book."""

    @extend_schema(
        tags=TAG,
        operation_id="parameters_what_if",
        summary="What-if: approvals and overdue rate under the proposed and the current value",
        description=(
            "Only for `risk.min_credit_score` and `risk.max_ltv_pct` (400 for other keys). "
            "Applications approved in the 90 days ending on the book's latest decision day; "
            "the overdue rate of their active loans on the latest snapshot day."
        ),
        parameters=[
            OpenApiParameter("value", str, required=True, description="The proposed value.")
        ],
        responses={200: WhatIfSerializer, **_errors(400, 404)},
    )
    def get(self, request: Request, key: str) -> Response:
        _known(key)
        if key not in WHAT_IF_KEYS:
            raise exceptions.ValidationError(
                {"key": [f"What-if is available for {' and '.join(WHAT_IF_KEYS)} only."]}
            )
        raw = request.query_params.get("value")
        if raw is None or raw == "":
            raise exceptions.ValidationError({"value": ["Give the proposed value: ?value=..."]})
        try:
            return Response(parameter_what_if(key=key, proposed=raw))
        except InvalidValue as exc:
            raise exceptions.ValidationError({"value": [str(exc)]}) from exc


class PresetListView(APIView):
    """The strategy presets of the playbook."""

    @extend_schema(
        tags=TAG, operation_id="parameters_presets", responses={200: PresetSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        values = selectors.parameter_values()
        keys = sorted({key for preset in PRESETS.values() for key in preset.values})
        versions = {p["key"]: p["version"] for p in selectors.parameters_state(keys)}
        return Response(
            [
                {
                    **preset.as_dict(),
                    "current": all(values[k] == v for k, v in preset.values.items()),
                    "versions": {k: versions[k] for k in preset.values},
                }
                for preset in PRESETS.values()
            ]
        )


class PresetApplyView(APIView):
    """Apply a preset: its whole budget split as one change set."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_preset_apply",
        request=PresetApplySerializer,
        responses={200: ChangeResultSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, name: str) -> Response:
        if name not in PRESETS:
            raise exceptions.NotFound(f"There is no preset {name}: {', '.join(PRESETS)}.")
        data = _valid(PresetApplySerializer, request.data)
        result = _call(
            lambda: services.preset_apply(
                name=name, user=request.user, versions=data["versions"], reason=data["reason"]
            )
        )
        return _outcome(result)


class RequestListView(APIView):
    """Change requests (four-eyes), newest first."""

    @extend_schema(
        tags=TAG,
        operation_id="parameters_requests",
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(ChangeRequest.Status.values), description="Only these."
            )
        ],
        responses={200: ChangeRequestSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status")
        if wanted and wanted not in ChangeRequest.Status.values:
            raise exceptions.ValidationError(
                {"status": [f"One of: {', '.join(ChangeRequest.Status.values)}."]}
            )
        return Response(selectors.change_requests(wanted or None))


class RequestDetailView(APIView):
    """One change request."""

    @extend_schema(
        tags=TAG,
        operation_id="parameters_request",
        responses={200: ChangeRequestSerializer, **_errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        found = ChangeRequest.objects.select_related("requested_by", "decided_by").filter(pk=pk)
        if not found:
            raise exceptions.NotFound("No such change request.")
        return Response(selectors.change_request_data(found[0]))


class RequestApproveView(APIView):
    """A second manager approves a pending request: it is applied as one change set."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_request_approve",
        request=NoteSerializer,
        responses={200: ChangeResultSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(NoteSerializer, request.data)
        result = _call(
            lambda: services.change_request_approve(
                request_id=pk, user=request.user, note=data["note"]
            )
        )
        return _outcome(result)


class RequestRejectView(APIView):
    """A manager rejects a pending request (the requester may withdraw their own)."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_request_reject",
        request=NoteSerializer,
        responses={200: ChangeRequestSerializer, **_errors(403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(NoteSerializer, request.data)
        result = _call(
            lambda: services.change_request_reject(
                request_id=pk, user=request.user, note=data["note"]
            )
        )
        return Response(selectors.change_request_data(result))


class CalibrateView(APIView):
    """Run the credit-score auto-calibration now; it files a request, never applies."""

    permission_classes = [ManagerOrRead]

    @extend_schema(
        tags=TAG,
        operation_id="parameters_calibrate",
        summary="Run the calibration of risk.min_credit_score now (a proposal, never applied)",
        request=None,
        responses={200: CalibrationSerializer, **_errors(403)},
    )
    def post(self, request: Request) -> Response:
        result = _call(lambda: credit_score_calibrate(user=request.user))
        return Response(
            {
                "proposed": result.proposed,
                "reason": result.reason,
                "request": selectors.change_request_data(result.request)
                if result.request
                else None,
                "evidence": result.evidence,
            }
        )
