"""Password hashing with argon2id (S2), and a fast fake for unit tests."""
from __future__ import annotations

import functools
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Hasher:
    def __init__(self, memory_cost: int = 19456, time_cost: int = 2, parallelism: int = 1) -> None:
        self.ph = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=argon2.Type.ID
        )

    def hash(self, password: str) -> str:
        return self.ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.ph.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.ph.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    @functools.cached_property
    def dummy_hash(self) -> str:
        return self.ph.hash(secrets.token_urlsafe(16))


class FakeHasher:
    """Reversible and instant; counts verifications so tests can see the dummy one (S3)."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        return f"fake-v{self.version}${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash.split("$", 1)[1] == password if "$" in password_hash else False

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"fake-v{self.version}$")

    @property
    def dummy_hash(self) -> str:
        return f"fake-v{self.version}$dummy-{id(self)}-never-typed"
