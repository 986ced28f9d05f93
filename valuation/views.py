"""The /valuation/ page: quote one vehicle, the model's held-out accuracy, risky collateral."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carloan.roles import can_edit
from valuation import engine, selectors
from valuation.charts import holdout_scatter
from valuation.inputs import MIN_YEAR
from valuation.model import FUEL_TYPES, GRADES
from valuation.support import support_rows

LIST_LIMIT = 200

FUEL_LABELS: dict[str, Any] = {
    "petrol": gettext_lazy("Petrol"),
    "diesel": gettext_lazy("Diesel"),
    "hybrid": gettext_lazy("Hybrid"),
    "ev": gettext_lazy("Electric"),
}
GRADE_LABELS: dict[str, Any] = {
    "A": gettext_lazy("A — as new"),
    "B": gettext_lazy("B — good"),
    "C": gettext_lazy("C — fair"),
    "D": gettext_lazy("D — worn"),
    "E": gettext_lazy("E — poor"),
}

# What valuation.js shows, in the reader's language ({placeholders} filled by the script).
JS_TEXT: dict[str, Any] = {
    "quoting": gettext_lazy("Valuing…"),
    "value": gettext_lazy("Model value"),
    # xgettext:no-python-format
    "range": gettext_lazy("80 % range"),
    "modelVersion": gettext_lazy("Model v{version}"),
    "ltv": gettext_lazy("LTV"),
    # xgettext:no-python-format
    "ltvAbove": gettext_lazy("LTV above the {limit} % limit"),
    # xgettext:no-python-format
    "ltvOk": gettext_lazy("LTV within the {limit} % limit"),
    # xgettext:no-python-format
    "inflated": gettext_lazy("Appraisal {excess} % above the model value: inflated"),
    # xgettext:no-python-format
    "appraisalOk": gettext_lazy("Appraisal within {tolerance} % of the model value"),
    "recorded": gettext_lazy("Recorded as valuation {id} of application {application}."),
    "factor": gettext_lazy("Factor"),
    "effectCny": gettext_lazy("Effect (CNY)"),
    "effectPct": gettext_lazy("Effect (%)"),
    "fallbacks": gettext_lazy("Too few sales for some factors of this vehicle:"),
    "newPrice": gettext_lazy("New price"),
    "badInput": gettext_lazy("Check the highlighted fields."),
    "noModel": gettext_lazy(
        "No valuation model has been fitted yet: run python manage.py fit_valuation."
    ),
    "forbidden": gettext_lazy(
        "Only department heads and managers may record a valuation for an application."
    ),
    "signedOut": gettext_lazy("Your session has ended. Sign in again."),
    "network": gettext_lazy("The server could not be reached. Check your connection and retry."),
    "unexpected": gettext_lazy("Unexpected answer from the server (HTTP {status})."),
}


@login_required
def valuation_page(request: HttpRequest) -> HttpResponse:
    """Quote form and waterfall, model accuracy and held-out scatter, collateral lists."""
    row = selectors.active_model_row(with_points=True)
    region = request.GET.get("region", "").strip()
    branch = request.GET.get("branch", "").strip()
    names: dict[str, list[str]] = {"regions": [], "makes": [], "models": []}
    scatter = None
    support: list[dict[str, Any]] = []
    downweighted = None
    if row is not None:
        with contextlib.suppress(engine.NoModel):
            params = engine.active_model().maths.params
            names = params.get("names", names)
            support = support_rows(params)
            downweighted = params.get("downweighted_sales")
        scatter = holdout_scatter(
            row.holdout_points,
            x_label=_("Sale price (CNY)"),
            y_label=_("Model value (CNY)"),
            hover=_("Sold for %{x:,.0f} CNY<br>valued at %{y:,.0f} CNY"),
        )
    over_limit = selectors.collateral_checks(over_limit=True, region=region, branch=branch)
    inflated = selectors.collateral_checks(inflated=True, region=region, branch=branch)
    places = selectors.collateral_places()
    branches = places.get(region, []) if region else sorted({b for v in places.values() for b in v})
    limits = engine.limits()
    today = timezone.localdate()
    context = {
        "active": "valuation",
        "model": row,
        "model_summary": selectors.model_summary(row) if row else None,
        "history": selectors.model_history(8),
        "scatter": scatter,
        "support": support,
        "support_thin": sum(1 for item in support if item["status"] != "estimated"),
        "downweighted": downweighted,
        "names": names,
        "model_names": sorted({pair.split("|", 1)[1] for pair in names.get("models", [])}),
        "default_model": next(
            (
                pair.split("|", 1)[1]
                for pair in names.get("models", [])
                if names.get("makes") and pair.split("|", 1)[0] == names["makes"][0]
            ),
            "",
        ),
        "grades": [(g, GRADE_LABELS[g]) for g in GRADES],
        "fuels": [(f, FUEL_LABELS[f]) for f in FUEL_TYPES],
        "year_min": MIN_YEAR,
        "year_max": today.year,
        "default_year": today.year - 3,
        "today": today.isoformat(),
        "may_record": can_edit(request.user),
        "over_limit": over_limit[:LIST_LIMIT],
        "over_limit_count": over_limit.count(),
        "inflated": inflated.order_by("-appraisal_excess_pct", "loan_id")[:LIST_LIMIT],
        "inflated_count": inflated.count(),
        "totals": selectors.collateral_totals(region=region, branch=branch),
        "regions": sorted(places),
        "branches": branches,
        "region": region,
        "branch": branch,
        # The download holds both lists (a loan with either flag), under the same filters.
        "collateral_export_query": urlencode(
            {"over_limit": 1, "inflated": 1}
            | {name: value for name, value in (("region", region), ("branch", branch)) if value}
        ),
        "list_limit": LIST_LIMIT,
        "max_ltv_pct": limits[0],
        "tolerance_pct": limits[1],
        "js_text": {key: str(text) for key, text in JS_TEXT.items()},
    }
    return render(request, "valuation.html", context)
