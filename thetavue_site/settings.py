"""ThetaVue settings: one module, read from the environment (DESIGN.md §4).

Defaults are safe for development so `make run` works on a fresh clone. An
unset DATABASE_URL or REDIS_URL means an embedded server under `.data/`
(thetavue_site.devservices). Production (DEBUG off) refuses the development
secret. A missing or malformed variable stops the boot with one line naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from thetavue_site.service_urls import celery_redis_url, decode_socket_host

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"

env = environ.Env()
DEV_SECRET_KEY = "django-insecure-thetavue-development-only"  # noqa: S105 - the known dev value production refuses


def _setting(read, name: str, **kwargs):
    """Read one variable; turn a parse error into one line naming it."""
    try:
        return read(name, **kwargs)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as error:
        raise ImproperlyConfigured(f"Environment variable {name} is malformed: {error}") from None


DEBUG = _setting(env.bool, "DEBUG", default=True)
SECRET_KEY = _setting(env.str, "SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of 32+ characters when DEBUG is off"
    )
ALLOWED_HOSTS = _setting(
    env.list, "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = _setting(env.list, "CSRF_TRUSTED_ORIGINS", default=[])

# --- Embedded development services --------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_MAINTENANCE_URL = os.environ.get("DATABASE_MAINTENANCE_URL", "")
DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
USES_EMBEDDED_SERVICES = not DATABASE_URL or not REDIS_URL
if USES_EMBEDDED_SERVICES:
    from thetavue_site import devservices

    if not DATABASE_URL:
        _state = devservices.ensure_database()
        DATABASE_URL = _state.database_url
        DATABASE_OWNER_URL = DATABASE_OWNER_URL or _state.owner_url
        DATABASE_MAINTENANCE_URL = DATABASE_MAINTENANCE_URL or _state.maintenance_url
    if not REDIS_URL:
        REDIS_URL = devservices.ensure_redis().redis_url

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "thetavue_site.users",
    "thetavue_site.ops",
    "portfolios",
    "tradeplans",
    "brokers",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "thetavue_site.api.errors.ApiErrorEnvelopeMiddleware",
    "thetavue_site.monitoring.MetricsMiddleware",
    "thetavue_site.request_limits.RequestSizeLimitMiddleware",
    "thetavue_site.users.idempotency.IdempotencyKeyHeaderMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "thetavue_site.observability.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "thetavue_site.users.middleware.ClerkAuthenticationMiddleware",
    "thetavue_site.rls.RowLevelSecurityMiddleware",
    "thetavue_site.users.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "thetavue_site.urls"
WSGI_APPLICATION = "thetavue_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "thetavue_site.users.context_processors.notifications",
            ],
        },
    },
]

try:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
except (ValueError, KeyError) as error:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {error}") from None
DATABASES["default"]["HOST"] = decode_socket_host(str(DATABASES["default"].get("HOST") or ""))
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a PostgreSQL URL (postgres://…)")
if str(DATABASES["default"].get("OPTIONS", {}).get("server_side_binding", "")).lower() in (
    "1",
    "true",
):
    # rls.set_context sends the RLS settings and the request's first read as one
    # simple-protocol message, which server-side binding cannot carry.
    raise ImproperlyConfigured("DATABASE_URL: server_side_binding is not supported")
# The application role's login, kept apart from DATABASES: `migrate`, `flush`
# and the test session log the `default` connection in as the owner for a while.
DATABASE_APP = {key: DATABASES["default"][key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
DATABASE_APP_USER = DATABASE_APP["USER"]
# The role that owns the tables: `migrate` and `flush` log in as it
# (thetavue_site.db_roles); web and workers never do. Same database name.
DATABASE_OWNER = None
if DATABASE_OWNER_URL:
    try:
        _owner = env.db_url_config(DATABASE_OWNER_URL)
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(f"DATABASE_OWNER_URL is malformed: {error}") from None
    if _owner["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_OWNER_URL must be a PostgreSQL URL (postgres://…)")
    if _owner["NAME"] != DATABASES["default"]["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same database as DATABASE_URL "
            f"({DATABASES['default']['NAME']!r})"
        )
    if _owner["USER"] == DATABASE_APP_USER:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must use another role than DATABASE_URL: the application "
            "role must own nothing"
        )
    DATABASE_OWNER = {key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
DATABASES["default"]["CONN_MAX_AGE"] = _setting(env.int, "CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# ATOMIC_REQUESTS stays off: the RLS middleware opens the request's transaction
# around rendering too (auth-and-rls.md §4.2).
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["TEST"] = {
    # Parallel suites on one server (helpers, CI) each get their own database.
    "NAME": os.environ.get("THETAVUE_TEST_DB", "test_thetavue"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        # Degrades to a miss when Redis is down: pages keep serving from PostgreSQL.
        "BACKEND": "thetavue_site.cache_backend.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("THETAVUE_CACHE_PREFIX", "tv"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# Sessions live in Redis, where the application role's SQL cannot list them
# (a database table of everyone's sessions could carry no per-user policy).
# Their own alias is the plain Redis cache, not the degrading one: with Redis
# down a session reads as signed out, and signing in fails loudly instead of
# looping on a cache that pretends to work. Bearer tokens keep working.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "sessions"
CACHES["sessions"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": REDIS_URL,
    "KEY_PREFIX": f"{CACHES['default']['KEY_PREFIX']}:sessions",
    "TIMEOUT": None,  # each session's own expiry (SESSION_COOKIE_AGE) is set on write
    "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
}

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# django-allauth: email + password; its rate limits stay on.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Production verifies email addresses, which is what lets allauth's enumeration
# prevention answer a sign-up for a registered address exactly like a new one
# (the owner gets an email instead). Development skips the email round trip.
ACCOUNT_EMAIL_VERIFICATION = _setting(
    env.str, "ACCOUNT_EMAIL_VERIFICATION", default="none" if DEBUG else "mandatory"
)
if ACCOUNT_EMAIL_VERIFICATION not in {"none", "optional", "mandatory"}:
    raise ImproperlyConfigured(
        "ACCOUNT_EMAIL_VERIFICATION must be 'none', 'optional' or 'mandatory'"
    )
ACCOUNT_PREVENT_ENUMERATION = True
# Failed sign-ins: per client IP, and per (account, client IP) — the adapter
# puts the IP in the "key" — so a stranger's wrong guesses lock out the
# stranger, never the account's owner signing in from elsewhere.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "signup": "20/m/ip"}
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "thetavue_site.users.adapters.AccountAdapter"
# Reset links carry the user id hex-encoded: clerk_ids hold "_", which allauth's
# URL pattern refuses.
ACCOUNT_FORMS = {"user_token": "thetavue_site.users.adapters.HexUidUserTokenForm"}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
MARKET_TIME_ZONE = "America/New_York"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Clerk --------------------------------------------------------------------
CLERK_ISSUER = _setting(env.str, "CLERK_ISSUER", default="")
CLERK_JWKS_URL = _setting(env.str, "CLERK_JWKS_URL", default="")
CLERK_JWT_KEY = _setting(env.str, "CLERK_JWT_KEY", default="").replace("\\n", "\n")
CLERK_AUTHORIZED_PARTIES = _setting(env.list, "CLERK_AUTHORIZED_PARTIES", default=[])
CLERK_WEBHOOK_SECRET = _setting(env.str, "CLERK_WEBHOOK_SECRET", default="")
if (CLERK_JWT_KEY or CLERK_JWKS_URL) and not CLERK_ISSUER:
    # iss is checked exactly; without it every Clerk token would be refused.
    raise ImproperlyConfigured("CLERK_ISSUER must be set with CLERK_JWT_KEY or CLERK_JWKS_URL")
# dev_token: a local signing key whose public half development trusts.
DEV_TOKEN_ISSUER = "http://localhost/thetavue-dev"  # noqa: S105 - an issuer URL, not a secret
DEV_TOKEN_KEY_PATH = BASE_DIR / ".data" / "dev_token_key.pem"

# --- Tastytrade ---------------------------------------------------------------
SANDBOX_PORT = _setting(env.int, "SANDBOX_PORT", default=8765)
_sandbox_base = f"http://127.0.0.1:{SANDBOX_PORT}"
TASTYTRADE_API_BASE_URL = _setting(env.str, "TASTYTRADE_API_BASE_URL", default=_sandbox_base)
TASTYTRADE_AUTHORIZE_URL = _setting(
    env.str, "TASTYTRADE_AUTHORIZE_URL", default=f"{_sandbox_base}/auth.html"
)
TASTYTRADE_CLIENT_ID = _setting(env.str, "TASTYTRADE_CLIENT_ID", default="thetavue-sandbox")
TASTYTRADE_CLIENT_SECRET = _setting(
    env.str, "TASTYTRADE_CLIENT_SECRET", default="thetavue-sandbox-secret"
)
TASTYTRADE_REDIRECT_URI = _setting(
    env.str,
    "TASTYTRADE_REDIRECT_URI",
    default="http://127.0.0.1:8000/api/tastytrade/callback",
)
BROKER_TIMEOUT_SECONDS = (3.05, 10)

# MultiFernet keys, newest first. The development default is derived from the
# dev secret so `make run` works; production must set its own.
FIELD_ENCRYPTION_KEYS = _setting(env.list, "FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off")
    import base64
    import hashlib

    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]

# --- Metrics and schedules ----------------------------------------------------
RISK_FREE_RATE = _setting(env.float, "RISK_FREE_RATE", default=0.04)  # annual, continuous
SYNC_INTERVAL_MINUTES = _setting(env.int, "SYNC_INTERVAL_MINUTES", default=15)
SNAPSHOT_TIME = _setting(env.str, "SNAPSHOT_TIME", default="17:15")  # America/New_York
try:
    _snapshot_hour, _snapshot_minute = (int(part) for part in SNAPSHOT_TIME.split(":"))
    if not (0 <= _snapshot_hour < 24 and 0 <= _snapshot_minute < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(
        f"SNAPSHOT_TIME must be HH:MM (24 h, New York time), got {SNAPSHOT_TIME!r}"
    ) from None
if not 1 <= SYNC_INTERVAL_MINUTES <= 1440:
    raise ImproperlyConfigured("SYNC_INTERVAL_MINUTES must be between 1 and 1440")
# A sync's per-connection lock; its holder keeps extending it while alive.
SYNC_LOCK_TTL_SECONDS = _setting(env.int, "SYNC_LOCK_TTL_SECONDS", default=30)
SYNC_RUN_RETENTION_DAYS = _setting(env.int, "SYNC_RUN_RETENTION_DAYS", default=90)
NOTIFICATION_RETENTION_DAYS = _setting(env.int, "NOTIFICATION_RETENTION_DAYS", default=90)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = _setting(lambda _name: celery_redis_url(REDIS_URL), "REDIS_URL")
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# One queue name per deployment (tests run their own worker on a private queue).
CELERY_TASK_DEFAULT_QUEUE = _setting(env.str, "CELERY_QUEUE", default="thetavue")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Crontab schedules read in New York time: the snapshot follows the market close.
CELERY_TIMEZONE = MARKET_TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes every database connection before and after
# each task unless this is set: a new PostgreSQL backend per task (fork,
# authentication, catalog caches) doubled the database's CPU per sync. Set,
# it closes them only every 2 × this many tasks; thetavue_site.celery applies
# CONN_MAX_AGE and the health checks around each task instead.
CELERY_DB_REUSE_MAX = 100_000
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 150
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message whose worker died is redelivered after this; keep it above the
# longest task's hard limit so a slow task is not run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_BEAT_SCHEDULE = {
    # Fan out one sync per active connection, spread across the interval.
    "sync-connections-every-interval": {
        "task": "brokers.sync_all_connections",
        "schedule": crontab(minute=f"*/{SYNC_INTERVAL_MINUTES}")
        if 60 % SYNC_INTERVAL_MINUTES == 0
        else SYNC_INTERVAL_MINUTES * 60,
        "options": {"expires": SYNC_INTERVAL_MINUTES * 60 - 30},
    },
    # Nightly history row per portfolio after the close, New York time.
    "snapshot-metrics-nightly": {
        "task": "metrics.snapshot_all",
        "schedule": crontab(hour=_snapshot_hour, minute=_snapshot_minute),
        "options": {"expires": 3600},
    },
    # Bounded retention of sync runs and read notifications.
    "prune-history-daily": {
        "task": "brokers.prune_history",
        "schedule": crontab(hour=4, minute=30),
        "options": {"expires": 3600},
    },
}

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "thetavue_site.users.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["thetavue_site.users.permissions.IsAuthenticatedWithScope"],
    "DEFAULT_PARSER_CLASSES": [
        "thetavue_site.api_input.JSONParser",  # DRF's, with a nesting-depth limit
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "thetavue_site.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "thetavue_site.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "thetavue_site.renderers.OrjsonRenderer",  # DRF's JSON, encoded by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ThetaVue API",
    "DESCRIPTION": (
        "Portfolio, greeks and trade-plan API for options traders. "
        "Money and prices are decimal strings in US dollars; greeks are numbers in "
        "position units (delta: share-equivalents, short put > 0; theta: $ per calendar "
        "day, short premium > 0; vega: $ per +1 vol point; rho: $ per +1 percentage "
        "point of the rate, a long call > 0, any long futures option ≤ 0). Errors always "
        'use the envelope {"error": {"code", "message", "fields"}}, under /api/ whatever '
        "the error. Every list paginates with `limit` and `offset`: `limit` is at most 1000 "
        "(thetavue_site.api.pagination.MAX_LIMIT); a larger one is clamped to 1000 (the "
        "`next`/`previous` links show the limit used), 0, a negative or a non-number is a "
        "400. JSON bodies nest at most 32 levels; dates lie between 1900-01-01 and "
        "2199-12-31."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    # The error envelope component and each operation's error statuses
    # (thetavue_site.openapi, which also declares the bearer security schemes).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "thetavue_site.openapi.postprocess_error_responses",
    ],
    # Our API base classes' docstrings are for developers, not the schema.
    "GET_LIB_DOC_EXCLUDES": "thetavue_site.openapi.doc_excludes",
    "TAGS": [
        {"name": "portfolios", "description": "Portfolios: broker accounts and manual books."},
        {
            "name": "positions",
            "description": "Legs of a portfolio (one row per leg) and their strategies.",
        },
    ],
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True},
}

# --- Email, logging, errors -----------------------------------------------------
EMAIL_CONFIG = _setting(env.email_url, "EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = _setting(env.str, "DEFAULT_FROM_EMAIL", default="ThetaVue <noreply@localhost>")

LOG_FORMAT = _setting(env.str, "LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "thetavue_site.observability.RequestContextFilter"},
        "mask_oauth_params": {"()": "thetavue_site.observability.OAuthParamsMaskFilter"},
    },
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user_id)s] %(message)s"
        },
        "json": {"()": "thetavue_site.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context", "mask_oauth_params"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver's access log: through the console handler, whose filter masks
        # the OAuth callback's code and state (Django's own handler would not).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "urllib3": {"level": "WARNING"},
    },
}
SENTRY_DSN = _setting(env.str, "SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    # No request bodies or personal data: tokens and trader data stay out of reports.
    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, max_request_body_size="never")

# Prometheus /metrics: the scraper sends `Authorization: Bearer <METRICS_TOKEN>`;
# signed-in staff may look too. Client addresses are not trusted (a reverse
# proxy on the same host makes every request loopback).
METRICS_TOKEN = _setting(env.str, "METRICS_TOKEN", default="")
if "METRICS_ALLOWED_IPS" in os.environ:
    raise ImproperlyConfigured(
        "METRICS_ALLOWED_IPS is not supported: set METRICS_TOKEN and scrape /metrics with "
        "Authorization: Bearer <token>"
    )

# --- Security -------------------------------------------------------------------
# Content-Security-Policy (django-csp): no inline or third-party scripts. Where
# Clerk is deployed its Frontend API is the one allowed origin (DESIGN.md §12).
_clerk_origin = [CLERK_ISSUER] if CLERK_ISSUER else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", *_clerk_origin],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *_clerk_origin],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_048_576  # 1 MiB: larger bodies get 413
if not DEBUG:
    SECURE_SSL_REDIRECT = _setting(env.bool, "SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = _setting(env.int, "SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
