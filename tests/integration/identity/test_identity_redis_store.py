"""The Redis store against a real Redis server (TEST_REDIS_URL, else the embedded one)."""
from __future__ import annotations

import threading

import pytest

from services.identity.adapters.memory import InMemoryStore
from services.identity.adapters.store import RedisStore


def test_values_round_trip_and_carry_a_cleanup_ttl(store: RedisStore):
    store.put("session:abc", {"user_id": "u1", "at": 1.5}, ttl=30)
    assert store.get("session:abc") == {"user_id": "u1", "at": 1.5}
    assert 0 < store.r.ttl(store.prefix + "session:abc") <= 30 + 60
    assert store.get("session:missing") is None


def test_keys_live_under_the_configured_prefix(store: RedisStore):
    store.put("k", {"v": 1}, ttl=10)
    assert store.r.exists(store.prefix + "k") and not store.r.exists("k")


def test_take_hands_a_value_to_exactly_one_of_many_concurrent_callers(store: RedisStore):
    store.put("ticket", {"user_id": "u1"}, ttl=60)
    winners: list[object] = []
    barrier = threading.Barrier(16)

    def grab() -> None:
        barrier.wait()
        value = store.take("ticket")
        if value is not None:
            winners.append(value)

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert winners == [{"user_id": "u1"}]
    assert store.get("ticket") is None


def test_sets_add_remove_and_delete(store: RedisStore):
    store.set_add("idx", "a", ttl=60)
    store.set_add("idx", "b", ttl=60)
    store.set_remove("idx", "a")
    assert store.set_members("idx") == {"b"}
    store.delete("idx")
    assert store.set_members("idx") == set()


def test_events_are_judged_by_the_timestamps_given_not_by_redis_time(store: RedisStore):
    base = 1_800_000_000.0
    for offset in (0, 100, 200):
        store.record_event("rl", base + offset, window=900)
    assert store.events("rl", since=base + 50) == [base + 100, base + 200]
    store.record_event("rl", base + 1050, window=900)  # drops what fell out of the window
    assert store.events("rl", since=0) == [base + 200, base + 1050]
    store.clear_events("rl")
    assert store.events("rl", since=0) == []


# --- touch_session: the one round trip of every session check (a Lua script) -------------------
# The in-memory twin must give the same answers, so these run against both.

IDLE, ABSOLUTE = 1800.0, 43200.0
SIGNED_IN_AT = 1_800_000_000.123457


@pytest.fixture(params=["redis", "memory"])
def either_store(request, store: RedisStore):
    return store if request.param == "redis" else InMemoryStore()


def _touch(store, key: str, now: float, portal: str = "billing_center"):
    return store.touch_session(key, portal, now, IDLE, ABSOLUTE)


def _session(portal: str = "billing_center", last_seen_at: float = SIGNED_IN_AT) -> dict:
    return {"user_id": "u1", "portal": portal, "authenticated_at": SIGNED_IN_AT, "last_seen_at": last_seen_at}


def test_touching_a_live_session_moves_last_seen_to_the_exact_time_given_and_keeps_the_rest(either_store):
    either_store.put("session:d1", _session(), ttl=IDLE)
    now = SIGNED_IN_AT + 1234.567891
    touched = _touch(either_store, "session:d1", now)
    # Every digit survives (Redis's cjson would keep only 14 significant ones).
    assert touched == _session(last_seen_at=now)
    assert either_store.get("session:d1") == _session(last_seen_at=now)


def test_a_session_is_judged_idle_and_too_old_by_the_time_given_and_then_deleted(either_store):
    either_store.put("session:idle", _session(), ttl=IDLE)
    assert _touch(either_store, "session:idle", SIGNED_IN_AT + IDLE) is None
    assert either_store.get("session:idle") is None
    either_store.put("session:old", _session(last_seen_at=SIGNED_IN_AT + ABSOLUTE - 1), ttl=IDLE)
    assert _touch(either_store, "session:old", SIGNED_IN_AT + ABSOLUTE) is None
    assert either_store.get("session:old") is None


def test_a_session_of_the_other_portal_is_refused_and_left_alone(either_store):
    either_store.put("session:ent", _session("enterprise"), ttl=IDLE)
    assert _touch(either_store, "session:ent", SIGNED_IN_AT + 1) is None
    assert either_store.get("session:ent") == _session("enterprise")


def test_a_missing_or_deleted_session_is_not_brought_back(either_store):
    assert _touch(either_store, "session:none", SIGNED_IN_AT) is None
    either_store.put("session:gone", _session(), ttl=IDLE)
    assert either_store.take("session:gone") is not None
    assert _touch(either_store, "session:gone", SIGNED_IN_AT + 1) is None
    assert either_store.get("session:gone") is None


def test_touching_renews_the_cleanup_ttl_up_to_the_nearer_timeout(store: RedisStore):
    store.put("session:ttl", _session(), ttl=5)
    store.touch_session("session:ttl", "billing_center", SIGNED_IN_AT + 10, IDLE, ABSOLUTE)
    assert IDLE < store.r.ttl(store.prefix + "session:ttl") <= IDLE + 60
    # Near the absolute limit the TTL follows it, not the idle timeout.
    store.put("session:ttl", _session(last_seen_at=SIGNED_IN_AT + ABSOLUTE - 200), ttl=5)
    assert store.touch_session("session:ttl", "billing_center", SIGNED_IN_AT + ABSOLUTE - 100, IDLE, ABSOLUTE)
    assert 60 < store.r.ttl(store.prefix + "session:ttl") <= 100 + 60


def test_several_values_come_back_in_one_call_with_none_for_the_missing(either_store):
    either_store.put("a", {"v": 1}, ttl=10)
    either_store.put("c", {"v": 3}, ttl=10)
    assert either_store.get_many("a", "b", "c") == [{"v": 1}, None, {"v": 3}]
    assert either_store.get_many() == []


def test_a_value_and_its_index_member_are_written_together_and_other_keys_deleted(either_store):
    either_store.record_event("rl:fail", 1.0, window=900)
    either_store.put("rl:fail:throttle", {"level": 0, "until": 2.0}, ttl=900)
    either_store.put_with_member("session:x", {"user_id": "u1"}, 30, "user-sessions:u1", "x", 600,
                                 delete=("rl:fail", "rl:fail:throttle"))
    assert either_store.get("session:x") == {"user_id": "u1"}
    assert either_store.set_members("user-sessions:u1") == {"x"}
    assert either_store.events("rl:fail", since=0) == [] and either_store.get("rl:fail:throttle") is None


def test_the_value_and_index_get_their_own_cleanup_ttls(store: RedisStore):
    store.put_with_member("session:y", {"user_id": "u2"}, 30, "user-sessions:u2", "y", 600)
    assert 0 < store.r.ttl(store.prefix + "session:y") <= 30 + 60
    assert 30 + 60 < store.r.ttl(store.prefix + "user-sessions:u2") <= 600 + 60


# --- restamp_session: the session that changed the password carries on (a Lua script) ------------

def test_restamping_moves_only_the_generation_and_keeps_the_times_and_the_ttl(either_store):
    either_store.put("session:mine", {**_session(), "generation": 3}, ttl=IDLE)
    assert either_store.restamp_session("session:mine", 4) is True
    assert either_store.get("session:mine") == {**_session(), "generation": 4}


def test_restamping_a_signed_out_or_generationless_session_writes_nothing(either_store):
    assert either_store.restamp_session("session:gone", 4) is False
    assert either_store.get("session:gone") is None
    either_store.put("session:old", _session(), ttl=IDLE)
    assert either_store.restamp_session("session:old", 4) is False
    assert either_store.get("session:old") == _session()


def test_restamping_keeps_the_cleanup_ttl(store: RedisStore):
    store.put("session:ttl2", {**_session(), "generation": 0}, ttl=100)
    before = store.r.ttl(store.prefix + "session:ttl2")
    store.restamp_session("session:ttl2", 1)
    assert 0 < store.r.ttl(store.prefix + "session:ttl2") <= before
# --- admit_attempt: a sign-in budget checked and counted in one step (S4) ----------------------

T0 = 1_800_000_000.0
DELAYS = [30.0, 60.0, 120.0]


def test_attempts_are_admitted_until_the_limit_then_the_wait_runs_from_the_newest(either_store):
    for i in range(3):
        assert either_store.admit_attempt([("b", 3)], T0 + i, 900, DELAYS, f"a{i}") == 0
    assert either_store.admit_attempt([("b", 3)], T0 + 10, 900, DELAYS, "refused") == pytest.approx(22.0)
    assert either_store.events("b", since=0) == [T0, T0 + 1, T0 + 2]  # nothing counted
    assert either_store.admit_attempt([("b", 3)], T0 + 32, 900, DELAYS, "a3") == 0
    # The fourth doubles the wait; past the schedule's end the last delay repeats.
    assert either_store.admit_attempt([("b", 3)], T0 + 33, 900, DELAYS, "x") == pytest.approx(59.0)
    either_store.admit_attempt([("b", 3)], T0 + 92, 900, DELAYS, "a4")
    either_store.admit_attempt([("b", 3)], T0 + 212, 900, DELAYS, "a5")
    assert either_store.admit_attempt([("b", 3)], T0 + 212, 900, DELAYS, "x") == pytest.approx(120.0)


def test_only_the_window_counts_and_older_attempts_are_forgotten_on_the_next_admission(either_store):
    for i in range(3):
        either_store.admit_attempt([("w", 3)], T0 + i, 900, DELAYS, f"a{i}")
    assert either_store.admit_attempt([("w", 3)], T0 + 901.5, 900, DELAYS, "late") == 0
    assert either_store.events("w", since=0) == [T0 + 2, T0 + 901.5]


def test_an_attempt_is_admitted_in_every_budget_or_in_none(either_store):
    either_store.admit_attempt([("full", 1)], T0, 900, DELAYS, "first")
    assert either_store.admit_attempt([("free", 5), ("full", 1)], T0 + 1, 900, DELAYS, "second") > 0
    assert either_store.events("free", since=0) == []
    assert either_store.admit_attempt([("free", 5), ("other", 5)], T0 + 1, 900, DELAYS, "third") == 0
    assert either_store.events("free", since=0) == either_store.events("other", since=0) == [T0 + 1]


def test_an_attempt_taken_back_leaves_the_others_and_a_cleared_budget_is_empty(either_store):
    either_store.admit_attempt([("u", 5), ("addr", 5)], T0, 900, DELAYS, "mine")
    either_store.admit_attempt([("addr", 5)], T0 + 1, 900, DELAYS, "theirs")
    either_store.forget_attempt("mine", "addr", clear=("u",))
    assert either_store.events("addr", since=0) == [T0 + 1]
    assert either_store.events("u", since=0) == []


def test_thirty_parallel_admissions_never_overrun_the_budget(either_store):
    admitted: list[str] = []
    barrier = threading.Barrier(30)

    def one(i: int) -> None:
        barrier.wait()
        if either_store.admit_attempt([("par", 10), ("par-addr", 100)], T0, 900, DELAYS, f"p{i}") == 0:
            admitted.append(f"p{i}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 10
    assert len(either_store.events("par", since=0)) == len(either_store.events("par-addr", since=0)) == 10


def test_a_budget_cleans_itself_up_after_its_window(store: RedisStore):
    store.admit_attempt([("ttl", 10)], T0, 900, DELAYS, "a")
    assert 900 < store.r.ttl(store.prefix + "ttl") <= 900 + 60
