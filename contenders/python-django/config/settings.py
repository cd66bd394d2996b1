"""Django settings for the bakeoff contender; deployment values come from the environment."""

import os

from django.core.management.utils import get_random_secret_key

# No sessions, signing or users in this app, so a per-process key is enough
# unless one is supplied.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or get_random_secret_key()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["bench"]

# No session, auth, CSRF or messages middleware: the app has no users or forms.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

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
        "OPTIONS": {
            # Busy timeout, and BEGIN IMMEDIATE for atomic blocks: gunicorn
            # workers write concurrently during /updates.
            "timeout": 5,
            "transaction_mode": "IMMEDIATE",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

BAKEOFF_DATA = os.environ["BAKEOFF_DATA"]
BAKEOFF_UPSTREAM = os.environ["BAKEOFF_UPSTREAM"].rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
