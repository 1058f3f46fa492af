"""Settings for jindu, read from the environment only (see ``jindu/env.py``).

With nothing set, jindu runs on a SQLite file under ``var/`` with safe
defaults. ``JINDU_DATABASE_URL=postgres://…`` switches to PostgreSQL, which then
also requires explicit secrets.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from jindu import env

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env.string("JINDU_VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env.boolean("JINDU_DEBUG", False)
DEMO = env.boolean("JINDU_DEMO", False)

# ---------------------------------------------------------------- database
_default_sqlite = VAR_DIR / ("demo.sqlite3" if DEMO else "jindu.sqlite3")
DATABASE_URL = env.string("JINDU_DATABASE_URL", f"sqlite:///{_default_sqlite}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env.integer("JINDU_DB_CONN_MAX_AGE", 60))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # Writers queue instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA secure_delete=ON;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
DATABASES = {"default": _db}
IS_POSTGRES = _db["ENGINE"].startswith("django.db.backends.postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Background jobs (imports, counting) run by `jindu worker`; inline, each runs in the
# process that queued it right after its transaction commits (the tests set this).
JOBS_INLINE = env.boolean("JINDU_JOBS_INLINE", False)

# ---------------------------------------------------------------- secrets
if IS_POSTGRES and not DEBUG:
    for _required in ("JINDU_SECRET_KEY", "JINDU_DATA_KEY"):
        if not env.string(_required):
            raise env.ConfigError(
                f"{_required} (or {_required}_FILE) must be set when running on PostgreSQL"
            )
SECRET_KEY = env.secret_or_generated("JINDU_SECRET_KEY", VAR_DIR / "secret_key", 48)
# Key material for personal-data encryption, blind indexes and the audit chain.
# Never stored in the database.
DATA_KEY = env.secret_or_generated("JINDU_DATA_KEY", VAR_DIR / "data_key", 32)
DATA_CIPHER = env.string("JINDU_DATA_CIPHER", "aes-256-gcm")

ALLOWED_HOSTS = env.strings("JINDU_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.strings("JINDU_CSRF_TRUSTED_ORIGINS", [])

# ---------------------------------------------------------------- apps
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "jindu.core",
    "jindu.audit",
    "jindu.orgs",
    "jindu.codes",
    "jindu.accounts",
    "jindu.notifications",
    "jindu.people",
    "jindu.inspections",
    "jindu.regulation",
    "jindu.enforcement",
    "jindu.targets",
    "jindu.dashboards",
    "jindu.portal",
    "jindu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise, so that static files carry the CSP and framing headers too.
    "jindu.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jindu.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jindu.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jindu.accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jindu.core.middleware.AccessRuleMiddleware",
]

ROOT_URLCONF = "jindu.urls"
WSGI_APPLICATION = "jindu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jindu.portal.context.shell",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["jindu.accounts.backends.ScopedUserBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"

# ---------------------------------------------------------------- security policy
# Every value is configurable because graded-protection assessors differ.
PASSWORD_MIN_LENGTH = env.integer("JINDU_PASSWORD_MIN_LENGTH", 8, minimum=6)
PASSWORD_MIN_CLASSES = env.integer("JINDU_PASSWORD_MIN_CLASSES", 3, minimum=1)
PASSWORD_MAX_AGE_DAYS = env.integer("JINDU_PASSWORD_MAX_AGE_DAYS", 0, minimum=0)
LOCKOUT_THRESHOLD = env.integer("JINDU_LOCKOUT_THRESHOLD", 5, minimum=1)
LOCKOUT_MINUTES = env.integer("JINDU_LOCKOUT_MINUTES", 15, minimum=1)
SESSION_IDLE_MINUTES = env.integer("JINDU_SESSION_IDLE_MINUTES", 30, minimum=1)
TOTP_FOR_ALL = env.boolean("JINDU_TOTP_FOR_ALL", False)
AUDIT_RETENTION_DAYS = max(180, env.integer("JINDU_AUDIT_RETENTION_DAYS", 180, minimum=180))

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "jindu.accounts.passwords.ComplexityValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH, "min_classes": PASSWORD_MIN_CLASSES},
    },
    {"NAME": "jindu.accounts.passwords.NotContainingUsernameValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "jindu_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_NAME = "jindu_csrf"
CSRF_FAILURE_VIEW = "jindu.portal.views.csrf_failure"

HTTPS = env.boolean("JINDU_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env.integer("JINDU_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.boolean("JINDU_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer("JINDU_UPLOAD_MAX_MB", 20, minimum=1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env.string("JINDU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------- static
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The vendored Bootstrap, HTMX and ECharts live in the package, outside any app.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.string(
            "JINDU_STATIC_STORAGE", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = env.boolean("JINDU_STATIC_FINDERS", DEBUG)
WHITENOISE_MAX_AGE = 3600

# ---------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal": {"()": "jindu.core.logmask.MaskPersonalDataFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_personal"],
        }
    },
    "root": {"handlers": ["console"], "level": env.string("JINDU_LOG_LEVEL", "WARNING")},
}
