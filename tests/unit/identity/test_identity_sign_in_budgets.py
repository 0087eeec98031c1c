"""S4 with device tokens (OWASP's device cookies), over the in-memory fakes and a FakeClock.

An attacker's failures hold back only the clients in the same budget: a browser that signed in
as the user before has a budget of its own, and the others wait only while the attacker goes
faster than the budget. The same rules against a real Redis: tests/integration/identity.
"""
from __future__ import annotations

import heapq

import pytest
from pydantic import SecretStr

from billing_common.errors import RateLimited, Unauthenticated, Unavailable
from services.identity.domain.model import Portal
from services.identity.service_layer import authentication, devices, passwords, throttle

BC, ENT = Portal.BILLING_CENTER, Portal.ENTERPRISE
OLIVIA, PASSWORD, WRONG = "olivia@acme.test", "Online-demo-2026!", "Wrong-password-1"
ATTACKER, OWNER = "203.0.113.66", "192.0.2.10"
DAY = 24 * 60 * 60


def _attempt(deps, password: str, address: str, device: str = "", login: str = OLIVIA, portal: Portal = BC):
    """"ok" with the result, "wrong" (UNAUTHENTICATED) or "wait" with the RateLimited."""
    try:
        trust = {"device_token": device} if device else {}
        return "ok", authentication.authenticate(deps, login, password, portal, address, **trust)
    except Unauthenticated as error:
        return "wrong", error
    except RateLimited as error:
        return "wait", error


def _a_day_under_attack(deps, clock, *, attacker_every: float, owner_trusted: bool) -> tuple[list[str], int]:
    """24 hours: from one address an attacker guesses Olivia's password, ten at once, then
    again `attacker_every` seconds after each guess, or as soon as a wait he is told of ends.
    Olivia signs in every 30 minutes from another address, from the browser she signed in with
    the day before (which keeps her newest device token) or from a new one each time.
    (Olivia's 48 outcomes, the attacker's guesses that were verified)."""
    _, yesterday = _attempt(deps, PASSWORD, OWNER)
    device = yesterday.device.token if owner_trusted else ""
    clock.advance(DAY)
    start = clock.now()
    guesses = sum(_attempt(deps, WRONG, ATTACKER)[0] == "wrong" for _ in range(10))
    queue = [(attacker_every, "attacker")] + [(600.0 + 1800.0 * i, "owner") for i in range(48)]
    heapq.heapify(queue)
    owner = []
    while queue:
        at, who = heapq.heappop(queue)
        clock.advance(start + at - clock.now())
        if who == "owner":
            outcome, result = _attempt(deps, PASSWORD, OWNER, device)
            owner.append(outcome)
            if outcome == "ok" and owner_trusted:
                device = result.device.token
            continue
        outcome, result = _attempt(deps, WRONG, ATTACKER)
        guesses += outcome == "wrong"
        next_at = at + (result.retry_after if outcome == "wait" else attacker_every)
        if next_at < DAY:
            heapq.heappush(queue, (next_at, "attacker"))
    return owner, guesses


def _longest_run_of_waits(outcomes: list[str]) -> int:
    longest = run = 0
    for outcome in outcomes:
        run = run + 1 if outcome == "wait" else 0
        longest = max(longest, run)
    return longest


def test_an_attacker_who_guesses_whenever_allowed_never_holds_back_the_owners_own_browser(deps, world, clock):
    # Before: she failed 48 of 48 (each guess right after a wait renewed it; ~4.5 guesses an hour).
    owner, guesses = _a_day_under_attack(deps, clock, attacker_every=0.5, owner_trusted=True)
    assert owner == ["ok"] * 48
    # The attacker kept to the budget's pace: ten in 15 minutes, and a few after growing waits.
    assert guesses <= 24 * 4 * 12


def test_the_same_attacker_holds_back_a_new_browser_only_now_and_then(deps, world, clock):
    # Faster than the budget, he makes the browsers without her device token wait, as OWASP's
    # device cookies intend; but his waits end after at most 15 minutes of quiet, never for good.
    owner, _ = _a_day_under_attack(deps, clock, attacker_every=0.5, owner_trusted=False)
    assert owner.count("ok") >= 12 and _longest_run_of_waits(owner) <= 3


@pytest.mark.parametrize("owner_trusted", [True, False], ids=["her-own-browser", "a-new-browser"])
def test_an_attacker_within_the_budget_never_makes_the_owner_wait(deps, world, clock, owner_trusted):
    # Nine guesses an hour (after a first ten) is within ten in 15 minutes.
    owner, guesses = _a_day_under_attack(deps, clock, attacker_every=400, owner_trusted=owner_trusted)
    assert owner == ["ok"] * 48
    assert guesses == 10 + 24 * 9 - 1


def test_an_attacker_faster_than_the_budget_makes_new_browsers_wait_but_never_for_good(deps, world, clock):
    for _ in range(10):
        assert _attempt(deps, WRONG, ATTACKER)[0] == "wrong"
    outcome, wait = _attempt(deps, PASSWORD, OWNER)
    assert outcome == "wait" and 0 < wait.retry_after <= 15 * 60
    clock.advance(wait.retry_after)
    assert _attempt(deps, PASSWORD, OWNER)[0] == "ok"


def test_the_eleventh_attempt_from_a_browser_without_a_device_token_is_refused_even_with_the_right_password(
    deps, world, clock
):
    device = _attempt(deps, PASSWORD, OWNER)[1].device.token
    for _ in range(10):
        _attempt(deps, WRONG, ATTACKER)
    assert _attempt(deps, PASSWORD, OWNER)[0] == "wait"
    # Her own browser is not held back, and a success there does not lift the others' wait.
    assert _attempt(deps, PASSWORD, OWNER, device)[0] == "ok"
    assert _attempt(deps, PASSWORD, "198.51.100.3")[0] == "wait"


def test_a_device_token_has_its_own_budget_and_its_own_failures_lock_only_that_token(deps, world, clock):
    device = _attempt(deps, PASSWORD, OWNER)[1].device.token
    for _ in range(10):
        assert _attempt(deps, WRONG, OWNER, device)[0] == "wrong"
    outcome, wait = _attempt(deps, PASSWORD, OWNER, device)
    assert outcome == "wait"
    # The owner's other browsers are not held back by that token's failures.
    assert _attempt(deps, PASSWORD, OWNER)[0] == "ok"
    clock.advance(wait.retry_after)
    assert _attempt(deps, PASSWORD, OWNER, device)[0] == "ok"


def test_a_device_token_of_another_user_or_with_a_bad_signature_or_expired_counts_as_none(
    deps, world, clock, settings
):
    marks = _attempt(deps, "Member-demo-2026!", OWNER, login="mark@acme.test")[1].device.token
    olivias = _attempt(deps, PASSWORD, OWNER)[1].device.token
    body, _, signature = olivias.rpartition(".")
    forged = f"{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    other_user = marks.replace(str(world.mark), str(world.olivia))  # named Olivia, signed for Mark
    for _ in range(10):
        _attempt(deps, WRONG, ATTACKER)
    for token in (marks, forged, other_user, "d1.garbage", "", "x" * 300):
        assert _attempt(deps, PASSWORD, OWNER, token)[0] == "wait", token
    assert _attempt(deps, PASSWORD, OWNER, olivias)[0] == "ok"
    clock.advance(settings.device_token_lifetime + 1)
    for _ in range(10):
        _attempt(deps, WRONG, ATTACKER)
    assert _attempt(deps, PASSWORD, OWNER, olivias)[0] == "wait"  # expired


def test_a_device_token_signed_with_another_secret_counts_as_none(deps, world, settings):
    token = _attempt(deps, PASSWORD, OWNER)[1].device.token
    assert devices.device_budget(deps, token, world.olivia) is not None
    settings.device_secret = SecretStr("another-secret-of-at-least-32-characters")
    assert devices.device_budget(deps, token, world.olivia) is None


def test_every_successful_sign_in_hands_the_browser_a_new_long_lived_device_token(deps, world, clock, settings):
    first = _attempt(deps, PASSWORD, OWNER)[1]
    handed_over = _attempt(deps, "Enterprise-demo-2026!", OWNER, login="globex-billing")[1]
    assert handed_over.handoff_ticket and handed_over.device.token
    again = _attempt(deps, PASSWORD, OWNER, first.device.token)[1]
    assert first.device.token != again.device.token
    assert first.device.expires_at == int(clock.now() + settings.device_token_lifetime)
    assert "Online-demo" not in first.device.token and world.olivia in first.device.token


def test_failures_before_verification_still_read_the_same_for_trusted_and_untrusted_clients(deps, world):
    device = _attempt(deps, PASSWORD, OWNER)[1].device.token
    wrong_with_device = _attempt(deps, WRONG, OWNER, device)[1]
    wrong_without = _attempt(deps, WRONG, OWNER)[1]
    unknown = _attempt(deps, WRONG, OWNER, device, login="nobody@acme.test")[1]
    assert {(type(e), e.message) for e in (wrong_with_device, wrong_without, unknown)} == {
        (Unauthenticated, "Invalid user ID/password")}


def test_an_attempt_the_hasher_was_too_busy_to_verify_is_not_counted(deps, world, hasher, monkeypatch):
    def busy(password_hash, password):
        raise Unavailable("busy", retry_after=2)

    monkeypatch.setattr(hasher, "verify", busy)
    for _ in range(15):
        with pytest.raises(Unavailable):
            authentication.authenticate(deps, OLIVIA, WRONG, BC, ATTACKER)
    monkeypatch.undo()
    assert _attempt(deps, PASSWORD, OWNER)[0] == "ok"


# --- addresses -------------------------------------------------------------------------------

@pytest.mark.parametrize("address, group", [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("fe80::1%eth0", "fe80::/64"),
    ("not-an-address", "not-an-address"),
])
def test_addresses_are_counted_per_ipv4_address_and_per_ipv6_slash_64(address, group):
    assert throttle.address_group(address) == group


def test_failures_from_anywhere_in_one_ipv6_slash_64_share_one_address_budget(deps, world, settings):
    settings.login_address_max_failures = 5
    for i in range(5):
        assert _attempt(deps, WRONG, f"2001:db8:1:2::{i + 1:x}", login=f"someone{i}@acme.test")[0] == "wrong"
    assert _attempt(deps, PASSWORD, "2001:db8:1:2:ffff:ffff:ffff:ffff")[0] == "wait"
    assert _attempt(deps, PASSWORD, "2001:db8:1:3::1")[0] == "ok"


def test_reset_requests_are_counted_per_ipv6_slash_64_too(deps, world, data, settings):
    settings.reset_requests_per_address = 2
    for i in range(4):
        passwords.request_password_reset(deps, OLIVIA if i < 3 else "mark@acme.test", BC, f"2001:db8:9:9::{i + 1}")
    mailed = [m for m in data.outbox if "/reset/" in m.body]
    assert len(mailed) == 2
