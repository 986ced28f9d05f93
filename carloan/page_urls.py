"""Pages of contract section 4a that later issues build; until then they say so."""

from django.urls import path

from carloan.compliance.views import compliance_page
from carloan.parameters.views import parameters_page
from carloan.people.views import account_page, audit_page, people_page
from carloan.screening.views import risk_page

urlpatterns = [
    # /kanban/ and /kanban/flow/ are served by kanban/urls.py (included before this module).
    # /kpi/ and /kpi/review/ are served by metrics/kpi/urls.py (included before this module).
    path("parameters/", parameters_page, name="parameters"),
    path("risk/", risk_page, name="risk"),
    path("compliance/", compliance_page, name="compliance"),
    path("account/", account_page, name="account"),
    path("people/", people_page, name="people"),
    path("audit/", audit_page, name="audit"),
    # /valuation/ is routed by valuation/urls.py (carloan imports no app).
]
