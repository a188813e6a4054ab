"""A developer's machine: ``manage.py`` in a checkout (DEBUG on unless DJANGO_DEBUG says otherwise).

``make demo`` itself serves with the production settings (see ``aurum.devstack``). Commands run from this
checkout while it serves (``manage.py ingest_eod …``) use the demo's stack: ``var/demo.env`` names its
database and Redis, unless DATABASE_URL / REDIS_URL are set.
"""

from pathlib import Path

import environ

_DEMO_ENV = Path(__file__).resolve().parents[2] / "var" / "demo.env"
if _DEMO_ENV.exists():
    environ.Env.read_env(_DEMO_ENV)

from aurum.settings.base import *  # noqa: E402, F403
from aurum.settings.base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
AURUM_LOG_FORMAT = env.str("AURUM_LOG_FORMAT", default="console")
LOGGING["formatters"]["structured"]["renderer"] = AURUM_LOG_FORMAT  # type: ignore[index]  # noqa: F405
AURUM_SSO_ALLOW_HTTP_ISSUERS = env.bool("AURUM_SSO_ALLOW_HTTP_ISSUERS", default=True)
