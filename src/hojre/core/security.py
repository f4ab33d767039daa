"""Password hashing (argon2id), opaque tokens and one-time codes (stored as SHA-256)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

from hojre.core.settings import get_settings

TOKEN_LENGTH = 32
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # noqa: S105 (an alphabet, not a secret)


@lru_cache
def _hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


# Stored where an account has no password that can be typed (a contested registration was
# activated: docs/SECURITY.md). No argon2 hash starts with "!".
UNUSABLE_PASSWORD = "!"  # noqa: S105 (a marker, not a password)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or stored_hash.startswith(UNUSABLE_PASSWORD):
        # Same time as a real check, so the answer does not tell such an account apart.
        stored_hash = dummy_hash()
        password = ""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash of a random password, verified when the user does not exist, so that
# "User not found" and a wrong password take about the same time to answer.
@lru_cache
def dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


@lru_cache
def _hashing_threads() -> ThreadPoolExecutor:
    # argon2 releases the GIL and takes ~64 MiB per hash: a pool of its own bounds both the
    # memory and the CPU that a burst of logins can take from the event loop.
    threads = get_settings().password_hash_threads or max(1, (os.cpu_count() or 2) - 1)
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hojre-argon2")


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` off the event loop. Call it outside any transaction."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_threads(), hash_password, password)


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    """:func:`verify_password` off the event loop. Call it outside any transaction."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_threads(), verify_password, stored_hash, password)


def new_token() -> str:
    """32 random URL-safe characters (192 bits)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_activation_code() -> str:
    return str(secrets.randbelow(90000) + 10000)


def new_temp_password() -> str:
    # Digits only: it is typed from an SMS on a phone keypad; 8 digits, throttled, expiring.
    return "".join(secrets.choice("0123456789") for _ in range(8))


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
