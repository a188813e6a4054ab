"""ETags, conditional requests (304 / 412) and the Cache-Control policy for cacheable API reads."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from aurum.api.envelope import link_header
from aurum.api.problems import PROBLEM_CONTENT_TYPE, problem_body

MAX_STALE_WHILE_REVALIDATE = 600
MAX_STALE_IF_ERROR = 86400


def etag_for(body: dict[str, Any]) -> str:
    """Strong ETag: the quoted SHA-256 of the canonical JSON of ``body`` without its ``meta``."""
    content = {key: value for key, value in body.items() if key != "meta"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return f'"{hashlib.sha256(canonical.encode()).hexdigest()}"'


def etag_for_bytes(*parts: bytes) -> str:
    """Strong ETag over already-serialised content (the body without ``meta``), for bodies built as bytes."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return f'"{digest.hexdigest()}"'


def cache_control(ttl: int) -> str:
    """``private, max-age=N, stale-while-revalidate=min(max(N/2,1),600), stale-if-error=min(3N,86400)``.

    Always ``private``: every API answer depends on the caller's tenant or licence, so only the caller's own
    cache may keep it (a shared cache or CDN would hand one tenant's data to another). N=0 means
    ``private, no-cache``: the client may keep the body but must revalidate it (If-None-Match → 304) before
    each use. N/2 rounds down so the directive stays an integer.
    """
    if ttl < 0:
        raise ValueError("ttl must not be negative")
    if ttl == 0:
        return "private, no-cache"
    swr = min(max(ttl // 2, 1), MAX_STALE_WHILE_REVALIDATE)
    sie = min(3 * ttl, MAX_STALE_IF_ERROR)
    return f"private, max-age={ttl}, stale-while-revalidate={swr}, stale-if-error={sie}"


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def _none_match(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison: W/"x" matches "x".
    tags = parse_etags(header)
    return "*" in tags or any(_opaque(tag) == _opaque(etag) for tag in tags)


def _match(header: str, etag: str) -> bool:
    # If-Match uses the strong comparison: a weak tag never matches.
    tags = parse_etags(header)
    return "*" in tags or any(not tag.startswith("W/") and tag == etag for tag in tags)


def cache_headers(response_body: dict[str, Any], *, ttl: int, etag: str | None = None) -> dict[str, str]:
    """ETag, Cache-Control and (for bodies with ``links``) Link: the headers a 200 and its 304 share."""
    headers = {"ETag": etag or etag_for(response_body), "Cache-Control": cache_control(ttl)}
    link = link_header(response_body["links"]) if isinstance(response_body.get("links"), dict) else None
    if link:
        headers["Link"] = link
    return headers


def _precondition_failed(request: HttpRequest | Request, etag: str, detail: str) -> Response:
    body = problem_body(
        status_code=status.HTTP_412_PRECONDITION_FAILED,
        title="Precondition Failed",
        detail=detail,
        instance=request.path,
        slug="precondition-failed",
    )
    return Response(
        body,
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": etag},
        content_type=PROBLEM_CONTENT_TYPE,
    )


def conditional_response(
    request: HttpRequest | Request, response_body: dict[str, Any], *, ttl: int
) -> Response | None:
    """The 412 or 304 that the request's preconditions call for, or None to send the full response.

    If-Match is evaluated first (RFC 9110 section 13.2.2); a matching If-None-Match is 304 on GET/HEAD and
    412 on other methods.
    """
    return preconditions(request, cache_headers(response_body, ttl=ttl))


def preconditions(request: HttpRequest | Request, headers: dict[str, str]) -> Response | None:
    """The 412 or 304 for a response whose ``headers`` (ETag, Cache-Control, Link) are known, or None."""
    etag = headers["ETag"]
    if_match = request.headers.get("If-Match")
    if if_match is not None and not _match(if_match, etag):
        return _precondition_failed(request, etag, "If-Match does not match the current ETag.")
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and _none_match(if_none_match, etag):
        if request.method in ("GET", "HEAD"):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return _precondition_failed(request, etag, "If-None-Match matches the current ETag.")
    return None


def cached_response(
    request: HttpRequest | Request, response_body: dict[str, Any], *, ttl: int, status_code: int = 200
) -> Response:
    """``conditional_response`` if a precondition applies, else the full body with ETag/Cache-Control/Link."""
    headers = cache_headers(response_body, ttl=ttl)  # the body is hashed once
    short = preconditions(request, headers)
    if short is not None:
        return short
    return Response(response_body, status=status_code, headers=headers)
