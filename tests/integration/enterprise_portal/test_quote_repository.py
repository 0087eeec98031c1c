"""The quote repository's contract, run against the in-memory fake and the SQL repository on a
real, migrated database (PostgreSQL with TEST_DATABASE_URL): both must answer alike."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from billing_common.money import Money
from services.enterprise_portal.adapters.memory import InMemoryUnitOfWork
from services.enterprise_portal.adapters.unit_of_work import SqlEnterprisePortalUnitOfWork
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.quotes import Author, CommentKind, Quote, QuoteComment, QuoteStatus

AT = dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC)
TODAY = AT.date()
LINES = (
    Line(LineKind.PLAN, "Enterprise, 120 seats, annual", 120, Money(26_400, "BRL"), 1_500, plan_code="enterprise"),
    Line(LineKind.CUSTOM, "Onboarding workshop — São Paulo", 2, Money(150_000, "BRL")),
)


@pytest.fixture(params=["memory", "sql"])
def uow(request: pytest.FixtureRequest) -> Callable[[], Any]:
    if request.param == "memory":
        fake = InMemoryUnitOfWork()
        return lambda: fake
    engine: Engine = request.getfixturevalue("engine")
    return lambda: SqlEnterprisePortalUnitOfWork(engine)


def _new(uow: Callable[[], Any], account: str = "acct-a") -> Quote:
    with uow() as u:
        quote = Quote(u.quotes.next_number(), account, "BRL", rep_user_id="user-rep", rep_email="rep@vendor.example")
        quote = quote.drafted(LINES, dt.date(2027, 2, 14), "NET 45", TODAY)
        u.quotes.add(quote, AT)
        u.commit()
    return quote


def test_a_quote_reads_back_whole_through_its_account_only(uow: Callable[[], Any]) -> None:
    quote = _new(uow)
    with uow() as u:
        assert u.quotes.get("acct-a", quote.number) == quote
        assert u.quotes.get("acct-a", quote.number, for_update=True) == quote
        assert u.quotes.get("acct-b", quote.number) is None  # S13
        assert u.quotes.get("acct-a", "QT-9999") is None


def test_numbers_are_gapless_even_across_a_rolled_back_transaction(uow: Callable[[], Any]) -> None:
    assert _new(uow).number == "QT-0001"
    with uow() as u:
        assert u.quotes.next_number() == "QT-0002"
        # no commit: the number goes back
    assert _new(uow).number == "QT-0002"


def test_saved_versions_replace_the_stored_ones_and_all_stay_readable(uow: Callable[[], Any]) -> None:
    quote = _new(uow).sent(TODAY).drafted(LINES[1:], dt.date(2027, 3, 1), "EOM", TODAY).sent(TODAY)
    quote = quote.accepted(2, TODAY, "PO-7781")
    with uow() as u:
        u.quotes.save(quote)
        u.commit()
    with uow() as u:
        loaded = u.quotes.get("acct-a", quote.number)
    assert loaded == quote
    assert [(v.label, v.status, v.po_number) for v in loaded.versions] == [
        ("QT-0001-1", QuoteStatus.SUPERSEDED, None), ("QT-0001-2", QuoteStatus.ACCEPTED, "PO-7781")]


def test_an_accounts_quotes_are_listed_newest_first(uow: Callable[[], Any]) -> None:
    first, _, third = _new(uow), _new(uow, "acct-b"), _new(uow)
    with uow() as u:
        assert [q.number for q in u.quotes.for_account("acct-a")] == [third.number, first.number]
        assert u.quotes.for_account("nobody") == []


def test_the_thread_reads_back_in_the_order_written(uow: Callable[[], Any]) -> None:
    quote = _new(uow)
    comments = [
        QuoteComment(quote.number, 1, Author.CONTACT, "Ana", CommentKind.CHANGE_REQUEST, "Mais desconto?", AT),
        QuoteComment(quote.number, 1, Author.REP, "Rita Rep", CommentKind.COMMENT, "Vou ver.",
                     AT + dt.timedelta(minutes=5)),
    ]
    with uow() as u:
        for c in comments:
            u.quotes.add_comment(c)
        u.commit()
    with uow() as u:
        assert u.quotes.comments(quote.number) == comments
        assert u.quotes.comments("QT-9999") == []
