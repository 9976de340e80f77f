"""OFeli settings, read from the environment.

Development defaults are safe and need no server: SQLite in var/, a secret generated once
and kept in var/, e-mails written to var/mail/. Production sets DJANGO_ENV=production and
the variables documented in docs/deploy.md.
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OFELI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = os.environ.get("DJANGO_ENV", "development") == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
# Under pytest the settings load before any conftest runs: detect the test runner itself.
TESTING = env_bool("OFELI_TESTING", default="pytest" in sys.modules)


def _secret_key():
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set in production.")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django_htmx",
    "csp",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "huey.contrib.djhuey",
    "ofeli.core",
    "ofeli.accounts",
    "ofeli.referentiels",
    "ofeli.organismes",
    "ofeli.offre",
    "ofeli.validation",
    "ofeli.recherche",
    "ofeli.exports",
    "ofeli.messagerie",
    "ofeli.diffusion",
    "ofeli.public",
    "ofeli.campagnes",
    "ofeli.tableur",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ofeli.accounts.otp.StaffSecondFactorMiddleware",
    "ofeli.core.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "ofeli.core.middleware.NoStoreWhenAuthenticatedMiddleware",
    "ofeli.core.middleware.RequestLogMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ofeli.urls"
WSGI_APPLICATION = "ofeli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ofeli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ofeli.core.context_processors.ofeli",
            ],
            # An undefined variable in a template is a bug: make it visible in tests.
            "string_if_invalid": "INVALID[%s]" if TESTING else "",
        },
    }
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ofeli.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        # A persistent connection is checked before a request reuses it: after a restart of PostgreSQL (or a
        # failover) the first request of each thread would otherwise meet its cut connection and fail
        # (bench/faults/redemarrage.py, docs/reliability.md).
        conn_health_checks=os.environ.get("DB_CONN_HEALTH_CHECKS", "1") == "1",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout so the web process and the worker can share the file. Reads through a memory map
    # (128 MB of the file, shared with the OS page cache, though counted in a process's resident memory: an export
    # at 100,000 formations peaks at ≈ 150 MB of its own + the mapped pages) and a 32 MB page cache per connection
    # instead of SQLite's 2 MB: at 100,000 formations a search reads tens of MB of index pages (docs/performance.md).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA cache_size=-32000; PRAGMA mmap_size=134217728; PRAGMA temp_store=MEMORY;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("OFELI_TEST_SQLITE", None)}
    # The covering columns (INCLUDE) of a few PostgreSQL indexes (offre.models) are an optimisation SQLite ignores.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "ofeli.accounts.hashers.OfeliArgon2PasswordHasher",  # Argon2id, OWASP's parameters (docs/decisions/)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "ofeli.accounts.passwords.OfeliPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 24 * 3600  # reset links: 24 hours
OFELI_ACTIVATION_KEY_VALIDITY = timedelta(days=3)

# Sessions: 30 minutes idle, 12 hours at most (docs/security.md).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
OFELI_SESSION_ABSOLUTE_LIFETIME = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# django-axes: a delay that grows after 5 failures, never a permanent lock (CNIL 2022, case 2).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = "ofeli.accounts.throttling.cooloff_time"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "ofeli.accounts.throttling.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and private files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    BASE_DIR / "ofeli" / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]


def _default_private_root():
    # Tests never write into the developer's var/: each run gets its own temporary folder.
    if TESTING:
        import tempfile

        return tempfile.mkdtemp(prefix="ofeli-test-private-")
    return VAR_DIR / "private"


STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Private files (agreements, attachments): never under STATIC_ROOT, never served
        # directly; a view checks the rights and streams them (ofeli.core.files).
        "OPTIONS": {"location": str(Path(os.environ.get("PRIVATE_MEDIA_ROOT", _default_private_root())))},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
OFELI_MAX_ATTACHMENT_SIZE = int(os.environ.get("OFELI_MAX_ATTACHMENT_SIZE", 10 * 1024 * 1024))
# Exports of more formations than this run as a background job the user downloads when ready.
OFELI_EXPORT_SYNC_MAX = int(os.environ.get("OFELI_EXPORT_SYNC_MAX", 1000))

# --- E-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "ofeli.core.mail.EmlFileBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OFeli <ne-pas-repondre@ofeli.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Region (configuration, never literals in code or templates) ---------------------------
# OFELI_REGION names a JSON file in ofeli/regions/ (or an absolute path): code, name,
# départements, the GIP's name and contact details, the public site's name.
OFELI_REGION_FILE = os.environ.get("OFELI_REGION", "centre-val-de-loire")

# --- Background jobs: Huey (SQLite by default, Redis in production) ------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "ofeli",
        "url": REDIS_URL,
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "ofeli",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": env_bool("HUEY_IMMEDIATE", default=TESTING),
    }

# --- Cache --------------------------------------------------------------------------------
if REDIS_URL and not TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security -----------------------------------------------------------------------------
# Second factor (TOTP, django-otp) for the équipe offre and superusers (docs/security.md): always on in
# production, whatever the environment says; in development OFELI_STAFF_2FA=1 turns it on (off by default so
# the demo staff login of `make run` works); off under the test runner (tests turn it on with override_settings).
OFELI_STAFF_2FA = PRODUCTION or (not TESTING and env_bool("OFELI_STAFF_2FA", default=False))
OTP_TOTP_ISSUER = "OFeli"
OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes: wait 1, 2, 4, 8... seconds per device (django-otp)
OTP_STATIC_THROTTLE_FACTOR = 1
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = False
# Content-Security-Policy (django-csp): no inline script, no inline style attribute, no framing.
# Every script and stylesheet is served by OFeli itself; htmx's inline indicator styles are off
# (htmx-config meta in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Logs: one line per request (ofeli.request) and per job (ofeli.jobs), key=value pairs with ids.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        "ofeli.request": {"level": "INFO" if not TESTING else "WARNING"},
        "ofeli.jobs": {"level": "INFO"},  # job start/end lines (ofeli.core.joblog), whatever LOG_LEVEL says
        # Huey's consumer adds its own handler to a "huey" logger that has none, and the line then also reaches
        # the root handler: one handler here, no propagation, one line per event.
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
