"""Password hashing: Argon2id (argon2-cffi) with OWASP's recommended minimum parameters
(m=19 MiB, t=2, p=1): about 0.05 s per hash on an idle core, so a two-core server shared by a team
signs people in quickly while a stolen hash still costs 19 MiB and two passes per guess.

Hashes are PHC strings (``$argon2id$v=19$m=19456,t=2,p=1$...``); a hash made with other
parameters is re-made at the next successful sign-in.
"""

from __future__ import annotations

import functools

from ..errors import ValidationError

MIN_LENGTH = 10
MAX_LENGTH = 1024


@functools.lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16,
                          type=Type.ID)


def check_strength(password: str, username: str) -> None:
    if not isinstance(password, str):
        raise ValidationError("the password must be text")
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"the password is too short: use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"the password is longer than {MAX_LENGTH} characters")
    if password.strip().lower() == username.lower() or len(set(password)) < 4:
        raise ValidationError("the password is too easy to guess: do not use the user name or repeated characters")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash). A missing hash never matches but costs the same time."""
    from argon2.exceptions import InvalidHashError, VerificationError

    h = _hasher()
    target = stored or _dummy_hash()
    try:
        h.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False, False
    if not stored:
        return False, False
    return True, h.check_needs_rehash(stored)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so timing does not tell who exists."""
    import secrets

    return _hasher().hash(secrets.token_urlsafe(24))
