"""Passwords, bearer tokens and pseudonyms.

Passwords are low-entropy, so they get Argon2id (slow on purpose). Tokens are 256 random bits, so a
fast SHA-256 of them is as safe to store as a slow hash and lets every request look one up by
equality.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Bits of randomness in every token handed out (32 bytes, URL-safe base64).
TOKEN_BYTES = 32


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def pseudonym(secret_key: str, visit_id: str) -> str:
    """A stable, unlinkable name for a visit on the live feed: HMAC-SHA256(secret, visit)[:12]."""
    mac = hmac.new(secret_key.encode("utf-8"), visit_id.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:12]
