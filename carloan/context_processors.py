from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from carloan.departments import department_label
from carloan.roles import department_of, is_manager, role_of

# The pages of contract section 4a, in navigation order. The dashboard is `/?home=1`: a bare `/`
# opens one's start page (a pinned saved view, carloan.people), this link the dashboard itself.
NAVIGATION = [
    ("dashboard", "/?home=1", _("Dashboard")),
    ("kanban", "/kanban/", _("Kanban")),
    ("kpi", "/kpi/", _("KPI & review")),
    ("parameters", "/parameters/", _("Parameters")),
    ("valuation", "/valuation/", _("Valuation")),
    ("risk", "/risk/", _("Risk screening")),
    ("compliance", "/compliance/", _("Compliance")),
    ("notifications", "/notifications/", _("Notifications")),
    ("imports", "/imports/", _("Imports")),
]


# Pages for managers only, after the others.
MANAGER_NAVIGATION = [("people", "/people/", _("People")), ("audit", "/audit/", _("Audit trail"))]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    manager = user is not None and user.is_authenticated and is_manager(user)
    department = department_of(user) if user is not None else ""
    return {
        "navigation": NAVIGATION + (MANAGER_NAVIGATION if manager else []),
        "user_role": role_of(user) if user is not None else "",
        "user_department": department,
        "user_department_label": department_label(department) if department else "",
    }
