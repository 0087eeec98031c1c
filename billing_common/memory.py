"""The part every service's in-memory unit of work shares (their adapters/memory.py).

Like the SQL unit of work, it is used as `with uow: ...; uow.commit()`. Tests read `committed`
(did the use case commit?) and `commits` (how many times). A fake that keeps a working copy of
its data overrides the three hooks, so that leaving the block without commit writes nothing, as
a rolled-back transaction.
"""
from __future__ import annotations

from typing import Self


class BaseInMemoryUnitOfWork:
    def __init__(self) -> None:
        self.committed = False
        self.commits = 0

    def __enter__(self) -> Self:
        self._begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()

    def commit(self) -> None:
        self._publish()
        self.committed = True
        self.commits += 1

    def _begin(self) -> None:
        """Entering the block (take a working copy)."""

    def _publish(self) -> None:
        """Committing (make the working copy the data)."""

    def _end(self) -> None:
        """Leaving the block, committed or not (drop the working copy)."""
