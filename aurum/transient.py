"""Errors worth retrying: the database, Redis or the Celery broker briefly unreachable, an Iceberg commit that
lost a race, a lock not granted in time.

Tasks retry these with backoff and treat everything else as final (the one list every task uses).
"""

from __future__ import annotations

import kombu.exceptions
import redis
from django.db import InterfaceError, OperationalError
from pyiceberg.exceptions import CommitFailedException

from aurum.lakehouse.locks import LockTimeoutError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    CommitFailedException,
    ConnectionError,
    TimeoutError,
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,  # what Celery raises when a task cannot be sent to the broker
    LockTimeoutError,
)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Exponential backoff for retry ``attempt`` (0-based): 2, 4, 8 … seconds, at most ``cap``."""
    return float(min(cap, base ** (attempt + 1)))
