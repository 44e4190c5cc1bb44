"""Password and token hashing."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Argon2id with the library's current defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()
TOKEN_PREFIX = "msb_"
MIN_PASSWORD_LENGTH = 10
# Argon2 takes any length, but hashing megabytes per request would be a cheap denial of service.
MAX_PASSWORD_LENGTH = 200


def hash_password(password: str) -> str:
    """Hash a staff password with Argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether `password` matches `password_hash`; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_a_password_check(password: str) -> None:
    """Verify `password` against a throwaway hash and forget the answer.

    Login calls this when there is no password to check (an unknown, deactivated or locked
    login), so every failed login costs one Argon2 verification and its time tells nothing.
    """
    verify_password(_throwaway_hash(), password)


def _throwaway_hash() -> str:
    # Made by the hasher in use (tests swap in a cheap one), once per hasher.
    global _throwaway
    if _throwaway is None or _throwaway[0] is not _hasher:
        _throwaway = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    return _throwaway[1]


_throwaway: tuple[PasswordHasher, str] | None = None


def password_problem(password: str) -> str | None:
    """What is wrong with a new staff password, or None (the CLI and the Staff page)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "must not contain control characters"
    if not password.strip():
        return "must not be only spaces"
    return None


def new_api_token() -> str:
    """Return a new random bearer token (shown once to its owner)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """Digest a bearer token for storage and lookup."""
    return hashlib.sha256(token.encode()).hexdigest()
