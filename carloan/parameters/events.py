"""Typed socket messages of `/ws/parameters/` (contract section 5) and the data they carry.

The API answers with the same shapes (`ParameterData`, `ChangeRequestData`), so a browser
applies an event exactly as it would a fresh GET.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

PARAMETERS_GROUP = "parameters"


class Description(TypedDict):
    en: str
    zh: str


class ParameterData(TypedDict):
    key: str
    value: Any
    type: str
    category: str
    unit: str
    min: float | None
    max: float | None
    choices: list[str] | None
    decimal_places: int | None
    default: Any
    description: Description
    four_eyes: bool
    version: int
    updated_by: str | None
    updated_at: str | None
    pending_requests: list[int]


class ChangeRequestData(TypedDict):
    id: int
    status: str
    source: str
    action: str
    changes: dict[str, Any]
    base_versions: dict[str, int]
    reason: str
    requested_by: str | None
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str
    evidence: Any


class ParametersSnapshot(TypedDict):
    type: Literal["parameters.snapshot"]
    parameters: list[ParameterData]
    requests: list[ChangeRequestData]


class ParameterChanged(TypedDict):
    type: Literal["parameter.changed"]
    key: str
    value: Any
    old_value: Any
    version: int
    changed_by: str | None
    changed_at: str
    reason: str
    change_set: str
    action: str
    request: int | None


class ChangeRequestEvent(TypedDict):
    type: Literal["change_request.created", "change_request.decided"]
    request: ChangeRequestData
