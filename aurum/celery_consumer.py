"""The worker's consumer: Celery's own, surviving the loss of its Redis broker connection.

Celery 5.7 with kombu's Redis transport: when the broker connection is lost, the consumer ``collect()``s the
connection (closing its channels, restoring unacked messages, detaching its transport) and then ``close()``s
it. That close closes the collected connection's default channel a second time; its unacked restore builds a
Redis pool from the detached transport and raises ``AttributeError: 'NoneType' object has no attribute
'hostname'``, which ``ignore_errors`` does not ignore: the worker logged "Unrecoverable error" and exited
instead of reconnecting (seen with Redis stopped for 30 s in tests/resilience/test_service_outages.py).

Here closing a connection whose transport ``collect()`` already released only forgets its dead default
channel: everything it held was released by the collect. Every other path is Celery's. Selected by
``CELERY_WORKER_CONSUMER`` (settings/base.py); decision 0043.
"""

from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer


def close_unless_collected(connection: Any) -> None:
    """Make ``connection.close()`` a no-op once ``collect()`` has released the connection's transport."""
    close = connection.close

    def close_once() -> None:
        if connection._transport is None:  # collected: channels closed, unacked restored, sockets freed
            connection._default_channel = None
            return
        close()

    connection.close = connection.release = close_once


class Consumer(CeleryConsumer):  # type: ignore[misc]
    def on_connection_error_after_connected(self, exc: Exception) -> None:
        if self.connection is not None:
            close_unless_collected(self.connection)
        super().on_connection_error_after_connected(exc)
