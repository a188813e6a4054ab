"""The ``Idempotency-Key`` request header of mutating POSTs (Stripe's rule): the same key with the same
request answers what the first request stored; the same key with a different request is a 422. Services keep
the key and a fingerprint of the request with what they create; views read the header here."""

from __future__ import annotations

import re

from django.http import HttpRequest
from rest_framework.request import Request

from aurum.errors import InvalidInputError

HEADER = "Idempotency-Key"
# Sent on an answer that replays a stored result instead of doing the work again.
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"^[A-Za-z0-9_\-.:/]{1,255}$")


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
