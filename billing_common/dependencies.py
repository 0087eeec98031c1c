"""What a service's use cases are given, and how every bootstrap builds and closes it.

Each service's service layer subclasses `Dependencies` with what its use cases need beyond a
unit of work and a clock (identity: settings, the key-value store, the hasher; the backends,
soon: a payment gateway, mail), and passes one object to every use case. Its bootstrap builds
that object with `build_sql_dependencies`; unit tests build it directly over in-memory fakes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine

from billing_common.clock import Clock, SystemClock
from billing_common.db import make_engine

UnitOfWorkT = TypeVar("UnitOfWorkT")


@dataclass(kw_only=True)
class Dependencies(Generic[UnitOfWorkT]):
    """`uow()` opens one unit of work (one transaction); `clock` is the only source of "now"."""

    uow: Callable[[], UnitOfWorkT]
    clock: Clock = field(default_factory=SystemClock)
    # The SQL engine under `uow` when bootstrap built one: the outbox dispatcher shares it.
    # None over in-memory fakes; the use cases never touch it.
    engine: Engine | None = None
    # What bootstrap built and `close()` releases, in this order.
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def sql_engine(self) -> Engine:
        """The engine, for a server that needs one (its outbox dispatcher)."""
        if self.engine is None:
            raise RuntimeError("these dependencies were built without a SQL engine (in-memory fakes)")
        return self.engine

    def close(self) -> None:
        """Releases what was built for these dependencies (once the server has stopped).
        Anything the caller passed in (a test's engine) is the caller's to close."""
        while self.closers:
            self.closers.pop(0)()


DependenciesT = TypeVar("DependenciesT", bound=Dependencies[Any])


def build_sql_dependencies(
    make: Callable[..., DependenciesT],
    database_url: str,
    unit_of_work: Callable[[Engine], Any],
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    closers: Iterable[Callable[[], None]] = (),
    **fields: Any,
) -> DependenciesT:
    """`make(uow=..., clock=..., engine=..., closers=..., **fields)` over a SQL unit of work.

    The engine is built from `database_url` unless one is passed in (then the caller disposes
    of it). `closers` run before the engine is disposed of: they are for what may still use a
    connection (identity's deferred work). The clock is the system's unless one is passed in.
    """
    to_close = list(closers)
    if engine is None:
        engine = make_engine(database_url)
        to_close.append(engine.dispose)
    built = engine
    return make(uow=lambda: unit_of_work(built), clock=clock or SystemClock(), engine=built,
                closers=to_close, **fields)
