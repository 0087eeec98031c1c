"""A statement asked for at the very ends of the calendar (found by the form fuzz: the end
9999-12-31 answered INTERNAL, the page a 500) is INVALID_ARGUMENT naming the field (S24), with
nothing read; the last and first days allowed still work."""
from __future__ import annotations

import datetime as dt

import pytest

from billing_common.errors import InvalidArgument
from services.enterprise_portal.service_layer import invoicing
from tests.unit.enterprise_portal.test_invoicing_use_cases import ACCOUNT, World


@pytest.fixture
def world() -> World:
    return World()


@pytest.mark.parametrize(("start", "end", "field"), [
    (None, dt.date(9999, 12, 31), "end"),
    (dt.date(9999, 12, 31), None, "start"),
    (dt.date(1, 1, 1), dt.date(1, 1, 5), "start"),
    (None, dt.date(1, 1, 5), "end"),
])
def test_a_day_out_of_range_is_refused_naming_the_field(world: World, start: dt.date | None, end: dt.date | None,
                                                       field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        invoicing.account_statement(world.deps, ACCOUNT, start, end)
    assert refused.value.field == field


def test_the_last_and_first_days_allowed_work(world: World) -> None:
    last = invoicing.account_statement(world.deps, ACCOUNT, None, invoicing.LAST_STATEMENT_DAY)
    first = invoicing.account_statement(world.deps, ACCOUNT, invoicing.FIRST_STATEMENT_DAY,
                                        invoicing.FIRST_STATEMENT_DAY + dt.timedelta(days=30))
    assert tuple(last.entries) == () == tuple(first.entries)
