"""The shared dependencies object and in-memory unit of work every service builds on."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from billing_common.clock import FakeClock, SystemClock
from billing_common.db import SqlUnitOfWork, make_engine
from billing_common.dependencies import Dependencies, build_sql_dependencies
from billing_common.memory import BaseInMemoryUnitOfWork


@dataclass(kw_only=True)
class ServiceDependencies(Dependencies[SqlUnitOfWork]):
    greeting: str


def test_built_dependencies_dispose_of_the_engine_they_built_after_the_other_closers() -> None:
    closed: list[str] = []
    deps = build_sql_dependencies(ServiceDependencies, "sqlite://", SqlUnitOfWork,
                                  closers=[lambda: closed.append("deferred work")], greeting="hello")
    assert deps.greeting == "hello" and isinstance(deps.clock, SystemClock)
    with deps.uow() as uow:
        assert uow.connection.execute(text("SELECT 1")).scalar() == 1
    assert deps.engine is not None
    # The engine goes last: deferred work may still need a connection.
    assert deps.closers[-1] == deps.engine.dispose and len(deps.closers) == 2
    deps.close()
    deps.close()  # a second close has nothing left to do
    assert closed == ["deferred work"] and deps.closers == []


def test_an_engine_and_a_clock_passed_in_are_used_and_left_for_the_caller_to_close() -> None:
    engine = make_engine("sqlite://")
    clock = FakeClock()
    deps = build_sql_dependencies(ServiceDependencies, "unused://", SqlUnitOfWork, engine=engine, clock=clock,
                                  greeting="hi")
    assert deps.engine is engine and deps.clock is clock and deps.uow().engine is engine
    assert deps.closers == []
    engine.dispose()


class _Fake(BaseInMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def _begin(self) -> None:
        self.events.append("begin")

    def _publish(self) -> None:
        self.events.append("publish")

    def _end(self) -> None:
        self.events.append("end")


def test_the_in_memory_unit_of_work_counts_commits_and_runs_its_hooks_in_order() -> None:
    uow = _Fake()
    with uow:
        pass
    assert not uow.committed and uow.commits == 0
    with uow as entered:
        assert entered is uow
        uow.commit()
    assert uow.committed and uow.commits == 1
    assert uow.events == ["begin", "end", "begin", "publish", "end"]
