"""The ``Idempotency-Key`` request header (Stripe's rule, decision 0027): a retry of a mutating v2 POST with
the same key answers what the first request answered, with ``Idempotent-Replayed: true``, and does nothing
again.

``IdempotentPostMixin`` (in every view through ``aurum.api.views.ApiView``) applies it to every POST under
``/api/v2/`` by default. It claims the key after authentication, permissions and throttling (so a refused
request never stores or replays an answer), per tenant (the table is in its schema) and credential (the token,
or the session's user), with a fingerprint of the request (method, path, query, body; an upload's file
content). A view sets ``idempotency``:

- ``"store"`` (default): the answer (status, the headers in ``STORED_HEADERS``, body bytes) is stored 24 h and
  replayed; a 5xx or a 429 is not stored, so the retry runs again;
- ``"service"``: the view's service keeps the key with what it creates (v2 scenario runs, PPA valuations:
  their replay answers the object with 200, tenant-wide and without expiry); the layer only holds the key
  while the request runs, so a concurrent duplicate is a 409;
- ``"off"``: not covered (tests/platform/test_idempotency_routes.py lists each with its reason).

The same key with a different request is a 422 problem ``idempotency-key-reused``; a duplicate sent while the
first runs is a 409 problem ``idempotency-request-in-flight`` with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aurum.api.context import request_context_or_none
from aurum.errors import InvalidInputError
from aurum.idempotency.services import (
    Claim,
    StoredAnswer,
    idempotent_request_begin,
    idempotent_request_complete,
    idempotent_request_release,
)

HEADER = "Idempotency-Key"
# Sent on an answer that replays a stored result instead of doing the work again.
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"^[A-Za-z0-9_\-.:/]{1,255}$")
COVERED_PREFIX = "/api/v2/"
# The headers of an answer that are part of it (the rest — request id, Vary, rate limits — belong to the
# request that gets it and are set again on a replay).
STORED_HEADERS = ("Content-Type", "Location", "Cache-Control", "Content-Disposition", "ETag", "Last-Modified")
Mode = Literal["store", "service", "off"]


def idempotency_key(request: HttpRequest | Request) -> str | None:
    """The request's ``Idempotency-Key``, or None without one; a malformed key is a 400 problem."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_RE.match(key):
        raise InvalidInputError.field(
            HEADER, "1-255 characters of A-Z a-z 0-9 _ - . : /", code="invalid_idempotency_key"
        )
    return key


def idempotency_mode(view_class: type, *, path: str, method: str) -> Mode:
    """How the layer treats ``method`` on ``path`` answered by ``view_class`` ("off" outside v2 POSTs)."""
    if method.upper() != "POST" or not path.startswith(COVERED_PREFIX):
        return "off"
    mode: Mode = getattr(view_class, "idempotency", "off")
    return mode


def _canonical_body(request: Request) -> bytes:
    """The body as the fingerprint sees it: JSON re-serialised with sorted keys (the same document in another
    key order is the same request); an upload's fields and each file's name and content hash; else the
    bytes."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        digest = hashlib.sha256()
        form = request.data
        if not isinstance(form, QueryDict):  # DRF's multipart parser always answers one
            raise TypeError(f"multipart data parsed as {type(form).__name__}")
        for name in sorted(form.keys()):
            for value in form.getlist(name):
                digest.update(name.encode() + b"\0")
                if isinstance(value, UploadedFile):
                    digest.update(f"file:{value.name}:{value.size}\0".encode())
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(str(value).encode() + b"\0")
        return digest.hexdigest().encode()
    body = request._request.body
    if content_type.endswith("json") and body:
        try:
            document = json.loads(body)
        except ValueError:
            return body
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return body


def request_fingerprint(request: Request) -> str:
    """sha256 of method, path, query (parameters sorted) and canonical body."""
    query = sorted(
        (name, value) for name in request.query_params for value in request.query_params.getlist(name)
    )
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, json.dumps(query), request.content_type or ""):
        digest.update(part.encode() + b"\0")
    digest.update(_canonical_body(request))
    return digest.hexdigest()


def replay_response(answer: StoredAnswer) -> Response:
    """The stored answer as it was sent: its bytes are the content (the response counts as rendered)."""
    response = Response(status=answer.status)
    response.content = answer.body
    for name, value in answer.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotentReplay(Exception):  # noqa: N818 - not an error: the stored answer, raised out of ``initial``
    def __init__(self, response: Response) -> None:
        super().__init__("replay")
        self.response = response


class IdempotentPostMixin(APIView):
    """Applies ``Idempotency-Key`` to the view's POST under /api/v2/ (see the module docstring)."""

    idempotency: Mode = "store"
    idempotency_claim: Claim | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles first
        self.idempotency_claim = None
        mode = idempotency_mode(type(self), path=request.path, method=request.method or "")
        key = idempotency_key(request) if mode != "off" else None
        context = request_context_or_none(request)
        if key is None or context is None:
            return
        credential = f"token:{context.token.pk}" if context.token is not None else f"user:{context.user.pk}"
        outcome = idempotent_request_begin(
            credential=credential,
            key=key,
            fingerprint=request_fingerprint(request),
            method=request.method or "POST",
            path=request.get_full_path(),
        )
        if isinstance(outcome, StoredAnswer):
            raise IdempotentReplay(replay_response(outcome))
        self.idempotency_claim = outcome

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, IdempotentReplay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self.idempotency_claim = self.idempotency_claim, None
        if claim is None:
            return response
        if self.idempotency != "store" or response.status_code >= 500 or response.status_code == 429:
            idempotent_request_release(claim=claim)
        elif hasattr(response, "add_post_render_callback") and not getattr(response, "is_rendered", True):
            response.add_post_render_callback(lambda rendered: _store(claim, rendered))
        else:
            _store(claim, response)
        return response


def _store(claim: Claim, response: Response) -> None:
    if getattr(response, "streaming", False):
        idempotent_request_release(claim=claim)  # a streamed body is not kept: the retry runs again
        return
    headers = {name: response[name] for name in STORED_HEADERS if name in response}
    idempotent_request_complete(
        claim=claim, status=response.status_code, headers=headers, body=bytes(response.content)
    )
