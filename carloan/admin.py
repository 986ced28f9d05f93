"""Django admin, the operator's fallback (contract section 12): people with their department,
and the audit-like tables read only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from carloan.models import ImportRun, Profile
from carloan.parameters.models import ChangeRequest, Parameter, ParameterChange
from carloan.people.models import ApiToken
from carloan.screening.models import BlacklistChange


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["department"]


class PersonAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "email", "is_active", "is_superuser", "last_login"]


admin.site.unregister(User)
admin.site.register(User, PersonAdmin)


class ReadOnly(admin.ModelAdmin):
    """A record of what happened: looked at, never edited here."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ParameterChange)
class ParameterChangeAdmin(ReadOnly):
    list_display = ["key", "version", "old_value", "new_value", "changed_by", "changed_at"]
    list_filter = ["action"]
    search_fields = ["key", "reason"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnly):
    list_display = ["id", "status", "requested_by", "decided_by", "requested_at"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnly):
    list_display = ["id", "kind", "file_name", "status", "imported_by", "started_at"]
    list_filter = ["kind", "status"]


@admin.register(BlacklistChange)
class BlacklistChangeAdmin(ReadOnly):
    list_display = ["id", "action", "source", "entry_id", "status", "proposed_by", "decided_by"]
    list_filter = ["status", "action", "source"]
    exclude = ["value"]  # a keyed hash: nothing a person reads


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnly):
    list_display = ["user", "name", "prefix", "created_at", "expires_at", "revoked_at"]
    exclude = ["key_hash"]


@admin.register(Parameter)
class ParameterAdmin(ReadOnly):
    """Parameters change through their one writer (validation, history, four-eyes)."""

    list_display = ["key", "value", "version", "updated_by", "updated_at"]
    search_fields = ["key"]
