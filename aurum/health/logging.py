"""A readiness probe answering 503 is a state, not an error: Django's request log stays quiet about it."""

import logging

PROBE_PREFIX = "/health/"


class ProbeNotReadyFilter(logging.Filter):
    """Drops ``django.request``'s "Service Unavailable" record of a health probe (a starting process, a
    dependency down: the probe's body and the health metrics say which); every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", "") or ""
        return not (getattr(record, "status_code", None) == 503 and path.startswith(PROBE_PREFIX))
