"""The draft editor's rows: amounts as people type them, the price list's defaults, and the
row named in every mistake."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest
from flask import Flask

from billing_common.money import Money
from web.enterprise_portal.quote_forms import LineError, Row, _decimal, parse_lines
from web.enterprise_portal.quotes_backend import LineInput, QuotePlanView

PLANS = [QuotePlanView("enterprise-annual", "Enterprise, annual", "seat-year", Money(26_400, "USD"))]


@pytest.mark.parametrize(("typed", "value"), [
    ("1234.50", "1234.50"), ("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("1234,5", "1234.5"),
    (" 2 500 ", "2500"), ("0", "0")])
def test_amounts_are_read_as_people_type_them(typed: str, value: str) -> None:
    assert _decimal(typed) == Decimal(value)


@pytest.mark.parametrize("typed", ["abc", "NaN", "Infinity", "1" * 21, ""])
def test_what_is_not_an_amount_is_refused(typed: str) -> None:
    with pytest.raises(InvalidOperation):
        _decimal(typed)


def test_a_plan_row_takes_the_price_lists_price_and_name_and_blank_rows_are_skipped(ebp_app: Flask) -> None:
    rows = [Row(plan="enterprise-annual", quantity="120", discount="12.5"), Row(),
            Row(description="Workshop", price="1.500,00")]
    with ebp_app.test_request_context():
        assert parse_lines(rows, PLANS, "USD") == [
            LineInput("plan", "Enterprise, annual", 120, Money(26_400, "USD"), 1_250, "enterprise-annual"),
            LineInput("custom", "Workshop", 1, Money(150_000, "USD"), 0, "")]


@pytest.mark.parametrize(("row", "message"), [
    (Row(description="x", price="1", discount="12.345"), "Line 2: Discount must be a percentage from 0 to 100."),
    (Row(description="x"), "Line 2: Unit price is required."),
    (Row(price="1"), "Line 2: Description is required (at most 200 characters)."),
])
def test_a_mistake_names_its_row(ebp_app: Flask, row: Row, message: str) -> None:
    with ebp_app.test_request_context(), pytest.raises(LineError) as caught:
        parse_lines([Row(description="ok", price="1"), row], PLANS, "USD")
    assert str(caught.value) == message
