"""Secrets at rest are sealed (Fernet: AES-128-CBC + HMAC-SHA256) with keys derived from ``SECRET_KEY`` per
purpose, so a database dump or replica does not reveal them: stored idempotent answers (which may hold a new
token or signing secret), webhook signing secrets and tenants' OIDC client secrets. ``SECRET_KEY_FALLBACKS``
still open what was sealed before a key rotation."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

IDEMPOTENT_ANSWER = b"aurum.idempotency.answer.v1"
WEBHOOK_SECRET = b"aurum.webhooks.secret.v1"
SSO_CLIENT_SECRET = b"aurum.sso.client_secret.v1"


class UnsealError(Exception):
    """Sealed under a key this deployment does not hold (neither ``SECRET_KEY`` nor a fallback)."""


def _keys(purpose: bytes) -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(purpose + s.encode()).digest())) for s in secrets]
    )


def seal(data: bytes, *, purpose: bytes) -> bytes:
    return _keys(purpose).encrypt(data)


def unseal(sealed: bytes, *, purpose: bytes) -> bytes:
    try:
        return _keys(purpose).decrypt(sealed)
    except InvalidToken as exc:
        raise UnsealError("sealed under a key this deployment does not hold") from exc


def answer_seal(body: bytes) -> bytes:
    return seal(body, purpose=IDEMPOTENT_ANSWER)


def answer_unseal(sealed: bytes) -> bytes:
    return unseal(sealed, purpose=IDEMPOTENT_ANSWER)


class SealedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column holding a secret: the application reads and writes the plain value, the database holds
    it sealed (for ``purpose``). Not searchable: never filter on it."""

    def __init__(self, *args: Any, purpose: bytes = WEBHOOK_SECRET, **kwargs: Any) -> None:
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.purpose != WEBHOOK_SECRET:
            kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return unseal(value.encode(), purpose=self.purpose).decode()

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return seal(str(value).encode(), purpose=self.purpose).decode()
