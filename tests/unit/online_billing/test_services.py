from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.clock import FakeClock
from billing_common.errors import InvalidArgument, NotFound
from services.online_billing.adapters.memory import InMemoryUnitOfWork
from services.online_billing.domain.model import SubscriptionStatus
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.services import get_subscription_summary
from tests.unit.online_billing.factories import subscription


def _deps(uow: InMemoryUnitOfWork) -> Dependencies:
    """The use case's dependencies over one in-memory unit of work the test can inspect."""
    return Dependencies(uow=lambda: uow, clock=FakeClock())


def test_the_summary_is_the_accounts_subscription() -> None:
    mine, other = subscription("acct-a", seats=10), subscription("acct-b", seats=2)
    uow = InMemoryUnitOfWork([other, mine])
    assert get_subscription_summary(_deps(uow), "acct-a") == mine


def test_the_summary_prefers_the_live_subscription_over_canceled_history() -> None:
    live = subscription("acct-a")
    uow = InMemoryUnitOfWork([subscription("acct-a", status=SubscriptionStatus.CANCELED), live])
    assert get_subscription_summary(_deps(uow), "acct-a") == live


def test_an_account_without_a_subscription_is_not_found() -> None:
    with pytest.raises(NotFound):
        get_subscription_summary(_deps(InMemoryUnitOfWork([subscription("acct-b")])), "acct-a")


def test_reading_the_summary_commits_nothing() -> None:
    uow = InMemoryUnitOfWork([subscription("acct-a")])
    get_subscription_summary(_deps(uow), "acct-a")
    assert not uow.committed


@pytest.mark.parametrize(
    "bad", ["", "   ", "x" * 65, "acct\n1", "acct\x00", "\u202eacct", " acct-1"],
    ids=["empty", "blank", "too-long", "newline", "nul", "bidi-control", "leading-space"],
)
def test_a_malformed_account_id_is_an_invalid_argument_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        get_subscription_summary(_deps(InMemoryUnitOfWork()), bad)
    assert caught.value.field == "account_id"


def test_an_account_id_of_exactly_64_characters_is_accepted() -> None:
    account_id = "a" * 64
    deps = _deps(InMemoryUnitOfWork([subscription(account_id)]))
    assert get_subscription_summary(deps, account_id).account_id == account_id


@given(st.text(max_size=80))
def test_any_account_id_gives_a_summary_not_found_or_invalid_argument_and_nothing_else(account_id: str) -> None:
    try:
        get_subscription_summary(_deps(InMemoryUnitOfWork()), account_id)
    except InvalidArgument as exc:
        assert exc.field == "account_id"
    except NotFound:
        pass
