"""Signed pagination cursors: v1 (spec 3.1 messages; keyed HMAC, not the forgeable sha256[:8]) and v2."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils.crypto import salted_hmac

from aurum.api.cursors import (
    MAX_CURSOR_LENGTH,
    CursorError,
    PaginationError,
    V1PagingParams,
    cursor_decode,
    cursor_encode,
    cursor_value_decode,
    cursor_value_encode,
    v1_paging_params,
    v2_cursor_decode,
    v2_cursor_encode,
)

NOW = datetime(2025, 9, 12, 10, 0, tzinfo=UTC)
FILTERS: dict[str, Any] = {"iso": "PJM", "asof": date(2025, 9, 12), "market": None}


def _unpack(token: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    return loaded


def _pack(envelope: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(envelope).encode()).decode().rstrip("=")


def _decode_error(token: str, **kwargs: Any) -> str:
    with pytest.raises(CursorError) as info:
        cursor_decode(token, **{"filters": FILTERS, "now": NOW, **kwargs})
    return info.value.message


# --- v1 -----------------------------------------------------------------------------------------------


def test_v1_round_trip_returns_offset_limit_timestamp_and_filters() -> None:
    token = cursor_encode(offset=200, limit=100, filters=FILTERS, now=NOW)

    data = cursor_decode(token, filters=FILTERS, now=NOW + timedelta(seconds=10))

    assert (data.offset, data.limit, data.timestamp) == (200, 100, NOW.timestamp())
    assert data.filters == {"iso": "PJM", "asof": date(2025, 9, 12)}  # the null filter is not embedded
    assert data.position is None


def test_v1_token_is_url_safe_base64_of_the_spec_envelope() -> None:
    token = cursor_encode(offset=0, limit=10, filters={"iso": "PJM"}, now=NOW)

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    envelope = _unpack(token)
    assert set(envelope) == {"data", "sig"}
    assert envelope["data"] == {
        "offset": 0,
        "limit": 10,
        "timestamp": NOW.timestamp(),
        "filters": {"iso": "PJM"},
    }
    assert len(envelope["sig"]) == 64  # full HMAC-SHA256, not the spec's 8 characters


def test_v1_keyset_position_encodes_dates_with_the_cursor_type_tag() -> None:
    position = ["PJM_WEST", "2026-01", date(2026, 1, 1), date(2025, 9, 12), "MID"]
    token = cursor_encode(offset=0, limit=10, filters={}, now=NOW, position=position)

    assert _unpack(token)["data"]["position"][2] == {"__cursor_type__": "date", "value": "2026-01-01"}
    assert cursor_decode(token, filters={}, now=NOW).position == position


def test_date_and_datetime_values_round_trip() -> None:
    value = {"d": date(2024, 2, 29), "ts": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "n": [1, "x", None]}

    encoded = cursor_value_encode(value)

    assert encoded["d"] == {"__cursor_type__": "date", "value": "2024-02-29"}
    assert json.loads(json.dumps(encoded)) == encoded
    assert cursor_value_decode(encoded) == value


def test_v1_edited_data_is_a_signature_mismatch() -> None:
    envelope = _unpack(cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW))
    envelope["data"]["offset"] = 1000  # jump ahead, keeping the original signature

    assert _decode_error(_pack(envelope)) == "signature mismatch"


def test_v1_flipped_character_in_the_data_is_a_signature_mismatch() -> None:
    envelope = _unpack(cursor_encode(offset=0, limit=10, filters={"iso": "PJM"}, now=NOW))
    envelope["data"]["filters"]["iso"] = "PJN"

    assert _decode_error(_pack(envelope), filters={"iso": "PJN"}) == "signature mismatch"


def test_v1_signature_forged_with_the_spec_unkeyed_formula_is_rejected() -> None:
    envelope = _unpack(cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW))
    envelope["data"]["limit"] = 1000
    for payload in (
        json.dumps(envelope["data"]),
        json.dumps(envelope["data"], sort_keys=True, separators=(",", ":")),
    ):
        forged = {"data": envelope["data"], "sig": hashlib.sha256(payload.encode()).hexdigest()[:8]}

        assert _decode_error(_pack(forged)) == "signature mismatch"


def test_v1_missing_signature_is_a_signature_mismatch() -> None:
    envelope = _unpack(cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW))
    del envelope["sig"]

    assert _decode_error(_pack(envelope)) == "signature mismatch"


def test_v1_cursor_expires_after_3600_seconds() -> None:
    token = cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW)

    assert cursor_decode(token, filters=FILTERS, now=NOW + timedelta(seconds=3600)).offset == 0
    assert _decode_error(token, now=NOW + timedelta(seconds=3601)) == "Cursor has expired"


def test_v1_max_age_is_configurable() -> None:
    token = cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW)

    assert _decode_error(token, now=NOW + timedelta(seconds=61), max_age=60) == "Cursor has expired"


def test_v1_different_filters_do_not_match() -> None:
    token = cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW)

    assert _decode_error(token, filters={**FILTERS, "iso": "ERCOT"}) == "Cursor filters do not match"
    assert _decode_error(token, filters={"iso": "PJM"}) == "Cursor filters do not match"
    assert (
        _decode_error(token, filters={**FILTERS, "asof": date(2025, 9, 11)}) == "Cursor filters do not match"
    )


def test_v1_filters_compare_without_regard_to_order_or_null_values() -> None:
    token = cursor_encode(offset=0, limit=10, filters=FILTERS, now=NOW)

    same = {"asof": date(2025, 9, 12), "iso": "PJM", "tenor": None}
    assert cursor_decode(token, filters=same, now=NOW).filters == {"iso": "PJM", "asof": date(2025, 9, 12)}


def test_v1_cursor_over_1000_characters_is_refused_before_decoding() -> None:
    token = "A" * (MAX_CURSOR_LENGTH + 1)

    assert _decode_error(token) == "Cursor is too long (maximum 1000 characters)"


def test_v1_encoding_filters_too_large_for_a_cursor_is_refused() -> None:
    with pytest.raises(CursorError, match="too long"):
        cursor_encode(offset=0, limit=10, filters={"curve_key": "X" * 1000}, now=NOW)


@pytest.mark.parametrize(
    "token",
    [
        "not a cursor!",
        "%%%",
        "abc",
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
        _pack({"data": "x", "sig": "y"}),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        "",
    ],
)
def test_v1_undecodable_cursor_is_invalid(token: str) -> None:
    assert _decode_error(token) == "Invalid cursor"


def test_cursor_error_is_a_400_with_the_message_as_detail() -> None:
    error = CursorError("Cursor has expired")

    assert (error.status, error.detail, error.slug) == (
        400,
        "Cursor has expired",
        "invalid-cursor",
    )


# --- v1 paging parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, V1PagingParams(cursor=None, direction="next", offset=None)),
        ({"limit": "10"}, V1PagingParams(cursor=None, direction="next", offset=None)),
        ({"offset": "20"}, V1PagingParams(cursor=None, direction="next", offset=20)),
        ({"offset": "10000000"}, V1PagingParams(cursor=None, direction="next", offset=10_000_000)),
        ({"cursor": "abc"}, V1PagingParams(cursor="abc", direction="next", offset=None)),
        ({"since_cursor": "abc"}, V1PagingParams(cursor="abc", direction="next", offset=None)),
        ({"prev_cursor": "abc"}, V1PagingParams(cursor="abc", direction="prev", offset=None)),
        ({"cursor": "", "offset": "5"}, V1PagingParams(cursor=None, direction="next", offset=5)),
    ],
)
def test_v1_paging_params_accepted(query: dict[str, str], expected: V1PagingParams) -> None:
    assert v1_paging_params(query) == expected


WITH_OFFSET = "offset cannot be combined with a cursor; use the cursor alone"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"cursor": "a", "since_cursor": "b"}, "Use only one of cursor, since_cursor and prev_cursor"),
        ({"cursor": "a", "prev_cursor": "b"}, "Use only one of cursor, since_cursor and prev_cursor"),
        ({"since_cursor": "a", "prev_cursor": "b"}, "Use only one of cursor, since_cursor and prev_cursor"),
        ({"cursor": "a", "offset": "0"}, "offset cannot be combined with a cursor; use the cursor alone"),
        (
            {"prev_cursor": "a", "offset": "10"},
            "offset cannot be combined with a cursor; use the cursor alone",
        ),
        ({"offset": "-1"}, "offset must be an integer from 0 to 10000000"),
        ({"offset": "ten"}, "offset must be an integer from 0 to 10000000"),
        ({"offset": "99999999999999999999999"}, "offset must be an integer from 0 to 10000000"),
        ({"offset": "10000001"}, "offset must be an integer from 0 to 10000000"),
        ({"offset": "\u00b2"}, "offset must be an integer from 0 to 10000000"),
    ],
)
def test_v1_paging_param_conflicts_are_400(query: dict[str, str], message: str) -> None:
    with pytest.raises(PaginationError) as info:
        v1_paging_params(query)

    assert (info.value.status, info.value.message) == (400, message)


def test_v1_paging_params_read_a_querydict(rf: Any) -> None:
    request = rf.get("/api/v1/curves", {"cursor": "a", "since_cursor": "b"})

    with pytest.raises(PaginationError, match="Use only one"):
        v1_paging_params(request.GET)


# --- v2 -----------------------------------------------------------------------------------------------


def test_v2_round_trip_keeps_only_non_null_filters() -> None:
    token = v2_cursor_encode(offset=20, limit=10, filters={"iso": "PJM", "market": None})

    payload = _unpack(token)
    data = v2_cursor_decode(token)

    assert set(payload) == {"offset", "limit", "filters", "sig"}
    assert payload["filters"] == {"iso": "PJM"}
    assert (data.offset, data.limit, data.filters) == (20, 10, {"iso": "PJM"})


def test_a_v2_cursor_is_the_same_for_the_same_page_whenever_it_is_issued() -> None:
    # A page's cursors are in its links, so in its ETag: a cursor that changed with time changed the ETag.
    tokens = {v2_cursor_encode(offset=20, limit=10, filters={"iso": "PJM"}) for _ in range(3)}

    assert len(tokens) == 1


def test_a_v2_cursor_issued_with_a_time_stamp_is_still_accepted() -> None:
    payload = {"offset": 20, "limit": 10, "filters": {"iso": "PJM"}, "ts": NOW.timestamp()}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    sig = salted_hmac("aurum.api.cursors.v2", canonical, algorithm="sha256").hexdigest()

    assert v2_cursor_decode(_pack({**payload, "sig": sig}), filters={"iso": "PJM"}).offset == 20


def test_v2_edited_or_forged_cursor_is_invalid() -> None:
    payload = _unpack(v2_cursor_encode(offset=20, limit=10, filters={}))
    payload["offset"] = 0

    with pytest.raises(CursorError, match="^Invalid cursor$"):
        v2_cursor_decode(_pack(payload))


def test_v1_cursor_is_not_a_valid_v2_cursor() -> None:
    with pytest.raises(CursorError, match="^Invalid cursor$"):
        v2_cursor_decode(cursor_encode(offset=0, limit=10, filters={}, now=NOW))


@pytest.mark.parametrize("token", ["garbage!", "", "A" * 1001, base64.urlsafe_b64encode(b'"x"').decode()])
def test_v2_bad_cursor_is_invalid(token: str) -> None:
    with pytest.raises(CursorError, match="^Invalid cursor$"):
        v2_cursor_decode(token)


def test_v2_cursor_is_bound_to_the_request_filters_nulls_aside() -> None:
    token = v2_cursor_encode(offset=20, limit=10, filters={"iso": "EU", "asof": None})

    assert v2_cursor_decode(token, filters={"iso": "EU"}).offset == 20
    assert v2_cursor_decode(token, filters={"iso": "EU", "asof": None, "market": None}).offset == 20
    with pytest.raises(CursorError, match="^Cursor filters do not match$"):
        v2_cursor_decode(token, filters={"iso": "US"})
    with pytest.raises(CursorError, match="^Cursor filters do not match$"):
        v2_cursor_decode(token, filters={"iso": "EU", "market": "DA"})
