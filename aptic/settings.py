"""One settings module, read from the environment (12-factor).

With no DATABASE_URL the platform runs on an embedded SQLite file and, with no REDIS_URL,
Celery runs tasks eagerly: that is the zero-setup demo. Tests and production set both.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def envbool(name, default):
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def envint(name, default):
    return int(env(name, str(default)))


def envlist(name, default):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def refuse_to_start(reason):
    """A configuration that would run unsafely stops the process with one line."""
    sys.exit(f"Refusing to start: {reason}")


DEBUG = envbool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "insecure-demo-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    refuse_to_start("SECRET_KEY must be set when DEBUG=0.")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", SITE_URL)
# Reverse proxies in front of the application that append the client's address to
# X-Forwarded-For (1 behind nginx, Caddy or Traefik). With 0 the header is never read: anyone
# can write it, and every throttle keyed on it would be reset by a new value.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES < 0:
    refuse_to_start("TRUSTED_PROXIES is a number of proxies: 0 or more.")

INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the built-in widget templates, for aptic.forms.FormRenderer
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "csp",
    "aptic",
    "services",
    "places",
    "cheques",
]

# aptic.lean.*: Django's page-only middleware, skipped by API calls with a personal token.
# (The CSRF middleware stays as it is: API views are exempt from it, DRF checks CSRF for
# cookie-authenticated calls, and `check --deploy` looks for it by name.)
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aptic.lean.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "aptic.inputs.ControlCharacterMiddleware",
    "aptic.outages.OutageMiddleware",
    "aptic.api.ApiNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "aptic.lean.AuthenticationMiddleware",
    "aptic.lean.MessageMiddleware",
    "aptic.web.DomainErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "aptic.urls"
WSGI_APPLICATION = "aptic.wsgi.application"

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
                "aptic.navigation.menu",
                "aptic.l10n.context",
            ],
        },
    },
]

# One template for every form field (labels, help and errors tied to their inputs).
FORM_RENDERER = "aptic.forms.FormRenderer"

DEMO_DATABASE_FILE = BASE_DIR / "var" / "demo.sqlite3"
# Connections are kept for a minute between requests; a kept connection is checked before
# its first use in a request, so that one the database dropped (a restart, a failover,
# pg_terminate_backend) is opened again instead of answering a 500.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DEMO_DATABASE_FILE}"), conn_max_age=60,
        conn_health_checks=True,
    )
}
# The redemption's statements are prepared on the server (aptic.prepared.cursor). Turn off
# behind a connection pooler in transaction mode that cannot keep prepared statements.
PREPARED_STATEMENTS = envbool("PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The demo database: write-ahead log and fewer fsyncs keep `make demo` quick.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "aptic.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers per language (aptic/formats/; money: aptic.l10n).
FORMAT_MODULE_PATH = ["aptic.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Static files come straight from the apps and static/ (no collectstatic needed for the demo).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Where the open-data files of places are published (/donnees/, places.publication): written
# by the Celery worker, served by the web process, so on storage both share.
OPEN_DATA_ROOT = Path(env("OPEN_DATA_ROOT", str(MEDIA_ROOT / "donnees")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            # Refuses to start without collectstatic's manifest (aptic.staticfiles).
            else "aptic.staticfiles.ManifestStaticFilesStorage"
        )
    },
}

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    # Short socket timeouts: a Redis that hangs must fail a request in seconds (see
    # aptic.outages), not hold a web worker until gunicorn kills it.
    CACHES = {"default": {"BACKEND": "aptic.cache.RedisCache",  # one client per pool
                          "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message taken by a worker that died (acks_late: not acknowledged) goes back to the queue
# once it has been unacknowledged this long. Longer than any task takes (a print chunk takes
# seconds; a task still running past it would be run twice, which every task allows), far
# shorter than Redis's default hour. Restored messages are looked for every 10 seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 300),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_TIMEZONE = TIME_ZONE

# The demo keeps each mail in var/mail/ and prints one line per mail (aptic.mail);
# production sends through SMTP.
EMAIL_BACKEND = env("EMAIL_BACKEND", "aptic.mail.OneLinePerMailBackend" if DEBUG
                    else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = Path(env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail")))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "APTIC <no-reply@aptic.example>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "aptic.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aptic.api.exception_handler",
    # DRF's throttles find the client's address as aptic.clients.client_ip does.
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "cheque_lookup": env("THROTTLE_CHEQUE_LOOKUP", "120/min"),
        "redemption": env("THROTTLE_REDEMPTION", "6000/min"),
        "login": env("THROTTLE_LOGIN", "20/min"),
        # Pages, through aptic.ratelimit: per address when anonymous, per account otherwise.
        "signup": env("THROTTLE_SIGNUP", "10/hour"),
        "claim": env("THROTTLE_CLAIM", "20/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET", "10/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API #APTIC",
    "DESCRIPTION": "API partenaires de la plateforme des chèques #APTIC.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Requests and answers get their own components, so that a request schema can say what
    # the API refuses (an empty "reason" has minLength 1) without constraining answers.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "aptic.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChequeStateEnum": "cheques.models.Cheque.State",
        "BookletStateEnum": "cheques.models.Booklet.State",
        "StatementStateEnum": "cheques.models.Statement.State",
        "PaymentBatchStateEnum": "cheques.models.PaymentBatch.State",
    },
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (46.6, 2.4),
    "DEFAULT_ZOOM": 6,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 18,
    "TILES": [
        (
            "OpenStreetMap",
            env("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; les contributeurs d’OpenStreetMap", "maxZoom": 19},
        )
    ],
    "RESET_VIEW": False,
}

# Features add their menu entries on the home page through these providers, so that the
# project package never imports the domain apps.
# The order is the menu's: the cheques' pages (the daily work), then the places'.
HOME_ACTION_PROVIDERS = ["cheques.web.home.actions", "places.web.home.actions"]

# Cheque codes: signing keys for the QR payload, "id:secret" pairs, the first one signs.
CHEQUE_SIGNING_KEYS = envlist("CHEQUE_SIGNING_KEYS", f"k1:{SECRET_KEY}")

# Content-Security-Policy: our own files only, plus the map tile server; inline scripts
# need the per-request nonce (`{{ request.csp_nonce }}`).
MAP_TILES_ORIGIN = "/".join(LEAFLET_CONFIG["TILES"][0][1].split("/")[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", MAP_TILES_ORIGIN],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    # Without Redis, Celery's in-memory broker has no host name, and kombu says so each time.
    "loggers": {} if REDIS_URL else {"kombu.connection": {"level": "ERROR"}},
}

AUTHENTICATION_BACKENDS = ["aptic.backends.EmailOrUsernameBackend"]

# Login attempts, counted in the cache (Redis); aptic.logins tells the rule.
LOGIN_FREE_FAILURES = envint("LOGIN_FREE_FAILURES", 5)  # per account, before any delay
LOGIN_DELAY_BASE_SECONDS = envint("LOGIN_DELAY_BASE_SECONDS", 2)  # doubled at each failure
LOGIN_DELAY_MAX_SECONDS = envint("LOGIN_DELAY_MAX_SECONDS", 15 * 60)
LOGIN_FAILURE_WINDOW_SECONDS = envint("LOGIN_FAILURE_WINDOW_SECONDS", 24 * 60 * 60)
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LOGIN_ADDRESS_FAILURE_LIMIT", 100)  # across accounts
LOGIN_ADDRESS_WINDOW_SECONDS = envint("LOGIN_ADDRESS_WINDOW_SECONDS", 60 * 60)

# Signed-in users are limited per account; the colleagues behind one address (a
# médiathèque's box, an office's proxy) share a ceiling this many times higher.
ADDRESS_CEILING_FACTOR = envint("ADDRESS_CEILING_FACTOR", 10)
# A zero would switch a protection off without a word.
if LOGIN_FREE_FAILURES < 0 or min(
    LOGIN_DELAY_BASE_SECONDS, LOGIN_DELAY_MAX_SECONDS, LOGIN_FAILURE_WINDOW_SECONDS,
    LOGIN_ADDRESS_FAILURE_LIMIT, LOGIN_ADDRESS_WINDOW_SECONDS, ADDRESS_CEILING_FACTOR,
) < 1:
    refuse_to_start("the LOGIN_* limits and ADDRESS_CEILING_FACTOR must be positive.")

# Forgotten passwords (aptic.passwords): reset messages one address receives per hour.
PASSWORD_RESET_MAILS_PER_HOUR = envint("PASSWORD_RESET_MAILS_PER_HOUR", 3)
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60  # seconds a reset link stays valid

ADMIN_URL = env("ADMIN_URL", "admin/").strip("/") + "/"

# `manage.py demo` loads the accounts, then each app's demo data through these loaders.
DEMO_LOADERS = ["services.demo.load", "places.demo.load", "cheques.demo.load"]

# Cheque orders (cheques app): end of validity and issuance.
EXPIRY_GRACE_DAYS = envint("EXPIRY_GRACE_DAYS", 31)  # cheques accepted after valid_until
EXPIRY_ALERT_DAYS = envint("EXPIRY_ALERT_DAYS", 30)  # the funder is warned at J-30
HANDOVER_STOP_DAYS = envint("HANDOVER_STOP_DAYS", 15)  # hand-overs refused from J-15
# Orders of more cheques than this are issued by a Celery task (with a progress bar).
ISSUANCE_ASYNC_THRESHOLD = envint("ISSUANCE_ASYNC_THRESHOLD", 20000)

# Brute-force protection of cheque look-ups (cheques.guard): per account when signed in,
# per address when anonymous.
CHEQUE_LOOKUP_FAILURE_LIMIT = envint("CHEQUE_LOOKUP_FAILURE_LIMIT", 20)
CHEQUE_LOOKUP_FAILURE_WINDOW_SECONDS = envint("CHEQUE_LOOKUP_FAILURE_WINDOW_SECONDS", 600)

# Fraud signals shown to the operator (cheques.fraud); they never block by themselves.
FRAUD_BOOKLET_WINDOW_MINUTES = envint("FRAUD_BOOKLET_WINDOW_MINUTES", 10)  # whole booklet
FRAUD_MAX_REDEMPTIONS_PER_HOUR = envint("FRAUD_MAX_REDEMPTIONS_PER_HOUR", 30)  # per mediator
FRAUD_LOOKBACK_DAYS = envint("FRAUD_LOOKBACK_DAYS", 30)  # period the signals cover

# The operator: the issuer of quotes and invoices (cheques.invoicing, paid in advance to its
# account) and the debtor of the SEPA credit transfers that pay places
# (cheques.reimbursement). The demo's values are refused with DEBUG=0.
DEMO_OPERATOR = {
    "OPERATOR_IBAN": "FR1420041010050500013M02606",
    "OPERATOR_BIC": "PSSTFRPPPAR",
    "OPERATOR_SIRET": "81234567600017",
}
OPERATOR_IBAN = env("OPERATOR_IBAN", DEMO_OPERATOR["OPERATOR_IBAN"])
OPERATOR_BIC = env("OPERATOR_BIC", DEMO_OPERATOR["OPERATOR_BIC"])
OPERATOR_ACCOUNT_NAME = env("OPERATOR_ACCOUNT_NAME", "APTIC operateur demo")
OPERATOR_NAME = env("OPERATOR_NAME", "Opérateur #APTIC")
OPERATOR_SIRET = env("OPERATOR_SIRET", DEMO_OPERATOR["OPERATOR_SIRET"])
OPERATOR_ADDRESS = env("OPERATOR_ADDRESS", "1 place de la Démonstration, 33000 Bordeaux")
INVOICE_LEGAL_MENTION = env(
    "INVOICE_LEGAL_MENTION",
    "Montants nets, sans TVA : la valeur des chèques est un bon à usages multiples.",
)

# Idle stock (cheques.funnel): booklets held by a prescriber (or the funder) and not handed
# out for more than IDLE_STOCK_HELD_DAYS, and booklets handed out and not started for more
# than IDLE_STOCK_UNSTARTED_DAYS, shown on the dashboard and in the weekly digest.
IDLE_STOCK_HELD_DAYS = envint("IDLE_STOCK_HELD_DAYS", 60)
IDLE_STOCK_UNSTARTED_DAYS = envint("IDLE_STOCK_UNSTARTED_DAYS", 90)
if min(IDLE_STOCK_HELD_DAYS, IDLE_STOCK_UNSTARTED_DAYS) < 1:
    # Zero would flag every booklet the day it arrives: the digest would mean nothing.
    refuse_to_start("IDLE_STOCK_HELD_DAYS and IDLE_STOCK_UNSTARTED_DAYS must be positive.")

# Printing (cheques.printing): cheques per chunk task (chunks of whole booklets).
PRINT_CHUNK_CHEQUES = envint("PRINT_CHUNK_CHEQUES", 500)
# A print job with no progress for this long is stalled (a chunk takes seconds): the
# operator sees it and may restart it, and the beat job below restarts it by itself (after
# the broker's visibility timeout has had its chance to give lost messages back).
PRINT_STALL_MINUTES = envint("PRINT_STALL_MINUTES", 10)

# The periodic jobs (Celery beat), all of them.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    # J-30 alerts to funders, expiry and credit notes after the grace period (daily).
    "cheques-end-of-validity": {
        "task": "cheques.tasks.end_of_validity_task",
        "schedule": 24 * 60 * 60,
    },
    # The previous month's statements, on the 1st at 3:00.
    "cheques-monthly-reimbursement": {
        "task": "cheques.tasks.monthly_reimbursement_task",
        "schedule": crontab(minute=0, hour=3, day_of_month=1),
    },
    # The weekly digest of idle stock to funders and prescribers (Mondays at 7:30; sent
    # once per organisation and week, whatever runs the job again).
    "cheques-idle-stock-digest": {
        "task": "cheques.tasks.idle_stock_digest_task",
        "schedule": crontab(minute=30, hour=7, day_of_week=1),
    },
    # Print jobs with no progress for PRINT_STALL_MINUTES, restarted (every minute).
    "cheques-resume-stalled-printing": {
        "task": "cheques.tasks.resume_stalled_print_jobs_task",
        "schedule": 60,
    },
    # The open-data files of qualified places (/donnees/), daily at 4:30.
    "places-publish-open-data": {
        "task": "places.tasks.publish_open_data_task",
        "schedule": crontab(minute=30, hour=4),
    },
}

# Production refuses the demo's operator and QR signing keys derived from SECRET_KEY
# (rotating the secret would void every printed cheque).
if not DEBUG:
    demo_values = [name for name, value in DEMO_OPERATOR.items()
                   if globals()[name] in (value, "")]
    if demo_values:
        refuse_to_start(f"{', '.join(demo_values)} still hold the demo's values or nothing "
                        "(DEBUG=0): set the operator's own.")
    if not env("CHEQUE_SIGNING_KEYS"):
        refuse_to_start("CHEQUE_SIGNING_KEYS must be set when DEBUG=0 (id:secret pairs).")
