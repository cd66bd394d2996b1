"""Django settings for the bakeoff contender; deployment values come from the environment."""

import os
from urllib.parse import unquote, urlsplit

from django.core.management.utils import get_random_secret_key

# No sessions, signing or users in this app, so a per-process key is enough
# unless one is supplied.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or get_random_secret_key()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["bench"]

# No middleware, as TechEmpower's Django (hello/settings.py): the app has no
# users, forms, sessions or redirects, and is served on plain HTTP on loopback,
# so Security's headers and Common's URL rewriting have nothing to do here.
# gunicorn adds the contract's Server and Date headers itself.
MIDDLEWARE = []

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BAKEOFF_SQLITE"],
        # Persistent connections: one per gunicorn thread (Django keeps a
        # connection per thread), kept across requests and checked before reuse.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # The contract's PRAGMAs, run on every new connection (Django 5.1+):
            # WAL, NORMAL sync and a busy timeout, since workers write
            # concurrently in /updates; BEGIN IMMEDIATE for atomic blocks, so
            # writers wait for the lock instead of failing on an upgrade.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000"
            ),
            "transaction_mode": "IMMEDIATE",
        },
    }
}

# PostgreSQL runs set BAKEOFF_DATABASE_URL: the same ORM code on Django's
# postgresql backend (psycopg 3), with Django's own connection pool (5.1+; a
# psycopg_pool.ConnectionPool per worker process, created on first use, so after
# gunicorn's fork) of BAKEOFF_DB_POOL_SIZE connections. Each request borrows a
# connection and returns it when Django closes it at the request's end.
DATABASE_URL = os.environ.get("BAKEOFF_DATABASE_URL")
if DATABASE_URL:
    url = urlsplit(DATABASE_URL)
    if url.scheme not in ("postgres", "postgresql"):
        raise SystemExit("BAKEOFF_DATABASE_URL is not a postgres:// URL")
    pool_size = os.environ.get("BAKEOFF_DB_POOL_SIZE", "10")
    if not pool_size.isdigit() or not 1 <= int(pool_size) <= 1024:
        raise SystemExit(
            f"BAKEOFF_DB_POOL_SIZE={pool_size!r} is not an integer between 1 and 1024"
        )
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(url.path.lstrip("/")),
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
        # Pooled connections are not persistent ones: Django requires 0 here.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            # At most BAKEOFF_DB_POOL_SIZE; psycopg_pool's default minimum of 4
            # kept open, more made when a thread has to wait.
            "pool": {"min_size": min(4, int(pool_size)), "max_size": int(pool_size)},
        },
    }
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Set only for launches that serve /data: without it pandas is never imported.
BAKEOFF_DATA = os.environ.get("BAKEOFF_DATA")
BAKEOFF_UPSTREAM = os.environ["BAKEOFF_UPSTREAM"].rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
