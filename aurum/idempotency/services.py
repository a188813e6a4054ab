"""Claiming a key, storing the answer, letting go of it, pruning (decision 0027).

``idempotent_request_begin`` is one atomic step: an ``INSERT … ON CONFLICT DO NOTHING`` claims a new key;
a key already there is read under a row lock and answers a replay (same fingerprint, answered), a 422 (other
fingerprint), a 409 (still in flight) or a fresh claim (its answer expired, or its lease ran out). Every step
commits at once (it runs outside any request transaction), so a concurrent duplicate sees the claim.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from aurum.errors import ConflictError, UnprocessableError
from aurum.idempotency.models import IdempotentRequest
from aurum.sealing import UnsealError, answer_seal, answer_unseal

KEY_REUSED = "idempotency-key-reused"
IN_FLIGHT = "idempotency-request-in-flight"


@dataclass(frozen=True)
class Claim:
    """This request holds the key: it runs, then stores its answer or lets go."""

    record_id: int
    attempt: uuid.UUID


@dataclass(frozen=True)
class StoredAnswer:
    """The answer of the first request with this key."""

    status: int
    headers: dict[str, str]
    body: bytes
    created_at: datetime


def _ttl() -> timedelta:
    return timedelta(seconds=settings.AURUM_IDEMPOTENCY_TTL_SECONDS)


def _lease() -> timedelta:
    return timedelta(seconds=settings.AURUM_IDEMPOTENCY_LEASE_SECONDS)


def idempotent_request_begin(
    *, credential: str, key: str, fingerprint: str, method: str, path: str
) -> Claim | StoredAnswer:
    """Claim ``key`` for this request, or the stored answer of the same request; raises
    UnprocessableError (422, the key was used for another request) or ConflictError (409, the first request
    with the key is still running; retry after ``Retry-After`` seconds)."""
    now = timezone.now()
    attempt = uuid.uuid4()
    table = IdempotentRequest._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (credential, key, fingerprint, method, path, attempt, created_at,
                        expires_at, lease_until, response_status, response_headers, response_body)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, '{{}}'::jsonb, ''::bytea)
                    ON CONFLICT (credential, key) DO NOTHING RETURNING id""",
                [
                    credential,
                    key,
                    fingerprint,
                    method,
                    path[:2000],
                    attempt,
                    now,
                    now + _ttl(),
                    now + _lease(),
                ],
            )
            inserted = cursor.fetchone()
        if inserted is not None:
            return Claim(record_id=inserted[0], attempt=attempt)
        record = IdempotentRequest.objects.select_for_update().get(credential=credential, key=key)
        if record.expires_at <= now:
            return _claim_again(record, fingerprint=fingerprint, method=method, path=path, now=now)
        if record.fingerprint != fingerprint:
            raise UnprocessableError(
                f"Idempotency-Key '{key}' was used for a different request ({record.method} {record.path}); "
                "send a new key for a new request.",
                slug=KEY_REUSED,
                idempotency_key=key,
            )
        if record.response_status is not None:
            try:
                body = answer_unseal(bytes(record.response_body))
            except UnsealError:
                # Sealed under a key this deployment no longer has: as if it had expired.
                return _claim_again(record, fingerprint=fingerprint, method=method, path=path, now=now)
            return StoredAnswer(
                status=record.response_status,
                headers=dict(record.response_headers),
                body=body,
                created_at=record.created_at,
            )
        if record.lease_until is not None and record.lease_until > now:
            raise ConflictError(
                f"A request with Idempotency-Key '{key}' is still being processed; retry it shortly.",
                slug=IN_FLIGHT,
                headers={"Retry-After": str(settings.AURUM_IDEMPOTENCY_RETRY_AFTER_SECONDS)},
                idempotency_key=key,
            )
        # The first request died while it held the key (its lease ran out): this retry runs it again.
        return _claim_again(record, fingerprint=fingerprint, method=method, path=path, now=now)


def _claim_again(
    record: IdempotentRequest, *, fingerprint: str, method: str, path: str, now: datetime
) -> Claim:
    record.fingerprint, record.method, record.path = fingerprint, method, path[:2000]
    record.attempt = uuid.uuid4()
    record.created_at, record.expires_at, record.lease_until = now, now + _ttl(), now + _lease()
    record.response_status, record.response_headers, record.response_body = None, {}, b""
    record.save()
    return Claim(record_id=record.pk, attempt=record.attempt)


def idempotent_request_complete(*, claim: Claim, status: int, headers: dict[str, str], body: bytes) -> bool:
    """Store the answer of the claimed request, sealed (aurum/sealing.py); False when the claim
    was lost (its lease ran out and another attempt took the key over), and nothing is stored."""
    stored = IdempotentRequest.objects.filter(pk=claim.record_id, attempt=claim.attempt).update(
        response_status=status, response_headers=headers, response_body=answer_seal(body), lease_until=None
    )
    return stored == 1


def idempotent_request_release(*, claim: Claim) -> None:
    """Let go of the key without an answer (a 5xx, a 429, a route whose service keeps the key): the next
    request with it runs."""
    IdempotentRequest.objects.filter(pk=claim.record_id, attempt=claim.attempt).delete()


def idempotent_requests_prune(*, now: datetime | None = None) -> int:
    """Delete the expired answers of the current schema; the number deleted."""
    deleted, _ = IdempotentRequest.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def idempotent_requests_prune_all_tenants() -> dict[str, int]:
    """``idempotent_requests_prune`` in every tenant's schema (beat runs it from the public schema)."""
    pruned: dict[str, int] = {}
    schemas = get_tenant_model().objects.exclude(schema_name=get_public_schema_name())
    for schema in schemas.values_list("schema_name", flat=True):
        with schema_context(schema):
            pruned[schema] = idempotent_requests_prune()
    return pruned
