from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from carloan import views
from carloan.loanbook.api import ImportView, TokenView
from carloan.people import api as people_api
from carloan.people.views import PasswordResetView, saved_view_open
from carloan.security import ThrottledAdminLoginView, ThrottledLoginView

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # A forgotten password: a link by e-mail (EMAIL_URL), Django's signed one-time tokens.
    path("password-reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_sent.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_new.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    # Admin's sign-in is throttled like the login form (before admin's own URLs, which it hides).
    path("admin/login/", ThrottledAdminLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("imports/", views.imports_page, name="imports"),
    path("api/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/auth/tokens/", people_api.TokensView.as_view(), name="api-tokens"),
    path(
        "api/people/<int:user_id>/deactivate/",
        people_api.PersonDeactivateView.as_view(),
        name="api-person-deactivate",
    ),
    path(
        "api/auth/tokens/<int:token_id>/revoke/",
        people_api.TokenRevokeView.as_view(),
        name="api-token-revoke",
    ),
    # Saved views (carloan.people): one's own and those shared; /v/<slug>/ is a view's link.
    path("api/views/", people_api.SavedViewsView.as_view(), name="api-views"),
    path("api/views/<int:view_id>/", people_api.SavedViewDetailView.as_view(), name="api-view"),
    path(
        "api/views/<int:view_id>/pin/",
        people_api.SavedViewPinView.as_view(),
        name="api-view-pin",
    ),
    path("v/<slug:slug>/", saved_view_open, name="saved-view"),
    path("api/imports/", ImportView.as_view(), name="api-imports"),
    path("api/compliance/", include("carloan.compliance.urls")),
    path("", include("carloan.screening.urls")),
    path("api/parameters/", include("carloan.parameters.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # A signed-out visitor is sent to the login form, as on every page. The split view serves
    # Swagger UI's start-up script as a file (?script), so the page needs no inline script (CSP).
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("", include("metrics.urls")),
    path("", include("kanban.urls")),
    path("", include("valuation.urls")),
    path("", include("carloan.page_urls")),
]

# A refused page is kept in the audit trail (the API's refusals are, in carloan.api).
handler403 = "carloan.views.permission_denied"
