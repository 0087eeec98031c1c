"""S2: argon2id with at least OWASP's parameters, upgraded at sign-in when they change."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from billing_common import deadlines
from billing_common.errors import DeadlineExceeded, Unavailable
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.bootstrap import password_hasher
from services.identity.domain.model import AccountKind, Portal, Role
from services.identity.service_layer import authentication, provisioning


def _parameters(stored: str) -> tuple[str, dict[str, int]]:
    match = re.fullmatch(r"\$(argon2\w+)\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", stored)
    assert match, stored
    variant, m, t, p = match.groups()
    return variant, {"m": int(m), "t": int(t), "p": int(p)}


def test_the_default_settings_hash_with_argon2id_at_owasp_parameters_or_more(settings):
    variant, params = _parameters(password_hasher(settings).hash("Correct-horse-2026"))
    assert variant == "argon2id"
    assert params["m"] >= 19 * 1024 and params["t"] >= 2 and params["p"] >= 1
    assert params == {"m": 19456, "t": 2, "p": 1}


def test_a_stored_hash_is_upgraded_at_sign_in_when_the_parameters_change(deps, settings):
    deps.hasher = Argon2Hasher(memory_cost=1024, time_cost=1, parallelism=1)
    user = provisioning.create_user(deps, "olivia@acme.test", "olivia@acme.test", "Olivia", "en", "Correct-horse-2026",
                                    by="tests")
    account = provisioning.create_account(deps, "Acme", AccountKind.ONLINE, "USD", "en", by="tests")
    provisioning.add_membership(deps, user.id, account.id, Role.BILLING_CONTACT, by="tests")
    with deps.uow() as uow:
        assert _parameters(uow.users.get(user.id).password_hash)[1] == {"m": 1024, "t": 1, "p": 1}

    deps.hasher = password_hasher(settings)
    authentication.authenticate(deps, "olivia@acme.test", "Correct-horse-2026", Portal.BILLING_CENTER)
    with deps.uow() as uow:
        upgraded = uow.users.get(user.id).password_hash
    assert _parameters(upgraded) == ("argon2id", {"m": 19456, "t": 2, "p": 1})
    assert authentication.authenticate(deps, "olivia@acme.test", "Correct-horse-2026", Portal.BILLING_CENTER).session


def test_a_long_password_is_hashed_whole_so_its_prefix_does_not_verify():
    hasher = Argon2Hasher(memory_cost=1024, time_cost=1)
    long_password = "Zq8#vL2!mK" * 102 + "abcd"
    stored = hasher.hash(long_password)
    assert hasher.verify(stored, long_password)
    assert not hasher.verify(stored, long_password[:-1])
    assert not hasher.verify("not a hash", long_password)
    assert hasher.needs_rehash("not a hash")


def test_the_dummy_hash_uses_the_current_parameters_so_unknown_ids_cost_the_same(settings):
    hasher = password_hasher(settings)
    assert _parameters(hasher.dummy_hash) == ("argon2id", {"m": 19456, "t": 2, "p": 1})
    assert hasher.dummy_hash is hasher.dummy_hash


def test_no_more_hashes_run_at_once_than_the_bound():
    hasher = Argon2Hasher(memory_cost=1024, time_cost=1, max_concurrent=2)
    stored = hasher.hash("Correct-horse-2026")
    real, lock, three_in = hasher.ph, threading.Lock(), threading.Event()
    running = peak = 0

    class Counting:
        """The real verification, noting how many run at once. Each one lingers until a third
        has come in (never, with the bound) or a short while has passed."""

        def verify(self, password_hash, password):
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
                if running == 3:
                    three_in.set()
            three_in.wait(0.3)
            try:
                return real.verify(password_hash, password)
            finally:
                with lock:
                    running -= 1

    hasher.ph = Counting()
    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(lambda _: hasher.verify(stored, "Correct-horse-2026"), range(4)))
    assert peak == 2


def test_a_caller_beyond_the_queue_is_refused_as_unavailable_and_the_queue_drains():
    hasher = Argon2Hasher(memory_cost=1024, time_cost=1, max_concurrent=1, max_queued=1)
    stored = hasher.hash("Correct-horse-2026")
    real, inside, release = hasher.ph, threading.Event(), threading.Event()

    class Holding:
        def verify(self, password_hash, password):
            inside.set()
            release.wait(5)
            return real.verify(password_hash, password)

    hasher.ph = Holding()
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(hasher.verify, stored, "Correct-horse-2026")
        assert inside.wait(5)
        queued = pool.submit(hasher.verify, stored, "Correct-horse-2026")
        for _ in range(500):  # until the second caller has taken the one place in the queue
            if hasher._queued:
                break
            threading.Event().wait(0.01)
        with pytest.raises(Unavailable, match="Too many sign-ins"):
            hasher.verify(stored, "Correct-horse-2026")
        release.set()
        assert running.result(5) and queued.result(5)
    hasher.ph = real
    assert hasher.verify(stored, "Correct-horse-2026")  # nothing left held


def test_a_caller_queued_for_a_hash_waits_at_most_its_remaining_deadline_and_hashes_nothing():
    hasher = Argon2Hasher(memory_cost=1024, time_cost=1, max_concurrent=1, max_queued=4)
    stored = hasher.hash("Correct-horse-2026")
    real, inside, release = hasher.ph, threading.Event(), threading.Event()
    computed = []

    class Holding:
        def verify(self, password_hash, password):
            computed.append(1)
            inside.set()
            release.wait(10)
            return real.verify(password_hash, password)

    def within(seconds):
        token = deadlines.start(seconds)
        try:
            return hasher.verify(stored, "Correct-horse-2026")
        finally:
            deadlines.reset(token)

    hasher.ph = Holding()
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(hasher.verify, stored, "Correct-horse-2026")
        assert inside.wait(5)
        queued = pool.submit(within, 0.2)
        with pytest.raises(DeadlineExceeded):
            queued.result(5)  # while the slot is still held: it stopped waiting at its deadline
        with pytest.raises(DeadlineExceeded):
            within(-1)  # already past: not even queued
        release.set()
        assert running.result(5)
    assert len(computed) == 1 and hasher._queued == 0
