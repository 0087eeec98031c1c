"""The Redis store against a real Redis server (TEST_REDIS_URL, else the embedded one)."""
from __future__ import annotations

import threading

from services.identity.adapters.store import RedisStore


def test_values_round_trip_and_carry_a_cleanup_ttl(store: RedisStore):
    store.put("session:abc", {"user_id": "u1", "at": 1.5}, ttl=30)
    assert store.get("session:abc") == {"user_id": "u1", "at": 1.5}
    assert 0 < store.r.ttl(store.prefix + "session:abc") <= 30 + 60
    assert store.get("session:missing") is None


def test_keys_live_under_the_configured_prefix(store: RedisStore):
    store.put("k", {"v": 1}, ttl=10)
    assert store.r.exists(store.prefix + "k") and not store.r.exists("k")


def test_replace_only_overwrites_a_key_that_still_exists(store: RedisStore):
    assert not store.replace("gone", {"v": 1}, ttl=10)
    assert store.get("gone") is None
    store.put("here", {"v": 1}, ttl=10)
    assert store.replace("here", {"v": 2}, ttl=10)
    assert store.get("here") == {"v": 2}


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
