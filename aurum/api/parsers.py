"""Request body parsing: JSON that PostgreSQL can store.

A JSON string may hold ``\\u0000``; PostgreSQL's text and jsonb cannot, so a body carrying one would pass
validation and fail at the database (a 500). It is refused here, as any other malformed body, with a 400.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class StorableJSONParser(JSONParser):
    """DRF's JSON parser, refusing NUL characters anywhere in the document (keys included)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _holds_nul(data):
            raise ParseError("JSON parse error - strings may not contain the NUL character (\\u0000).")
        return data
