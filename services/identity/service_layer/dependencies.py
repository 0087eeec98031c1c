"""What every identity use case is given, built by services.identity.bootstrap from settings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from billing_common.clock import Clock
from services.identity.config import IdentitySettings
from services.identity.service_layer.ports import KeyValueStore, PasswordHasher, UnitOfWork


@dataclass
class Dependencies:
    settings: IdentitySettings
    uow: Callable[[], UnitOfWork]
    store: KeyValueStore
    hasher: PasswordHasher
    clock: Clock
    # The SQL engine when bootstrap built one (the outbox dispatcher shares it); opaque here.
    engine: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Runs work the caller must not wait for (and must not be able to time). The server hands
    # it to a background thread; tests and scripts run it at once.
    defer: Callable[[Callable[[], None]], None] = field(default=lambda work: work())

    def close(self) -> None:
        for close in self.closers:
            close()
