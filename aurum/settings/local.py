"""Developer machine and ``make demo``."""

from aurum.settings.base import *  # noqa: F403
from aurum.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
AURUM_LOG_FORMAT = env.str("AURUM_LOG_FORMAT", default="console")
LOGGING["formatters"]["structured"]["renderer"] = AURUM_LOG_FORMAT  # type: ignore[index]  # noqa: F405
