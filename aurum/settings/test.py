"""The test suite: real Postgres and Redis from DATABASE_URL / REDIS_URL.

``make test`` starts throwaway ones.
"""

from aurum.settings.base import *  # noqa: F403
from aurum.settings.base import VAR_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AURUM_WAREHOUSE = env.str("AURUM_WAREHOUSE", default=(VAR_DIR / "test-warehouse").as_uri())
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
AURUM_WORKER_HEARTBEAT_SECONDS = 1
AURUM_PUBLIC_HOSTS = ["localhost", "127.0.0.1", "testserver"]
# Static files straight from the apps' folders (no collectstatic in tests), and no STATIC_ROOT to look in.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
# Every readiness call runs its checks; the test of the cache turns it on.
AURUM_HEALTH_CACHE_SECONDS = 0.0
