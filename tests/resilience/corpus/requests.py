"""Malformed and hostile requests: JSON bodies, query strings, paths and headers. Each names the answer it
must get: the status, the problem type and a part of the detail. Cursor cases need cursors issued by the
server and are built by the test itself."""

from __future__ import annotations

from dataclasses import dataclass, field

SCENARIOS = "/api/v2/scenarios"
V1_SCENARIOS = "/api/v1/scenarios"
CURVES = "/api/v2/curves"
PROBLEMS = "https://aurum.dev/problems/"
# The test lowers DATA_UPLOAD_MAX_MEMORY_SIZE to this (from 5 MB), so the oversized body stays small.
BODY_LIMIT = 30_000


@dataclass(frozen=True)
class BadRequest:
    method: str
    path: str
    status: int
    slug: str
    detail: str  # a part of the problem's detail
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _post(body: bytes, status: int, slug: str, detail: str, **kwargs: object) -> BadRequest:
    return BadRequest("POST", SCENARIOS, status, slug, detail, body=body, **kwargs)  # type: ignore[arg-type]


def _get(path: str, status: int, slug: str, detail: str, **kwargs: object) -> BadRequest:
    return BadRequest("GET", path, status, slug, detail, **kwargs)  # type: ignore[arg-type]


JSON_BODIES: dict[str, BadRequest] = {
    "trailing garbage": _post(b'{"name": "x"} garbage', 400, "parse_error", "JSON parse error - Extra data"),
    "deep nesting (10,000)": _post(
        b'{"name": "x", "parameters": {"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}",
        400,
        "parse_error",
        "JSON parse error - the document is nested more than 64 levels deep.",
    ),
    "nesting past the limit (100)": _post(
        b'{"name": "x", "parameters": {"a": ' + b"[" * 100 + b"]" * 100 + b"}}",
        400,
        "parse_error",
        "JSON parse error - the document is nested more than 64 levels deep.",
    ),
    "NaN": _post(
        b'{"name": "x", "parameters": {"a": NaN}}',
        400,
        "parse_error",
        "Out of range float values are not JSON compliant: 'NaN'",
    ),
    "Infinity": _post(
        b'{"name": "x", "parameters": {"a": -Infinity}}',
        400,
        "parse_error",
        "Out of range float values are not JSON compliant: '-Infinity'",
    ),
    "huge float (1e999)": _post(
        b'{"name": "x", "parameters": {"a": 1e999}}',
        400,
        "parse_error",
        "numbers must be finite (a number such as 1e999 is out of range).",
    ),
    "huge integer (5,000 digits)": _post(
        b'{"name": "x", "parameters": {"a": 1' + b"0" * 5_000 + b"}}",
        400,
        "parse_error",
        "Exceeds the limit (4300 digits) for integer string conversion",
    ),
    "text/plain": _post(
        b'{"name": "x"}',
        415,
        "unsupported_media_type",
        'Unsupported media type "text/plain"',
        content_type="text/plain",
    ),
    "application/xml": _post(
        b"<scenario><name>x</name></scenario>",
        415,
        "unsupported_media_type",
        'Unsupported media type "application/xml"',
        content_type="application/xml",
    ),
    "body over DATA_UPLOAD_MAX_MEMORY_SIZE": _post(
        b'{"name": "x", "description": "' + b"x" * BODY_LIMIT + b'"}',
        413,
        "payload-too-large",
        f"The request body is larger than the {BODY_LIMIT:,}-byte limit.",
    ),
    "invalid UTF-8": _post(
        b'{"name": "\xff\xfe"}', 400, "parse_error", "'utf-8' codec can't decode byte 0xff"
    ),
    "overlong UTF-8 (0xC0 0xAF for '/')": _post(
        b'{"name": "a\xc0\xafb"}', 400, "parse_error", "'utf-8' codec can't decode byte 0xc0"
    ),
    "NUL in a value": _post(
        b'{"name": "a\\u0000b"}', 400, "parse_error", "strings may not contain the NUL character"
    ),
    "NUL in a key": _post(
        b'{"name": "x", "parameters": {"a\\u0000": 1}}',
        400,
        "parse_error",
        "strings may not contain the NUL character",
    ),
    "lone surrogate in a name": _post(
        b'{"name": "a\\ud800b"}', 400, "parse_error", "strings may not contain lone surrogates (U+D800)"
    ),
    "lone surrogate deep in parameters": _post(
        b'{"name": "x", "parameters": {"a": [{"b": "\\udfff"}]}}',
        400,
        "parse_error",
        "strings may not contain lone surrogates (U+DFFF)",
    ),
    "RTL override in a name": _post(
        '{"name": "invoice\u202etxt.exe"}'.encode(),
        400,
        "parse_error",
        "bidirectional control characters (U+202E)",
    ),
    "RTL isolate in a key": _post(
        '{"name": "x", "parameters": {"\u2067a": 1}}'.encode(),
        400,
        "parse_error",
        "bidirectional control characters (U+2067)",
    ),
    "v1: trailing garbage": BadRequest(
        "POST", V1_SCENARIOS, 400, "parse_error", "Extra data", body=b'{"name": "x"}}'
    ),
    "v1: RTL override": BadRequest(
        "POST",
        V1_SCENARIOS,
        400,
        "parse_error",
        "bidirectional control characters (U+202D)",
        body='{"name": "a\u202db", "tenant_id": "acme"}'.encode(),
    ),
}

QUERIES: dict[str, BadRequest] = {
    "100 KB query string": _get(
        f"{SCENARIOS}?x={'a' * 100_000}",
        414,
        "query-too-long",
        "The query string is 100,002 bytes; the limit is 8,192.",
    ),
    "100 KB query string on v1": _get(
        f"/api/v1/curves?iso={'A' * 100_000}",
        414,
        "query-too-long",
        "The query string is 100,004 bytes; the limit is 8,192.",
    ),
    "1,500 parameters": _get(
        f"{SCENARIOS}?{'a&' * 1_500}",
        400,
        "too-many-fields",
        "The request has more than 1,000 query parameters or form fields.",
    ),
    "NUL in a filter": _get(f"{CURVES}?iso=%00", 400, "invalid", "Null characters are not allowed"),
    "lone surrogate (CESU-8) in a filter": _get(f"{CURVES}?iso=%ED%A0%80", 400, "invalid", "iso"),
    "overlong UTF-8 in a filter": _get(f"{CURVES}?iso=%C0%AF", 400, "invalid", "iso"),
    "RTL override in a filter": _get(f"{CURVES}?iso=%E2%80%AEMJP", 400, "invalid", "iso must be alphabetic"),
    "NUL as the page size": _get(f"{SCENARIOS}?limit=%00", 400, "invalid", "limit must be an integer"),
    "a 30-digit page size": _get(f"{SCENARIOS}?limit={'9' * 30}", 400, "invalid", "limit must be an integer"),
}

PATHS: dict[str, BadRequest] = {
    "overlong UTF-8 in a path": _get(f"{SCENARIOS}/%C0%AF", 404, "not-found", "No such scenario."),
    "NUL in a path": _get(f"{SCENARIOS}/%00", 404, "not-found", "No such scenario."),
    "lone surrogate in a path": _get(f"{CURVES}/%ED%A0%80", 404, "not-found", "No such curve."),
    "RTL override in a path": _get(f"{CURVES}/%E2%80%AEabc", 404, "not-found", "No such curve."),
    "traversal in a path": _get(f"{SCENARIOS}/..%2F..%2Fadmin", 404, "not-found", ""),
}

HEADERS: dict[str, BadRequest] = {
    "overlong UTF-8 in Idempotency-Key": _post(
        b'{"name": "idempotent"}',
        400,
        "invalid",
        "Idempotency-Key: 1-255 characters of A-Z a-z 0-9 _ - . : /",
        headers={"HTTP_IDEMPOTENCY_KEY": "key\xc0\xaf"},
    ),
    "NUL in Idempotency-Key": _post(
        b'{"name": "idempotent"}',
        400,
        "invalid",
        "Idempotency-Key: 1-255 characters",
        headers={"HTTP_IDEMPOTENCY_KEY": "a\x00b"},
    ),
    "10,000-character Idempotency-Key": _post(
        b'{"name": "idempotent"}',
        400,
        "invalid",
        "Idempotency-Key: 1-255 characters",
        headers={"HTTP_IDEMPOTENCY_KEY": "k" * 10_000},
    ),
    "overlong UTF-8 in the bearer token": _get(
        SCENARIOS,
        401,
        "invalid-token",
        "The bearer token is not valid (malformed).",
        headers={"HTTP_AUTHORIZATION": "Bearer aur_\xc0\xaf"},
    ),
    "NUL in the bearer token": _get(
        SCENARIOS,
        401,
        "invalid-token",
        "The bearer token is not valid (malformed).",
        headers={"HTTP_AUTHORIZATION": "Bearer aur_\x00"},
    ),
}
