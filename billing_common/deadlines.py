"""The deadline of the call being served, for work below the entrypoint that waits (S22).

billing_common.grpc_server.observed sets it from the caller's gRPC deadline; a wait inside a
use case or adapter (identity's queue for a password hash) asks `remaining()` so that it never
waits, or starts work, past the moment the caller stops listening. Outside a call (tests,
scripts) there is no deadline. Plain Python: the service layer may use it.
"""
from __future__ import annotations

import time
from contextvars import ContextVar, Token

_deadline: ContextVar[float | None] = ContextVar("call_deadline", default=None)


def start(seconds: float | None) -> Token[float | None]:
    """The current call must be done within `seconds` (None: no deadline); `reset` undoes it."""
    return _deadline.set(None if seconds is None else time.monotonic() + seconds)


def reset(token: Token[float | None]) -> None:
    _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the caller's deadline (0 or less: passed), None without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def passed() -> bool:
    left = remaining()
    return left is not None and left <= 0
