"""The part every service's in-memory unit of work shares (their adapters/memory.py).

Like the SQL unit of work, it is used as `with uow: ...; uow.commit()`. Tests read `committed`
(did the use case commit?) and `commits` (how many times). A fake that keeps a working copy of
its data overrides the three hooks, so that leaving the block without commit writes nothing, as
a rolled-back transaction.
"""
from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Sequence
from typing import Generic, Protocol, Self, TypeVar

from billing_common.outbox import OutgoingMail


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


class _HasMails(Protocol):
    mails: list[OutgoingMail]


class InMemoryOutbox:
    """The outbox's in-memory twin: the mails a use case queued, in `data.mails`."""

    def __init__(self, data: _HasMails) -> None:
        self.data = data

    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        self.data.mails.append(mail)

    def add_many(self, mails: Sequence[OutgoingMail], at: dt.datetime) -> None:
        self.data.mails.extend(mails)


DataT = TypeVar("DataT")


class CopyOnWriteUnitOfWork(BaseInMemoryUnitOfWork, Generic[DataT]):
    """A unit of work over one `data` object (a service's dataclass of dicts and lists).

    Inside the block the repositories work on a deep copy, published on commit, so leaving
    without commit writes nothing, as a rolled-back transaction; one re-entrant lock makes units
    of work take turns, as the database's row locks make the use cases' transactions do. A
    service's fake sets its repositories in `_bind`.
    """

    def __init__(self, data: DataT) -> None:
        super().__init__()
        self.data = data
        self._lock = threading.RLock()
        self._bind(self.data)

    def _bind(self, data: DataT) -> None:
        """Point the repositories (`self.invoices`, `self.outbox`, ...) at `data`."""
        raise NotImplementedError

    def _begin(self) -> None:
        self._lock.acquire()
        self._working = copy.deepcopy(self.data)
        self._bind(self._working)

    def _publish(self) -> None:
        self.data = self._working
        self._working = copy.deepcopy(self.data)
        self._bind(self._working)

    def _end(self) -> None:
        self._bind(self.data)
        self._lock.release()
