"""Password and token hashing."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Argon2id with the library's current defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()
TOKEN_PREFIX = "msb_"


def hash_password(password: str) -> str:
    """Hash a staff password with Argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether `password` matches `password_hash`; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """Return a new random bearer token (shown once to its owner)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """Digest a bearer token for storage and lookup."""
    return hashlib.sha256(token.encode()).hexdigest()
