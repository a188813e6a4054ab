"""structlog wired through the standard library, so Django's, Celery's and our own lines share one format."""

import logging

import structlog

from aurum.observability.redaction import redact_event

_SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def structlog_configure() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def structured_formatter(renderer: str = "json") -> logging.Formatter:
    """The LOGGING formatter factory: JSON lines in production and tests, coloured console for the demo."""
    structlog_configure()
    final: structlog.types.Processor
    if renderer == "console":
        final = structlog.dev.ConsoleRenderer(colors=False)
    else:
        final = structlog.processors.JSONRenderer()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,  # last before rendering: nothing rendered carries a secret (redaction.py)
            final,
        ],
    )
