"""What every identity use case is given, built by services.identity.bootstrap from settings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from billing_common import dependencies
from services.identity.config import IdentitySettings
from services.identity.service_layer.ports import KeyValueStore, PasswordHasher, UnitOfWork


def run_now(work: Callable[[], object]) -> None:
    """The default `defer`: no background thread, the work runs before the call returns."""
    work()


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers) plus identity's own."""

    settings: IdentitySettings
    store: KeyValueStore
    hasher: PasswordHasher
    # Runs work the caller must not wait for (and must not be able to time). The server hands
    # it to a background thread (bootstrap.DeferredRunner), which coalesces work submitted while
    # a run is pending, so the work must be idempotent (draining a queue kept in the database);
    # tests and scripts run it at once.
    defer: Callable[[Callable[[], object]], None] = field(default=run_now)
