"""Postgres advisory locks: the one way Aurum's writers take turns.

Iceberg commits are optimistic: two writers committing to one table at once make one of them fail. Aurum's
own writers of a table take turns on a transaction-scoped advisory lock named after it instead (a slice
write, a group commit and a valuation append each hold it well under a second). Locks are released when the
caller's transaction ends, so a crashed worker never leaves one behind.
"""

from __future__ import annotations

import hashlib

from django.db import OperationalError, connection


class LockTimeoutError(Exception):
    """The lock was not granted within the timeout (another transaction holds it)."""


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same in every process and release)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def table_lock_name(identifier: str) -> str:
    return f"iceberg:{identifier}"


def advisory_xact_lock(name: str, *, timeout_seconds: float | None = None) -> None:
    """Hold the lock ``name`` until the caller's transaction ends (call inside ``transaction.atomic``).

    With ``timeout_seconds`` a lock still held by another transaction after that long raises
    LockTimeoutError (and the caller's transaction must roll back), instead of waiting for ever.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_lock needs a transaction (transaction.atomic)")
    key = advisory_lock_key(name)
    with connection.cursor() as cursor:
        if timeout_seconds is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            return
        milliseconds = max(1, int(timeout_seconds * 1000))
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
        try:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        except OperationalError as exc:  # psycopg's LockNotAvailable (55P03), as Django wraps it
            if getattr(exc.__cause__, "sqlstate", None) == "55P03":
                raise LockTimeoutError(f"lock '{name}' not granted within {timeout_seconds} s") from exc
            raise
        # transaction-local; back to waiting without a limit for the rest of the caller's transaction
        cursor.execute("SELECT set_config('lock_timeout', '0', true)")


def advisory_xact_try_lock(name: str) -> bool:
    """Take the lock ``name`` for the caller's transaction if it is free now; False if another holds it."""
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_try_lock needs a transaction (transaction.atomic)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [advisory_lock_key(name)])
        row = cursor.fetchone()
    return bool(row and row[0])
