"""Settings, read from the environment only.

Every variable is listed in `.env.example`. A missing or malformed value stops start-up with a
message saying how to fix it, rather than falling back silently.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(
            f"The environment variable {name} is required. Set it (see .env.example), "
            "or start the product with `make run`, which sets up embedded servers."
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1 or 0.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Django DATABASES entry from a libpq connection URI, read by libpq itself.

    `postgres://user:password@host:port/name?option=value&...` means what it means to `psql`:
    every query option libpq knows (`sslmode`, `sslrootcert`, `application_name`,
    `connect_timeout`, `options`, `target_session_attrs`, a socket directory as `host=`, several
    hosts as `h1:5432,h2:5432`...) reaches the connection, and an option libpq does not know is
    refused here rather than dropped.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/carloan "
            f"(got scheme {scheme!r})."
        )
    try:
        params: dict[str, object] = dict(conninfo_to_dict(url))
    except ProgrammingError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
    name = str(params.pop("dbname", "") or "")
    if not name:
        raise ImproperlyConfigured("DATABASE_URL names no database: add /<name> after the host.")
    user = str(params.pop("user", "") or "")
    password = str(params.pop("password", "") or "")
    host = str(params.pop("host", "") or "")
    port = str(params.pop("port", "") or "")
    conn_max_age = int(os.environ.get("DATABASE_CONN_MAX_AGE", "0"))
    pool_size = int(os.environ.get("DATABASE_POOL_SIZE", "20"))
    # libpq's own options from the URL, over our default time-out.
    options: dict[str, object] = {"connect_timeout": 5, **params}
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Parameters bound by the server, so a statement run again on a connection (every
        # request's token lookup, the parameter writer's lock and update) is parsed and planned
        # once per connection, not each time: planning was most of their time. Turn it off
        # behind a transaction-mode pooler (PgBouncer before 1.21) that cannot keep them.
        options["server_side_binding"] = True
        options["prepare_threshold"] = int(os.environ.get("DATABASE_PREPARE_THRESHOLD", "2"))
    if pool_size > 0:
        if conn_max_age:
            raise ImproperlyConfigured(
                "DATABASE_CONN_MAX_AGE and DATABASE_POOL_SIZE exclude each other: the pool keeps "
                "the connections. Set DATABASE_POOL_SIZE=0 to keep them per thread instead."
            )
        # Each process keeps up to `pool_size` open connections and lends one to each request,
        # instead of opening (forking a PostgreSQL backend) per request. A request that finds
        # every connection busy queues for one (a burst of sign-ins holds them while hashing);
        # after `timeout` s without one (PostgreSQL down, or overload) it gets the 503 of an
        # outage.
        options["pool"] = {
            "min_size": 1,
            "max_size": pool_size,
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
            "max_idle": 300,
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": user,
        "PASSWORD": password,
        "HOST": host,
        "PORT": port,
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,  # with the pool: each connection is checked as it is lent
        "OPTIONS": options,
    }


if not (BASE_DIR / "templates").is_dir():
    # templates/, static/ and locale/ live beside the packages: the product runs from its
    # checkout (`pip install -e .`, as `make install` does), not from a copy in site-packages.
    raise ImproperlyConfigured(
        f"No templates/ folder next to {BASE_DIR / 'carloan'}: run the product from its checkout, "
        "installed with `pip install -e .` (or `make install`), not with a plain `pip install .`."
    )

SECRET_KEY = env_str("SECRET_KEY")
# The key of the people's identifiers' hashes (carloan.screening.identifiers); empty: derived
# from SECRET_KEY. Changing it makes every stored identifier unmatchable: set it once, keep it.
IDENTIFIER_HMAC_KEY = os.environ.get("IDENTIFIER_HMAC_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
HTTPS = env_bool("HTTPS", False)

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must be a redis:// URL, e.g. redis://127.0.0.1:6379/0.")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "carloan",
    "metrics",
    "kanban",
    "valuation",
]

MIDDLEWARE = [
    # Outermost, to time the whole of each /api/ request (metrics.latency).
    "metrics.latency.ApiLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "carloan.middleware.SecurityHeadersMiddleware",
    # NUL characters and dates past the calendar's ends never reach a view (carloan/inputs.py).
    "carloan.inputs.QueryStringMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "carloan.middleware.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "carloan.urls"
ASGI_APPLICATION = "carloan.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carloan.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "carloan.cache.SharedPoolRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "carloan",
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "carloan:ws", "capacity": 1000, "expiry": 30},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "var" / "staticfiles")


def _plotly_js_dir() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


# plotly.js is served from the installed plotly package: never from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", _plotly_js_dir())]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Content-hashed names after collectstatic: a deploy never serves yesterday's script
        # from a browser's or a proxy's cache (carloan/storage.py).
        "BACKEND": (
            "carloan.storage.HashedStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# The application's own API latency, recorded as `api_response_time` samples (source `self`).
# The API's own latency, recorded as api_response_time samples (source "self").
METRICS_API_LATENCY = env_bool("METRICS_API_LATENCY", True)
METRICS_LATENCY_FLUSH_SECONDS = float(os.environ.get("METRICS_LATENCY_FLUSH_SECONDS", "10"))
METRICS_LATENCY_FLUSH_SIZE = int(os.environ.get("METRICS_LATENCY_FLUSH_SIZE", "500"))

# How long a board's cards may be served again for the same board event number (`seq`): any
# change of a card moves the number on; only the cards' ages can be this old. 0: never kept.
KANBAN_BOARD_CACHE_SECONDS = float(os.environ.get("KANBAN_BOARD_CACHE_SECONDS", "5"))

# How long a region's panels and the open alerts may be kept in the shared cache; they are
# dropped as soon as the values or the alerts change (metrics.selectors). 0: read every time.
METRICS_READ_CACHE_SECONDS = float(os.environ.get("METRICS_READ_CACHE_SECONDS", "60"))

# How long a period computed by GET /api/metrics/summary/ may be kept; it is dropped as soon as
# the loan book changes (metrics.periods). 0: computed on every request.
METRICS_SUMMARY_CACHE_SECONDS = int(os.environ.get("METRICS_SUMMARY_CACHE_SECONDS", "600"))
# A period's technical metrics (percentiles of its samples) may lag newer samples this long.
METRICS_SUMMARY_SAMPLES_GRACE_SECONDS = float(
    os.environ.get("METRICS_SUMMARY_SAMPLES_GRACE_SECONDS", "30")
)

# --- notifications (contract section 11) --------------------------------------------------------
# Where links in messages point (the dashboard as people reach it).
SITE_URL = (os.environ.get("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
# Webhook hosts allowed although they are loopback or private (an office chat gateway).
NOTIFY_ALLOWED_HOSTS = env_list("NOTIFY_ALLOWED_HOSTS", "")


def email_from_url(url: str) -> dict[str, Any]:
    """Django's SMTP settings from EMAIL_URL: smtp://host:port, smtp+tls://user:pass@host:port
    (STARTTLS) or smtp+ssl://... (TLS from the start)."""
    from urllib.parse import unquote, urlsplit

    if not url:
        return {}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+tls", "smtp+ssl") or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must be smtp://host:port, smtp+tls://user:pass@host:port or smtp+ssl://..."
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtp+ssl" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtp+ssl",
        "EMAIL_TIMEOUT": 10,
    }


EMAIL_URL = os.environ.get("EMAIL_URL", "")
globals().update(email_from_url(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "carloan-kpi@localhost"

# Uploads: the import page and API take CSV files up to this size.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
# Any other request body (JSON, forms) larger than this is answered 413 (carloan.middleware).
REQUEST_MAX_BYTES = int(os.environ.get("REQUEST_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "carloan.roles.RoleLoadingTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["carloan.roles.CanRead"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Depth, numbers, NUL characters and dates checked for every JSON body (carloan/inputs.py).
    "DEFAULT_PARSER_CLASSES": [
        "carloan.inputs.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "carloan.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Car-loan KPI dashboard API",
    "DESCRIPTION": (
        "Live metric panels, the shared marketing-risk-tech kanban, KPI scoring, live parameters "
        "and vehicle valuation for a car-loan lender. Authenticate with a browser session or "
        "`Authorization: Token <token>` (from `POST /api/auth/token/`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Contract section 4: everything but /healthz, the token endpoint and the login page needs a
    # signed-in user; drf-spectacular serves the schema to anyone unless told otherwise.
    "SERVE_PERMISSIONS": ["carloan.roles.CanRead"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema's address to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several "status" enums (metric status, alert status, import status) need distinct names.
    "ENUM_NAME_OVERRIDES": {
        "MetricStatusEnum": "metrics.models.Status.choices",
        "AlertStatusEnum": "metrics.models.AlertStatus.choices",
        "ComplianceCategoryEnum": "carloan.compliance.api.CATEGORY_KEYS",
        "BlacklistTypeEnum": "carloan.screening.identifiers.BLACKLIST_TYPES",
        "BlacklistChangeActionEnum": "carloan.screening.api.BLACKLIST_ACTIONS",
        "ChannelKindEnum": "metrics.notify.api.CHANNEL_KINDS",
        "TokenStateEnum": "carloan.people.api.TOKEN_STATES",
        "ScriptStateEnum": "carloan.compliance.models.ScriptState.values",
        "DeliveryKindEnum": "metrics.notify.api.DELIVERY_KINDS",
        "ChannelDepartmentEnum": "metrics.notify.services.DEPARTMENTS",
        "DepartmentEnum": "carloan.departments.DEPARTMENTS",
    },
}

CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# The queue tasks go to and workers take from: give two installations (or two test runs) that
# share one Redis a queue each.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE") or "celery"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Proposes a credit-score cutoff for a manager to approve; never applies one.
    "parameters-calibrate": {
        "task": "carloan.parameters_calibrate",
        "schedule": crontab(hour=6, minute=15),
    },
    # Today's metric values exist even on a day without imports (windows move, stock carries).
    # A critical alert left unacknowledged reaches the managers' channels (contract section 11).
    "notify-escalate": {
        "task": "metrics.notify_escalate",
        "schedule": crontab(minute="*"),
    },
    "metrics-refresh-recent": {
        "task": "metrics.metrics_refresh_recent",
        "schedule": crontab(minute=5),
    },
    # Valuation: refit weekly (kept only if not worse on held-out sales); revalue nightly.
    "valuation-fit": {
        "task": "valuation.valuation_fit",
        "schedule": crontab(day_of_week="sun", hour=3, minute=30),
    },
    "valuation-collateral-revalue": {
        "task": "valuation.collateral_revalue",
        "schedule": crontab(hour=2, minute=40),
    },
    # Calls are checked by their import's refresh; this sweeps up any a failed refresh left.
    "compliance-calls-check": {
        "task": "carloan.compliance_calls_check",
        "schedule": crontab(minute=20),
    },
    # The learned model learns from the week's verdicts (used only if not worse on the dev set).
    "compliance-model-retrain": {
        "task": "carloan.compliance_model_retrain",
        "schedule": crontab(day_of_week="sun", hour=4, minute=10),
    },
}
CELERY_TIMEZONE = TIME_ZONE
# The schedule lives in Redis (RedBeat) behind a lock: any number of beats may run (one per
# host, for availability) and only the one holding the lock sends what is due; when it dies,
# another takes the lock within CELERY_BEAT_LOCK_TIMEOUT seconds.
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
CELERY_REDBEAT_REDIS_OPTIONS: dict[str, object] = {}
CELERY_REDBEAT_KEY_PREFIX = os.environ.get("CELERY_BEAT_KEY_PREFIX") or "carloan:beat:"
CELERY_BEAT_MAX_LOOP_INTERVAL = 5  # how often the holder checks the schedule and renews the lock
CELERY_REDBEAT_LOCK_TIMEOUT = int(os.environ.get("CELERY_BEAT_LOCK_TIMEOUT", "30"))
# Changes that arrive while a metric refresh runs (samples, several a second) are gathered for
# this many seconds into the next refresh: at most one refresh per formula family per pause.
METRICS_REFRESH_COALESCE_SECONDS = float(os.environ.get("METRICS_REFRESH_COALESCE_SECONDS", "1"))
# A task taken by a worker that died (acks_late) goes back to the queue after this many seconds.
# Longer than the longest task (CELERY_TASK_TIME_LIMIT), or a slow task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# Load balancers probe /healthz over plain http on the web port.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from Redis (written through to PostgreSQL, which answers when Redis is down),
# and the signed-in user comes with roles and department in one query (carloan.roles).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTHENTICATION_BACKENDS = ["carloan.roles.RoleLoadingBackend"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Sign-in throttle (carloan/security.py): this many failures per username and client address
# within the window answer 429 until it ends. Counted in the shared Redis cache.
SIGNIN_MAX_FAILURES = int(os.environ.get("SIGNIN_MAX_FAILURES", "5"))
SIGNIN_WINDOW_SECONDS = int(os.environ.get("SIGNIN_WINDOW_SECONDS", "300"))
# Failures from one client address, whatever the usernames, before every sign-in from it waits.
SIGNIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("SIGNIN_MAX_FAILURES_PER_ADDRESS", "20"))
# Proxies (addresses or networks) whose X-Forwarded-For names the client; nobody else's is read.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or network (e.g. 10.0.0.0/8)."
        ) from None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
