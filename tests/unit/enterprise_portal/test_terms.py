from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.errors import InvalidArgument
from services.enterprise_portal.domain.model import due_date
from services.enterprise_portal.domain.terms import (
    DEFAULT_TERMS,
    END_OF_MONTH,
    NET_30,
    NET_45,
    NET_60,
    STANDARD_TERMS,
    PaymentTerms,
    TermsKind,
)


def test_net_30_is_the_default_and_the_standard_choices_are_the_issues_four() -> None:
    assert DEFAULT_TERMS == NET_30
    assert [str(t) for t in STANDARD_TERMS] == ["NET 30", "NET 45", "NET 60", "EOM"]


@pytest.mark.parametrize("terms, issued, due", [
    (NET_30, dt.date(2026, 12, 20), dt.date(2027, 1, 19)),
    (NET_45, dt.date(2026, 1, 31), dt.date(2026, 3, 17)),
    (NET_60, dt.date(2028, 1, 1), dt.date(2028, 3, 1)),  # 2028 is a leap year
    (PaymentTerms.net(0), dt.date(2026, 5, 5), dt.date(2026, 5, 5)),
])
def test_net_terms_are_due_that_many_calendar_days_after_the_issue_date(
    terms: PaymentTerms, issued: dt.date, due: dt.date,
) -> None:
    assert terms.due_on(issued) == due


@pytest.mark.parametrize("issued, due", [
    (dt.date(2026, 3, 14), dt.date(2026, 3, 31)),
    (dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
    (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    (dt.date(2028, 2, 10), dt.date(2028, 2, 29)),
    (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
])
def test_end_of_month_is_due_on_the_last_day_of_the_issue_month(issued: dt.date, due: dt.date) -> None:
    assert END_OF_MONTH.due_on(issued) == due


def test_end_of_month_plus_n_is_due_n_days_after_the_end_of_the_issue_month() -> None:
    assert PaymentTerms.parse("EOM+15").due_on(dt.date(2026, 3, 14)) == dt.date(2026, 4, 15)
    assert PaymentTerms.parse("EOM+30").due_on(dt.date(2026, 12, 31)) == dt.date(2027, 1, 30)


@pytest.mark.parametrize("text", ["NET 0", "NET 30", "NET 45", "NET 60", "NET 365", "EOM", "EOM+1", "EOM+365"])
def test_terms_read_back_as_they_are_written(text: str) -> None:
    assert str(PaymentTerms.parse(text)) == text


@pytest.mark.parametrize("text", ["", "net 30", "NET", "NET -5", "NET 30 days", "NET 1000", "NET 366",
                                  "NET 030", "EOM+0", "EOM+", "EOM 15", "EOM+366", "eom", " NET 30"])
def test_terms_that_are_not_net_n_or_eom_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        PaymentTerms.parse(text)
    assert refused.value.field == "terms"
    with pytest.raises(ValueError):  # the older callers' contract
        due_date(dt.date(2026, 1, 1), text)


def test_the_model_due_date_reads_eom_terms() -> None:
    assert due_date(dt.date(2026, 4, 2), "EOM") == dt.date(2026, 4, 30)


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)), st.integers(0, 365),
       st.sampled_from(list(TermsKind)))
def test_an_invoice_is_never_due_before_it_is_issued_and_eom_lands_on_a_month_end(
    issued: dt.date, days: int, kind: TermsKind,
) -> None:
    terms = PaymentTerms(kind, days)
    due = terms.due_on(issued)
    assert due >= issued
    assert PaymentTerms.parse(str(terms)) == terms
    if kind is TermsKind.END_OF_MONTH:
        month_end = due - dt.timedelta(days=days)
        assert (month_end + dt.timedelta(days=1)).day == 1
        assert (month_end.year, month_end.month) == (issued.year, issued.month)
