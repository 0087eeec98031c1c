"""Quotes: versions QT-0042-n, drafts hidden, status on a day, who may accept what."""
from __future__ import annotations

import datetime as dt

import pytest

from billing_common.errors import FailedPrecondition, InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.model import InvoiceState
from services.enterprise_portal.domain.quotes import Quote, QuoteStatus, invoice_from_quote, quote_number

TODAY = dt.date(2026, 5, 4)
VALID = dt.date(2026, 6, 3)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


LINES = (
    Line(LineKind.PLAN, "Enterprise, 120 seats, annual", 120, usd(26_400), 1_500, plan_code="enterprise"),
    Line(LineKind.CUSTOM, "Onboarding workshop", 2, usd(150_000)),
)


def sent_quote() -> Quote:
    return Quote(quote_number(42), "acct-1", "USD").drafted(LINES, VALID, "NET 45", TODAY).sent(TODAY)


def test_versions_are_numbered_like_qt_0042_2() -> None:
    quote = sent_quote().drafted(LINES[:1], VALID, "NET 30", TODAY)
    assert [v.label for v in quote.versions] == ["QT-0042-1", "QT-0042-2"]
    assert quote_number(12_345) == "QT-12345"


def test_a_draft_is_invisible_to_the_customer() -> None:
    draft = Quote("QT-0001", "acct-1", "USD").drafted(LINES, VALID, "NET 30", TODAY)
    assert draft.visible_versions() == ()
    assert draft.status_on(TODAY) is None
    assert not draft.versions[0].visible_to_customer


def test_a_revision_sent_supersedes_the_open_version_and_every_version_stays_readable() -> None:
    revised = sent_quote().drafted(LINES[:1], VALID, "NET 30", TODAY)
    assert revised.versions[0].status is QuoteStatus.OPEN  # still open while the revision is a draft
    assert revised.visible_versions() == revised.versions[:1]
    sent = revised.sent(TODAY)
    assert [v.status for v in sent.versions] == [QuoteStatus.SUPERSEDED, QuoteStatus.OPEN]
    assert sent.versions[0].lines == LINES


def test_editing_a_draft_replaces_it_rather_than_adding_a_version() -> None:
    quote = sent_quote().drafted(LINES, VALID, "NET 30", TODAY).drafted(LINES[:1], VALID, "EOM", TODAY)
    assert [(v.label, v.terms) for v in quote.versions] == [("QT-0042-1", "NET 45"), ("QT-0042-2", "EOM")]


def test_an_open_version_expires_the_day_after_its_validity_date() -> None:
    version = sent_quote().versions[0]
    assert version.status_on(VALID) is QuoteStatus.OPEN
    assert version.status_on(VALID + dt.timedelta(days=1)) is QuoteStatus.EXPIRED


def test_an_expired_version_cannot_be_accepted() -> None:
    with pytest.raises(FailedPrecondition, match="expired"):
        sent_quote().accepted(1, VALID + dt.timedelta(days=1), "PO-7781")


def test_a_superseded_version_cannot_be_accepted_but_the_newest_can() -> None:
    quote = sent_quote().drafted(LINES[:1], VALID, "NET 30", TODAY).sent(TODAY)
    with pytest.raises(FailedPrecondition, match="superseded"):
        quote.accepted(1, TODAY, "PO-7781")
    accepted = quote.accepted(2, VALID, "PO-7781")
    assert (accepted.versions[1].status, accepted.versions[1].po_number) == (QuoteStatus.ACCEPTED, "PO-7781")
    assert accepted.status_on(VALID + dt.timedelta(days=100)) is QuoteStatus.ACCEPTED


def test_a_draft_a_declined_and_an_accepted_version_cannot_be_decided_on() -> None:
    draft = Quote("QT-0001", "acct-1", "USD").drafted(LINES, VALID, "NET 30", TODAY)
    with pytest.raises(FailedPrecondition):
        draft.accepted(1, TODAY, "PO-1")
    declined = sent_quote().declined(1, TODAY, "Budget moved to next year")
    assert declined.versions[0].decline_reason == "Budget moved to next year"
    with pytest.raises(FailedPrecondition):
        declined.accepted(1, TODAY, "PO-1")
    accepted = sent_quote().accepted(1, TODAY, "PO-1")
    with pytest.raises(FailedPrecondition):
        accepted.declined(1, TODAY, "changed our mind")
    with pytest.raises(FailedPrecondition):
        accepted.drafted(LINES, VALID, "NET 30", TODAY)


@pytest.mark.parametrize("call, field", [
    (lambda q: q.declined(1, TODAY, " "), "reason"),
    (lambda q: q.accepted(1, TODAY, ""), "number"),
    (lambda q: q.accepted(3, TODAY, "PO-1"), "version"),
    (lambda q: q.drafted(LINES, TODAY - dt.timedelta(days=1), "NET 30", TODAY), "valid_until"),
    (lambda q: q.drafted(LINES, VALID, "NET 90", TODAY), "terms"),
    (lambda q: q.drafted(LINES, VALID, "net 30", TODAY), "terms"),
    (lambda q: q.drafted((Line(LineKind.CUSTOM, "x", 1, Money(1, "EUR")),), VALID, "NET 30", TODAY), "unit_price"),
    (lambda q: q.drafted((), VALID, "NET 30", TODAY).sent(TODAY), "lines"),
])
def test_bad_quote_input_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        call(sent_quote())  # type: ignore[operator]
    assert refused.value.field == field


def test_a_quote_totals_its_lines() -> None:
    totals = sent_quote().versions[0].totals
    assert (totals.subtotal, totals.discount, totals.total) == (usd(3_468_000), usd(475_200), usd(2_992_800))


def test_acceptance_makes_an_invoice_with_the_quotes_lines_terms_and_po() -> None:
    accepted = sent_quote().accepted(1, TODAY, "PO-7781").versions[0]
    invoice = invoice_from_quote(accepted, invoice_id="inv-1", number="EP-2026-000001", account_id="acct-1",
                                 issued_on=TODAY)
    assert (invoice.total, invoice.lines, invoice.terms, invoice.po_number, invoice.due_on) == (
        usd(2_992_800), LINES, "NET 45", "PO-7781", TODAY + dt.timedelta(days=45))
    assert invoice.state(TODAY) is InvoiceState.OPEN
    with pytest.raises(FailedPrecondition):
        invoice_from_quote(sent_quote().versions[0], invoice_id="i", number="n", account_id="acct-1", issued_on=TODAY)
