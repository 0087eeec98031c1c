"""Gapless invoice numbers against a real database (SQLite files, or PostgreSQL with
TEST_DATABASE_URL): rollbacks leave no hole, concurrent finalizations take turns."""
import threading
import uuid

import pytest
from sqlalchemy import MetaData, select, text

from billing_common.db import NAMING, make_engine
from billing_common.errors import InvalidArgument
from billing_common.invoicing.numbering import (
    format_number,
    invoice_number_table,
    next_number,
    next_numbers,
    yearly_series,
)


@pytest.fixture(scope="module")
def engine(database_url):
    metadata = MetaData(naming_convention=NAMING)
    invoice_number_table(metadata)
    engine = make_engine(database_url("numbering"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def series():
    """A series no other test uses: 'T' and eight hex digits, upper-cased."""
    return "T" + uuid.uuid4().hex[:8].upper()


def counter_of(series_number: str) -> int:
    return int(series_number.rsplit("-", 1)[1])


def test_a_new_series_starts_at_one_and_counts_up(engine, series):
    with engine.begin() as conn:
        first = next_number(conn, series)
        second = next_number(conn, series)
    with engine.begin() as conn:
        third = next_number(conn, series)
    assert (first, second, third) == (f"{series}-000001", f"{series}-000002", f"{series}-000003")


def test_a_rolled_back_finalization_leaves_no_gap(engine, series):
    with engine.begin() as conn:
        assert next_number(conn, series) == f"{series}-000001"
    with engine.connect() as conn, conn.begin() as tx:
        assert next_number(conn, series) == f"{series}-000002"
        tx.rollback()
    with engine.begin() as conn:
        assert next_number(conn, series) == f"{series}-000002"


def test_a_failure_after_the_number_was_taken_gives_the_number_back(engine, series):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        next_number(conn, series)
        raise RuntimeError("the charge was declined")
    with engine.begin() as conn:
        assert next_number(conn, series) == f"{series}-000001"


def run_concurrently(engine, series, outcomes):
    """One thread per outcome ("commit" or "rollback"), each on its own connection, all asking
    for a number at once and holding it a moment before ending their transaction, so they
    really overlap at the counter row. Returns the numbers of the committed ones."""
    barrier = threading.Barrier(len(outcomes))
    committed, errors = [], []
    lock = threading.Lock()

    def finalize(outcome):
        try:
            with engine.connect() as conn:
                tx = conn.begin()
                barrier.wait(timeout=30)
                number = next_number(conn, series)
                # Give the others time to queue up behind this transaction's lock.
                threading.Event().wait(0.05)
                if outcome == "commit":
                    tx.commit()
                    with lock:
                        committed.append(number)
                else:
                    tx.rollback()
        except Exception as exc:  # reported by the test below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=finalize, args=(outcome,)) for outcome in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return committed


def test_concurrent_finalizations_get_distinct_consecutive_numbers(engine, series):
    numbers = run_concurrently(engine, series, ["commit"] * 8)
    assert sorted(numbers) == [format_number(series, n) for n in range(1, 9)]


def test_concurrent_finalizations_some_rolled_back_still_leave_no_gap(engine, series):
    outcomes = ["commit", "rollback"] * 4
    numbers = run_concurrently(engine, series, outcomes)
    assert sorted(numbers) == [format_number(series, n) for n in range(1, 5)]
    with engine.begin() as conn:
        assert next_number(conn, series) == format_number(series, 5)


def test_series_count_independently(engine, series):
    other = series + "-B"
    with engine.begin() as conn:
        assert next_number(conn, series) == f"{series}-000001"
        assert next_number(conn, series) == f"{series}-000002"
        assert next_number(conn, other) == f"{other}-000001"
        assert next_number(conn, series) == f"{series}-000003"


def test_on_postgresql_an_open_finalization_does_not_hold_up_another_series(engine, series):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer for the whole database; series can only be independent in count")
    with engine.connect() as holder, holder.begin():
        next_number(holder, series)
        with engine.connect() as other, other.begin():
            # A wait for the holder's lock would end in an error here rather than hang.
            other.execute(text("SET LOCAL lock_timeout = '5s'"))
            assert next_number(other, series + "-B") == f"{series}-B-000001"


def test_on_postgresql_a_second_finalization_of_the_same_series_waits_for_the_first(engine, series):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's single writer serializes every transaction")
    with engine.connect() as holder, holder.begin():
        next_number(holder, series)
        with engine.connect() as other, other.begin():
            other.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(Exception, match="lock timeout"):
                next_number(other, series)


def test_the_counter_row_holds_the_last_number_given(engine, series):
    with engine.begin() as conn:
        for _ in range(3):
            next_number(conn, series)
    table = invoice_number_table(MetaData())
    with engine.connect() as conn:
        assert conn.execute(select(table.c.last_number).where(table.c.series == series)).scalar_one() == 3


def test_numbers_past_six_digits_grow_longer_instead_of_wrapping():
    assert format_number("BC-2026", 123) == "BC-2026-000123"
    assert format_number("BC-2026", 1_234_567) == "BC-2026-1234567"


def test_a_yearly_series_names_the_year():
    assert yearly_series("BC", 2026) == "BC-2026"
    assert format_number(yearly_series("EBP", 987), 1) == "EBP-0987-000001"


@pytest.mark.parametrize("bad", ["", "bc", "BC 2026", "BC--1", "-BC", "BC-", "A-B-C-D", "B" * 13, "BC-2026/1",
                                 "BÇ", "BC\n"])
def test_a_series_that_could_not_prefix_a_number_is_refused_naming_the_field(engine, bad):
    with engine.connect() as conn, pytest.raises(InvalidArgument) as refused:
        next_number(conn, bad)
    assert refused.value.field == "series"


def test_a_block_of_numbers_is_consecutive_and_a_rolled_back_block_leaves_no_gap(engine, series):
    with engine.begin() as conn:
        assert next_numbers(conn, series, 3) == [f"{series}-00000{n}" for n in (1, 2, 3)]
        assert next_numbers(conn, series, 0) == []
    with engine.connect() as conn, conn.begin() as tx:
        assert next_numbers(conn, series, 5)[0] == f"{series}-000004"
        tx.rollback()
    with engine.begin() as conn:
        assert next_number(conn, series) == f"{series}-000004"
        assert next_numbers(conn, series, 2) == [f"{series}-000005", f"{series}-000006"]
