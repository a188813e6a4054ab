"""Stored answers are sealed (Fernet: AES-128-CBC + HMAC-SHA256) with a key derived from ``SECRET_KEY``: an
answer may hold a secret shown once (a new API token, a webhook signing secret), and a database dump or a
replica must not reveal it. ``SECRET_KEY_FALLBACKS`` still open answers sealed before a key rotation."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PURPOSE = b"aurum.idempotency.answer.v1"


class UnsealError(Exception):
    """The stored answer cannot be opened with the current or fallback keys (sealed under another key)."""


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(PURPOSE + secret.encode()).digest()))


def _keys() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(secret) for secret in secrets])


def answer_seal(body: bytes) -> bytes:
    return _keys().encrypt(body)


def answer_unseal(sealed: bytes) -> bytes:
    try:
        return _keys().decrypt(sealed)
    except InvalidToken as exc:
        raise UnsealError("stored answer sealed under an unknown key") from exc
