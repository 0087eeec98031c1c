"""The change request repository's contract, held by the SQL one (a real, migrated database:
PostgreSQL with TEST_DATABASE_URL) and the in-memory fake the unit tests use alike; and the
0006 migration on a database of 0005."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import Engine, inspect

from billing_common import db
from billing_common.db import make_engine
from services.online_billing import bootstrap
from services.online_billing.adapters.memory import InMemoryUnitOfWork
from services.online_billing.adapters.unit_of_work import SqlOnlineBillingUnitOfWork
from services.online_billing.domain.model import BillingInterval, Selection
from services.online_billing.domain.requests import ChangeRequest, Requester, RequestStatus

T0 = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)


def _request(account: str = "acct-a", who: str = "u-mark", minutes: int = 0, **changes: Any) -> ChangeRequest:
    return ChangeRequest(
        id=str(uuid.uuid4()), account_id=account, subscription_id=str(uuid.uuid4()),
        requester=Requester(who, "Mark Member", f"{who}@acme.test", "pt-BR"),
        target=Selection("business", 12, BillingInterval.ANNUAL), note="Dois novos colegas.\nObrigado!",
        status=RequestStatus.PENDING, created_at=T0 + dt.timedelta(minutes=minutes), **changes)


@pytest.fixture(params=["sql", "memory"])
def uow(request: pytest.FixtureRequest) -> Iterator[Callable[[], AbstractContextManager[Any]]]:
    if request.param == "memory":
        memory = InMemoryUnitOfWork(catalogue=True)
        yield lambda: memory
    else:
        engine: Engine = request.getfixturevalue("engine")
        yield lambda: SqlOnlineBillingUnitOfWork(engine)


def test_a_request_reads_back_as_stored_with_aware_utc_times(uow) -> None:  # type: ignore[no-untyped-def]
    stored = _request()
    with uow() as u:
        u.change_requests.add(stored)
        u.commit()
    with uow() as u:
        assert u.change_requests.get("acct-a", stored.id) == stored
        assert u.change_requests.get("acct-a", stored.id, for_update=True).created_at.tzinfo is not None


def test_another_accounts_request_is_none(uow) -> None:  # type: ignore[no-untyped-def]  # S13
    stored = _request()
    with uow() as u:
        u.change_requests.add(stored)
        u.commit()
    with uow() as u:
        assert u.change_requests.get("acct-b", stored.id) is None
        assert u.change_requests.for_account("acct-b") == []


def test_an_update_records_the_decision_and_keeps_who_asked_and_when(uow) -> None:  # type: ignore[no-untyped-def]
    stored = _request()
    with uow() as u:
        u.change_requests.add(stored)
        u.commit()
    approving = stored.approving("key-1")
    with uow() as u:
        u.change_requests.update(approving)
        u.commit()
    decided = approving.approved("u-olivia", T0 + dt.timedelta(hours=1), "inv-1", scheduled=False)
    with uow() as u:
        u.change_requests.update(decided)
        u.commit()
    with uow() as u:
        got = u.change_requests.get("acct-a", stored.id)
    assert got == decided and got.approval_key == "key-1" and got.requester == stored.requester


def test_the_list_is_newest_first_filtered_by_member_and_status_and_limited(uow) -> None:  # type: ignore[no-untyped-def]
    a1, a2 = _request(minutes=1), _request(minutes=2, who="u-luiza")
    a3 = _request(minutes=3).declined("u-olivia", T0 + dt.timedelta(hours=2), "Não agora.")
    with uow() as u:
        for r in (a1, a2, a3, _request("acct-b", minutes=4)):
            u.change_requests.add(r)
        u.commit()
    with uow() as u:
        assert [r.id for r in u.change_requests.for_account("acct-a")] == [a3.id, a2.id, a1.id]
        assert [r.id for r in u.change_requests.for_account("acct-a", requested_by="u-mark")] == [a3.id, a1.id]
        assert [r.id for r in u.change_requests.for_account("acct-a", statuses=(RequestStatus.PENDING,))] == \
            [a2.id, a1.id]
        assert [r.id for r in u.change_requests.for_account("acct-a", limit=1)] == [a3.id]


def test_leaving_without_commit_writes_nothing(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        u.change_requests.add(_request())
    with uow() as u:
        assert u.change_requests.for_account("acct-a") == []


def test_migration_0006_adds_the_table_to_a_database_of_0005(database_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url("online_billing_0005"))
    try:
        db.migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, revision="0005_outbox_attachments")
        assert "change_requests" not in inspect(engine).get_table_names()
        db.migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
        assert "change_requests" in inspect(engine).get_table_names()
        with SqlOnlineBillingUnitOfWork(engine) as u:
            u.change_requests.add(_request())
            u.commit()
    finally:
        engine.dispose()
