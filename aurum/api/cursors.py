"""Signed pagination cursors (v1 offset/keyset cursors, v2 cursors) and the v1 paging-parameter rules.

The original v1 cursor was signed with the first 8 hex characters of an *unkeyed* SHA-256 of its data, which
anyone can recompute after editing the data. We keep the original envelope
(URL-safe base64 of ``{"data": {offset, limit, timestamp, filters}, "sig": ...}``) but ``sig`` is an
HMAC-SHA256 keyed with ``settings.SECRET_KEY``, so a cursor cannot be forged or edited by a client. v2 cursors
(``{offset, limit, filters}``) carry the same kind of keyed ``sig`` and no time: v2 cursors do not expire,
and a v2 page's cursors are in its body (``links``), so a time stamp in them made every page that has a next
or previous page a new ETag, and If-None-Match never matched. Cursors issued with a ``ts`` still decode.

Every failure raises a ``CursorError`` (an ``aurum.errors.InvalidInputError``), a 400 problem with the
message as ``detail``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from aurum.errors import InvalidInputError

MAX_CURSOR_LENGTH = 1000
CURSOR_MAX_AGE_SECONDS = 3600

MSG_INVALID = "Invalid cursor"
MSG_SIGNATURE = "signature mismatch"
MSG_EXPIRED = "Cursor has expired"
MSG_FILTERS = "Cursor filters do not match"
MSG_TOO_LONG = f"Cursor is too long (maximum {MAX_CURSOR_LENGTH} characters)"
MSG_MANY_CURSORS = "Use only one of cursor, since_cursor and prev_cursor"
MSG_CURSOR_WITH_OFFSET = "offset cannot be combined with a cursor; use the cursor alone"
# Deeper pages are refused rather than handed to an engine that would overflow or scan for minutes.
MAX_OFFSET = 10_000_000
MSG_BAD_OFFSET = f"offset must be an integer from 0 to {MAX_OFFSET}"

_TYPE_KEY = "__cursor_type__"
_V1_SALT = "aurum.api.cursors.v1"
_V2_SALT = "aurum.api.cursors.v2"


class PaginationError(InvalidInputError):
    """Bad paging parameters: a 400 problem whose ``detail`` is the message."""

    slug = "invalid-pagination"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CursorError(PaginationError):
    slug = "invalid-cursor"


@dataclass(frozen=True)
class CursorData:
    """A decoded v1 cursor. ``position`` holds keyset values (dates restored) or None for offset paging."""

    offset: int
    limit: int
    timestamp: float
    filters: dict[str, Any]
    position: Any = None


@dataclass(frozen=True)
class V2CursorData:
    offset: int
    limit: int
    filters: dict[str, Any]


@dataclass(frozen=True)
class V1PagingParams:
    """The v1 paging query after the conflict rules: at most one cursor, and never a cursor with offset."""

    cursor: str | None
    direction: Literal["next", "prev"]
    offset: int | None


# --- value encoding -------------------------------------------------------------------------------------


def cursor_value_encode(value: Any) -> Any:
    """JSON-safe keyset value or filter; a date becomes ``{"__cursor_type__":"date","value":iso}``."""
    if isinstance(value, datetime):
        return {_TYPE_KEY: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TYPE_KEY: "date", "value": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): cursor_value_encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cursor_value_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def cursor_value_decode(value: Any) -> Any:
    """Inverse of ``cursor_value_encode``; raises ``CursorError("Invalid cursor")`` on an unknown tag."""
    if isinstance(value, dict):
        if _TYPE_KEY in value:
            kind, raw = value.get(_TYPE_KEY), value.get("value")
            try:
                if kind == "date" and isinstance(raw, str):
                    return date.fromisoformat(raw)
                if kind == "datetime" and isinstance(raw, str):
                    return datetime.fromisoformat(raw)
            except ValueError:
                pass
            raise CursorError(MSG_INVALID)
        return {k: cursor_value_decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cursor_value_decode(v) for v in value]
    return value


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _normalized_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    # An absent filter and a null filter mean the same query, so nulls are dropped before comparing.
    encoded: dict[str, Any] = cursor_value_encode({k: v for k, v in filters.items() if v is not None})
    return encoded


def _sign(salt: str, payload: Any) -> str:
    # salted_hmac keys the HMAC with settings.SECRET_KEY; the salt keeps v1 and v2 signatures apart.
    return salted_hmac(salt, _canonical(payload), algorithm="sha256").hexdigest()


def _b64encode(payload: Any) -> str:
    return base64.urlsafe_b64encode(_canonical(payload)).decode("ascii").rstrip("=")


def _b64decode_json(token: str) -> Any:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        return json.loads(raw)
    except (binascii.Error, ValueError) as exc:  # ValueError covers JSON and non-UTF-8 errors
        raise CursorError(MSG_INVALID) from exc


def _now_seconds(now: datetime | None) -> float:
    return (now or timezone.now()).timestamp()


def _non_negative_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_length(token: str) -> None:
    if len(token) > MAX_CURSOR_LENGTH:
        raise CursorError(MSG_TOO_LONG)


# --- v1 ---------------------------------------------------------------------------------------------------


def cursor_encode(
    *, offset: int, limit: int, filters: Mapping[str, Any], now: datetime | None = None, position: Any = None
) -> str:
    """A signed v1 cursor for the page at ``offset`` (or after keyset ``position``) under ``filters``."""
    data: dict[str, Any] = {
        "offset": offset,
        "limit": limit,
        "timestamp": _now_seconds(now),
        "filters": _normalized_filters(filters),
    }
    if position is not None:
        data["position"] = cursor_value_encode(position)
    token = _b64encode({"data": data, "sig": _sign(_V1_SALT, data)})
    _check_length(token)
    return token


def cursor_decode(
    token: str,
    *,
    filters: Mapping[str, Any],
    now: datetime | None = None,
    max_age: int = CURSOR_MAX_AGE_SECONDS,
) -> CursorData:
    """Verify a v1 cursor (length, signature, age, filters, in that order) and return its data."""
    _check_length(token)
    envelope = _b64decode_json(token)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), dict):
        raise CursorError(MSG_INVALID)
    data, sig = envelope["data"], envelope.get("sig")
    if not isinstance(sig, str) or not constant_time_compare(sig, _sign(_V1_SALT, data)):
        raise CursorError(MSG_SIGNATURE)
    timestamp, cursor_filters = data.get("timestamp"), data.get("filters")
    if (
        not _non_negative_int(data.get("offset"))
        or not _non_negative_int(data.get("limit"))
        or not isinstance(timestamp, int | float)
        or not isinstance(cursor_filters, dict)
    ):
        raise CursorError(MSG_INVALID)
    if _now_seconds(now) - timestamp > max_age:
        raise CursorError(MSG_EXPIRED)
    if _canonical(cursor_filters) != _canonical(_normalized_filters(filters)):
        raise CursorError(MSG_FILTERS)
    return CursorData(
        offset=data["offset"],
        limit=data["limit"],
        timestamp=float(timestamp),
        filters=cursor_value_decode(cursor_filters),
        position=cursor_value_decode(data.get("position")),
    )


def offset_parse(raw: Any) -> int:
    """An ``offset`` query value: a whole number from 0 to MAX_OFFSET, else PaginationError."""
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_OFFSET)) or int(text) > MAX_OFFSET:
        raise PaginationError(MSG_BAD_OFFSET)
    return int(text)


def v1_paging_params(query: Mapping[str, Any]) -> V1PagingParams:
    """Apply the v1 rules: one of cursor / since_cursor (alias) / prev_cursor, and no cursor with offset."""
    given = {name: query.get(name) for name in ("cursor", "since_cursor", "prev_cursor") if query.get(name)}
    if len(given) > 1:
        raise PaginationError(MSG_MANY_CURSORS)
    raw_offset = query.get("offset")
    offset: int | None = None
    if raw_offset not in (None, ""):
        if given:
            raise PaginationError(MSG_CURSOR_WITH_OFFSET)
        offset = offset_parse(raw_offset)
    name, token = next(iter(given.items()), (None, None))
    return V1PagingParams(
        cursor=str(token) if token else None,
        direction="prev" if name == "prev_cursor" else "next",
        offset=offset,
    )


# --- v2 ---------------------------------------------------------------------------------------------------


def v2_cursor_encode(*, offset: int, limit: int, filters: Mapping[str, Any]) -> str:
    """A signed v2 cursor ``{offset, limit, filters (non-null only), sig}``: the same page under the same
    filters always has the same cursor."""
    payload: dict[str, Any] = {"offset": offset, "limit": limit, "filters": _normalized_filters(filters)}
    token = _b64encode({**payload, "sig": _sign(_V2_SALT, payload)})
    _check_length(token)
    return token


def v2_cursor_decode(token: str, *, filters: Mapping[str, Any] | None = None) -> V2CursorData:
    """Verify a v2 cursor; anything wrong with it is ``CursorError("Invalid cursor")``. With ``filters`` (the
    request's), a cursor made under other filters is ``CursorError("Cursor filters do not match")``."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise CursorError(MSG_INVALID)
    payload = _b64decode_json(token)
    if not isinstance(payload, dict):
        raise CursorError(MSG_INVALID)
    sig = payload.pop("sig", None)
    if not isinstance(sig, str) or not constant_time_compare(sig, _sign(_V2_SALT, payload)):
        raise CursorError(MSG_INVALID)
    cursor_filters = payload.get("filters")
    if (
        not _non_negative_int(payload.get("offset"))
        or not _non_negative_int(payload.get("limit"))
        or not isinstance(payload.get("ts", 0), int | float)
        or not isinstance(cursor_filters, dict)
    ):
        raise CursorError(MSG_INVALID)
    if filters is not None and _canonical(cursor_filters) != _canonical(_normalized_filters(filters)):
        raise CursorError(MSG_FILTERS)
    return V2CursorData(
        offset=payload["offset"], limit=payload["limit"], filters=cursor_value_decode(cursor_filters)
    )
