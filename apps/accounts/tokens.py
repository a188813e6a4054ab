"""The API token format: ``aurum_<prefix>_<secret>``.

The prefix finds the row; the secret is checked by hash.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "aurum_"


@dataclass(frozen=True)
class TokenParts:
    prefix: str
    secret: str


def token_generate() -> tuple[str, TokenParts]:
    parts = TokenParts(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))
    return f"{TOKEN_PREFIX}{parts.prefix}_{parts.secret}", parts


def token_parse(raw: str) -> TokenParts | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    return TokenParts(prefix=prefix, secret=secret)


def token_hash(secret: str) -> str:
    # Secrets carry 256 bits of entropy, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def token_hash_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(secret), stored_hash)
