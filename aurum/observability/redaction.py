"""Secrets never reach a log line: the last line of defence behind code that does not log them.

What is taken out, wherever it appears in a message or a logged value: secrets in a query string (the feeds'
API keys: EIA and FRED take ``api_key=`` in the URL, and httpx logs URLs), bearer credentials, Aurum API
tokens (the public prefix stays, the secret goes), webhook signing secrets (``whsec_…``) and values signed
with Django's signing (an invitation link's token, ``/invitations/<value>:<time>:<signature>/``).

``RedactSecretsFilter`` rewrites a record's message before any handler sees it (LOGGING attaches it to the
console handler and to the loggers that write URLs or paths); ``redact_event`` does the same to every value
of a structlog event, the request objects Django adds to its records included.
"""

import logging
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"
_VALUE = r"[^&\s\"'#<>]+"
# (a substring of the lower-cased text without which the pattern cannot match, the pattern, its replacement):
# the cheap test first, so a line without any secret-shaped text costs a few substring searches.
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "=",
        re.compile(
            r"(?i)([?&;](?:api[_-]?key|key|token|access_token|secret|password|client_secret|sig|signature)=)"
            + _VALUE
        ),
        rf"\1{REDACTED}",
    ),
    ("bearer", re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), rf"\1{REDACTED}"),
    ("aurum_", re.compile(r"\b(aurum_[0-9a-f]{12}_)[A-Za-z0-9_\-]+"), rf"\1{REDACTED}"),
    ("whsec_", re.compile(r"\bwhsec_[A-Za-z0-9+/=_\-]+"), f"whsec_{REDACTED}"),
    # django.core.signing: <value>:<timestamp>:<signature> (base64 pieces; the signature is 43 characters),
    # its colons as they are or percent-encoded (a client may encode them in a path). The look-behind starts
    # a match only at a value's first character (no backtracking from every position).
    (
        ":",
        re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]+:[A-Za-z0-9]+:[A-Za-z0-9_\-]{27,}"),
        REDACTED,
    ),
    (
        "%3a",
        re.compile(r"(?i)(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]+%3A[A-Za-z0-9]+%3A[A-Za-z0-9_\-]{27,}"),
        REDACTED,
    ),
)


def redact_secrets(text: str) -> str:
    lowered = text.lower()
    for trigger, pattern, replacement in _PATTERNS:
        if trigger in lowered:
            text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_secrets(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return redact_secrets(repr(value))  # what the JSON renderer would write (repr), without its secrets


def redact_event(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: every value of the event, redacted."""
    return {key: _redact_value(value) for key, value in event_dict.items()}


_EXCEPTION_FORMATTER = logging.Formatter()


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message (formatted with its arguments) and its exception's text without secrets;
    never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:  # an exception's text may quote a request, with its path
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if isinstance(record.msg, Mapping):  # a structlog event on its way to the formatter
            record.msg = _redact_value(record.msg)
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: leave it for the formatter to report
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
