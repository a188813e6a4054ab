"""Production: configured only through environment variables (see README, "Configuration").

The default settings of every entry point (wsgi, asgi, celery, gunicorn), so a deployment that forgets
DJANGO_SETTINGS_MODULE gets the strict settings, and refuses to start without its secrets, instead of running
with development ones. The demo runs these settings too, with the environment the devstack gives it.
"""

from django.core.exceptions import ImproperlyConfigured

from aurum.original_paths import LIVE_PROBES, READY_PROBES
from aurum.settings.base import *  # noqa: F403
from aurum.settings.base import AURUM_STATIC_BROTLI_QUALITY, INSECURE_DEV_SECRET_KEY, STORAGES, env

DEBUG = False

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == INSECURE_DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "aurum.settings.production needs DJANGO_SECRET_KEY: a long random string, kept secret, the same on "
        "every process of a deployment (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
        "To try Aurum on this machine, run `make demo`, which makes one."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "aurum.settings.production needs DJANGO_ALLOWED_HOSTS: the comma-separated host names Aurum answers "
        "to, e.g. 'aurum.example.com,.aurum.example.com' (the leading dot covers the tenants' subdomains)."
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# TLS. Behind a proxy that terminates TLS and sets X-Forwarded-Proto. Health probes and metrics scrapes come
# from inside the network, often over plain HTTP: they are never redirected.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("AURUM_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$", rf"^({'|'.join(LIVE_PROBES + READY_PROBES)})$"]
SECURE_HSTS_SECONDS = env.int("AURUM_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("AURUM_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Asking browsers to preload the domain is a commitment for the domain's owner to make, not a default.
SECURE_HSTS_PRELOAD = env.bool("AURUM_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = env.bool("AURUM_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Hashed, compressed file names (served for a year) from `manage.py collectstatic`, run at release; only the
# files served by hashed name are compressed (decision 0060).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "aurum.staticfiles.StaticFilesStorage"},
}
# Brotli at 11 (the default) makes the smallest files, at release; the demo, collecting on every fresh clone,
# takes 5.
if not 0 <= AURUM_STATIC_BROTLI_QUALITY <= 11:
    raise ImproperlyConfigured("AURUM_STATIC_BROTLI_QUALITY must be 0-11")
