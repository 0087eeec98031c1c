"""S4's sign-in budgets on the real SQL unit of work, the real Redis and argon2id, with a
FakeClock (the rules themselves: tests/unit/identity/test_identity_sign_in_budgets.py)."""
from __future__ import annotations

import threading

import pytest

from billing_common.errors import RateLimited, Unauthenticated
from services.identity.domain.model import AccountKind, Portal, Role
from services.identity.service_layer import authentication, keys, provisioning

BC = Portal.BILLING_CENTER
PASSWORD, WRONG = "Online-demo-2026!", "Wrong-password-1"


@pytest.fixture
def olivia(deps, unique):
    account = provisioning.create_account(deps, unique("Acme"), AccountKind.ONLINE, "USD", "en", by="tests")
    login = unique("olivia") + "@acme.test"
    user = provisioning.create_user(deps, login, login, "Olivia", "en", PASSWORD, by="tests")
    provisioning.add_membership(deps, user.id, account.id, Role.BILLING_CONTACT, by="tests")
    return login, user.id


def _parallel(count: int, attempt) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(count)

    def one() -> None:
        barrier.wait()
        try:
            attempt()
            outcomes.append("ok")
        except Unauthenticated:
            outcomes.append("verified and wrong")
        except RateLimited:
            outcomes.append("refused unverified")

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_thirty_parallel_wrong_guesses_get_no_more_verifications_than_the_budget(deps, olivia, store):
    login, user_id = olivia
    outcomes = _parallel(30, lambda: authentication.authenticate(deps, login, WRONG, BC, "192.0.2.30"))
    assert len(outcomes) == 30
    # Before: all 30 were verified, since checking the budget and counting a failure were two steps.
    assert outcomes.count("verified and wrong") == 10
    assert outcomes.count("refused unverified") == 20
    assert len(store.events(keys.login_failures_of_user(user_id), since=0)) == 10


def test_thirty_parallel_guesses_from_one_device_token_get_no_more_than_its_budget(deps, olivia):
    login, _ = olivia
    device = authentication.authenticate(deps, login, PASSWORD, BC, "192.0.2.31").device.token
    outcomes = _parallel(30, lambda: authentication.authenticate(deps, login, WRONG, BC, "192.0.2.31", device))
    assert outcomes.count("verified and wrong") == 10 and outcomes.count("refused unverified") == 20


def test_the_eleventh_attempt_waits_for_new_browsers_while_the_owners_browser_signs_in_against_real_redis(
    deps, clock, olivia
):
    login, _ = olivia
    device = authentication.authenticate(deps, login, PASSWORD, BC, "192.0.2.40").device.token
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            authentication.authenticate(deps, login, WRONG, BC, "203.0.113.40")
    with pytest.raises(RateLimited) as err:
        authentication.authenticate(deps, login, PASSWORD, BC, "192.0.2.41")
    assert authentication.authenticate(deps, login, PASSWORD, BC, "192.0.2.40", device).session
    clock.advance(err.value.retry_after)
    assert authentication.authenticate(deps, login, PASSWORD, BC, "192.0.2.41").session


def test_failures_across_an_ipv6_slash_64_share_one_address_budget_against_real_redis(deps, settings, olivia, unique):
    settings.login_address_max_failures = 3
    for i in range(3):
        with pytest.raises(Unauthenticated):
            authentication.authenticate(deps, unique("nobody") + "@acme.test", WRONG, BC, f"2001:db8:40::{i + 1}")
    with pytest.raises(RateLimited):
        authentication.authenticate(deps, olivia[0], PASSWORD, BC, "2001:db8:40:0:ffff::9")
    assert authentication.authenticate(deps, olivia[0], PASSWORD, BC, "2001:db8:41::1").session
