"""Password hashing with argon2id (S2), and a fast fake for unit tests."""
from __future__ import annotations

import contextlib
import functools
import secrets
import threading
from collections.abc import Iterator

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from billing_common import deadlines
from billing_common.errors import DeadlineExceeded, Unavailable

# What a sign-in (or a password change) hears when the hash queue is full; seconds to wait.
BUSY, BUSY_RETRY_AFTER = "Too many sign-ins at once. Try again in a few seconds.", 2
# What it hears (if still listening) when its deadline passed before its turn came.
TOO_LATE = "The sign-in waited longer than its caller's deadline."


class Argon2Hasher:
    """argon2id with at most `max_concurrent` computations at once (None: no bound), and at
    most `max_queued` callers waiting for a turn; one more is refused with Unavailable.

    argon2-cffi releases the GIL, so every gRPC worker thread could be hashing at once: more
    hashes than cores only share the cores out (and 19 MiB each), while every other call waits
    behind them for CPU. Bounded, extra sign-ins queue here instead, using no CPU. The queue is
    bounded too, because each waiting sign-in holds one of the server's worker threads: a burst
    larger than the pool would otherwise leave none for session checks, and every signed-in
    page would wait for the burst to drain (`make bench`).

    A caller waits for its turn at most until its call's deadline (billing_common.deadlines),
    and a hash whose caller has already given up is not computed: it would take a core from
    the sign-ins still waiting for an answer (DeadlineExceeded instead).
    """

    def __init__(self, memory_cost: int = 19456, time_cost: int = 2, parallelism: int = 1,
                 max_concurrent: int | None = None, max_queued: int | None = None) -> None:
        self.ph = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=argon2.Type.ID
        )
        self._slots = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None
        self._max_queued = max_queued
        self._queued = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        if deadlines.passed():
            raise DeadlineExceeded(TOO_LATE)
        if self._slots is None:
            yield
            return
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._max_queued is not None and self._queued >= self._max_queued:
                    raise Unavailable(BUSY, retry_after=BUSY_RETRY_AFTER)
                self._queued += 1
            try:
                left = deadlines.remaining()
                if not self._slots.acquire(timeout=max(0.0, left) if left is not None else None):
                    raise DeadlineExceeded(TOO_LATE)
            finally:
                with self._lock:
                    self._queued -= 1
        try:
            if deadlines.passed():
                raise DeadlineExceeded(TOO_LATE)
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._turn():
            return self.ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._turn():
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
        # True: hash() answers Unavailable, as a busy Argon2Hasher does.
        self.busy = False

    def hash(self, password: str) -> str:
        if self.busy:
            raise Unavailable(BUSY, retry_after=BUSY_RETRY_AFTER)
        return f"fake-v{self.version}${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash.split("$", 1)[1] == password if "$" in password_hash else False

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"fake-v{self.version}$")

    @property
    def dummy_hash(self) -> str:
        return f"fake-v{self.version}$dummy-{id(self)}-never-typed"
