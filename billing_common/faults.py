"""Which failures are a dependency's (Redis, the database, an SMTP relay a call waits on) rather
than a bug, for the error mapping (billing_common.grpc_server.observed) and the readiness checks.

A dependency that fails leaves the service sound but unable to answer now: UNAVAILABLE, which
the portals show as their "try again in a few minutes" page (S15), never INTERNAL, a bug's 500.
"""
from __future__ import annotations

import smtplib

import redis.exceptions
import sqlalchemy.exc

DEPENDENCY_FAILURES: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # refused, reset, BusyLoadingError
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,  # connection refused or lost, server shutting down
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection in time
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
    ConnectionError,  # the builtin one: refused, reset, broken pipe
    TimeoutError,
)

# What the caller hears. No retry-after: that one means "busy, back in seconds" (sign-ins).
DEPENDENCY_DOWN = "A service this one depends on is unavailable. Try again in a few minutes."


def dependency_failure(exc: BaseException) -> bool:
    """Whether `exc`, or the exception it was raised from, is a dependency that failed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DEPENDENCY_FAILURES):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def describe(exc: BaseException) -> str:
    """The failure's type and first line for a log, without SQLAlchemy's statement and its
    parameters (they may hold what a person typed, S25)."""
    cause = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:200]
