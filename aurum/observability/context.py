"""Per-request (or per-task) context that every log line and problem response carries."""

import structlog


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value is not None else None


def context_bind(**values: object) -> None:
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def context_clear() -> None:
    structlog.contextvars.clear_contextvars()
