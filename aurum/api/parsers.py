"""Request body parsing: JSON that PostgreSQL can store, of a depth code can walk, that displays as it reads.

A JSON string may hold ``\\u0000`` or a lone surrogate (``\\ud800``), and a number such as ``1e999``
parses to infinity; PostgreSQL's text and jsonb can store none of them, so a body carrying one would pass
validation and fail at the database (a 500). A document nested thousands of levels deep exhausts the
recursion of the parser or of whatever walks it later (a 500 too). Bidirectional override and isolate
characters make a name display as something else ("invoice\\u202etxt.exe" shows as "invoiceexe.txt")
wherever it is shown later. Each is refused here, as any other malformed body, with a 400 (decision 0037).
"""

from __future__ import annotations

import math
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Far deeper than any request document of the API (scenario assumptions and PPA terms nest 4 levels).
MAX_JSON_DEPTH = 64
_NUL = "strings may not contain the NUL character (\\u0000)."
_SURROGATES = re.compile("[\ud800-\udfff]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _string_reason(text: str) -> str | None:
    if "\x00" in text:
        return _NUL
    surrogate = _SURROGATES.search(text)
    if surrogate is not None:
        code = ord(surrogate.group())
        return f"strings may not contain lone surrogates (U+{code:04X}), which encode no character."
    bidi = _BIDI_CONTROLS.search(text)
    if bidi is not None:
        return (
            f"strings may not contain bidirectional control characters (U+{ord(bidi.group()):04X}): they "
            "make text display as something else."
        )
    return None


def unstorable_reason(document: Any) -> str | None:
    """Why ``document`` (parsed JSON) cannot be taken, or None. Walked without recursion."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if reason := _string_reason(value):
                return reason
        elif isinstance(value, float):
            if not math.isfinite(value):
                return "numbers must be finite (a number such as 1e999 is out of range)."
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"the document is nested more than {MAX_JSON_DEPTH} levels deep."
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                if isinstance(key, str) and (reason := _string_reason(key)):
                    return reason
                pending.append((item, depth + 1))
    return None


class StorableJSONParser(JSONParser):
    """DRF's JSON parser, refusing NUL, lone surrogate and bidirectional control characters (keys included),
    non-finite numbers and deep nesting."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                f"JSON parse error - the document is nested more than {MAX_JSON_DEPTH} levels deep."
            ) from exc
        reason = unstorable_reason(data)
        if reason is not None:
            raise ParseError(f"JSON parse error - {reason}")
        return data
