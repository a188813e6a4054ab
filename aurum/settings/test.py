"""The test suite: real Postgres and Redis from DATABASE_URL / REDIS_URL.

``make test`` starts throwaway ones.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _isolate_xdist_worker() -> None:
    """Under pytest-xdist each worker gets its own Redis database, var directory and warehouse.

    Postgres is already separate (pytest-django creates ``test_<name>_gwN``). Written to the environment
    before the base settings read it, so the Celery worker and servers a test starts inherit the same values.
    Idempotent: those subprocesses import these settings again with the same ``PYTEST_XDIST_WORKER``.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or os.environ.get("AURUM_XDIST_ISOLATED") == worker:
        return
    number = int(worker[2:])
    redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    os.environ["REDIS_URL"] = urlunsplit(redis._replace(path=f"/{number + 1}"))
    var_dir = Path(os.environ.get("AURUM_VAR_DIR", Path(__file__).resolve().parents[2] / "var")) / worker
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["AURUM_VAR_DIR"] = str(var_dir)
    os.environ["AURUM_WAREHOUSE"] = (var_dir / "warehouse").as_uri()
    os.environ["AURUM_XDIST_ISOLATED"] = worker


_isolate_xdist_worker()

from aurum.settings.base import *  # noqa: E402, F403
from aurum.settings.base import VAR_DIR, env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AURUM_WAREHOUSE = env.str("AURUM_WAREHOUSE", default=(VAR_DIR / "test-warehouse").as_uri())
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
AURUM_WORKER_HEARTBEAT_SECONDS = 1
AURUM_TENANT_SPARE_SCHEMAS = 0  # tests/platform/test_spare_schemas.py sets its own
AURUM_PUBLIC_HOSTS = ["localhost", "127.0.0.1", "testserver"]
# Static files straight from the apps' folders (no collectstatic in tests), and no STATIC_ROOT to look in.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
# Every readiness call runs its checks; the test of the cache turns it on.
AURUM_HEALTH_CACHE_SECONDS = 0.0
# Workers and servers started by tests skip the start-up warm-up (tests/platform/test_warmup.py runs it).
AURUM_WARM_UP = env.bool("AURUM_WARM_UP", default=False)
# Receivers in tests are http servers on loopback; a hanging one must not cost long.
AURUM_WEBHOOK_ALLOW_PRIVATE = True
AURUM_WEBHOOK_ALLOW_HTTP = True
AURUM_WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1.0
AURUM_WEBHOOK_TIMEOUT_SECONDS = 2.0
# Every scrape computes its gauges.
AURUM_METRICS_SCRAPE_CACHE_SECONDS = 0.0
AURUM_FEEDS_BACKOFF_SECONDS = 0.0  # retries in tests do not wait
# The tests' OIDC provider (tests/support/oidc_provider) serves plain http on loopback.
AURUM_SSO_ALLOW_HTTP_ISSUERS = True
