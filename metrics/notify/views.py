"""Pages of notifications: `/notifications/` (channels and their delivery log for managers,
silences for department heads and managers) and `/alerts/{id}/acknowledge/` (the link in every
message: shows the alert, acknowledges it on a press)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carloan.errors import Conflict
from carloan.i18n import is_chinese
from carloan.roles import can_edit, is_manager
from metrics.models import Alert
from metrics.notify import selectors, services
from metrics.notify.models import Channel
from metrics.registry import DEFINITIONS
from metrics.selectors import alert_data


def _metric_names() -> list[tuple[str, str]]:
    zh = is_chinese()
    return [(d.key, d.name_zh if zh else d.name_en) for d in DEFINITIONS]


@login_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    manager = is_manager(request.user)
    context: dict[str, Any] = {
        "active": "notifications",
        "is_manager": manager,
        "can_silence": can_edit(request.user),
        "silences": selectors.silences(),
        "metrics": _metric_names(),
        "departments": services.DEPARTMENTS,
        "presets": Channel.Preset.values,
    }
    if manager:
        channels = selectors.channels()
        names = {c["id"]: c["name"] for c in channels}
        deliveries = selectors.deliveries(limit=50)
        for delivery in deliveries:
            delivery["channel_name"] = names.get(delivery["channel"], "")
            moment = timezone.localtime(datetime.fromisoformat(delivery["created_at"]))
            delivery["when"] = f"{moment:%Y-%m-%d %H:%M:%S}"  # seconds: retries are close
        context.update({"channels": channels, "deliveries": deliveries})
    return render(request, "notifications.html", context)


def _local(iso: str) -> str:
    return f"{timezone.localtime(datetime.fromisoformat(iso)):%Y-%m-%d %H:%M}"


@login_required
def acknowledge_page(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("acknowledged_by"), pk=alert_id)
    if request.method == "POST":
        try:
            services.alert_acknowledge(alert_id=alert_id, user=request.user)
            messages.success(request, _("Alert acknowledged: the others see it taken."))
        except Conflict as exc:
            messages.info(request, exc.message)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        return redirect(
            f"/metrics/{alert.metric}/?region={alert.region}&date={alert.day.isoformat()}"
        )
    return render(
        request,
        "alert_acknowledge.html",
        {
            "alert": alert_data(alert),
            "may_acknowledge": can_edit(request.user),
            "history": [
                {
                    **event,
                    "when": _local(event["at"]),
                }
                for event in selectors.alert_history(alert_id) or []
            ],
        },
    )
