"""One request sent with an ``Idempotency-Key``, per credential, in the tenant's schema."""

from __future__ import annotations

import uuid

from django.db import models


class IdempotentRequest(models.Model):
    """While ``response_status`` is null the first request is in flight: it holds the row until
    ``lease_until`` (a request that died leaves a lease that runs out). Once answered, the row holds the
    answer until ``expires_at``; a request with the same key after that starts afresh."""

    credential = models.CharField(max_length=40)  # "token:<id>" or "user:<id>" (a portal session)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path, query and body
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    # Which attempt holds the lease: a request whose lease ran out and was taken over cannot store its answer.
    attempt = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["credential", "key"], name="idempotent_request_key")]
        indexes = [models.Index(fields=["expires_at"], name="idempotent_request_expiry")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.credential}, {self.key})"
