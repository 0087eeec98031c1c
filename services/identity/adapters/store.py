"""Short-lived state in Redis (sessions, tickets, reset tokens, rate-limit events).

Its in-memory twin is adapters/memory.py's InMemoryStore; the key names are service_layer/keys.py.

Values are JSON. Expiry is judged by the use cases from the clock timestamps inside the
values; the Redis TTL set here only cleans up after them.
"""
from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

import redis

# Extra seconds of Redis TTL beyond what the caller asked, so clean-up never races a check.
_TTL_MARGIN = 60

# touch_session in one round trip. The times are the caller's clock, never Redis's. The value
# is not re-encoded with cjson (it keeps only 14 significant digits, which would shift the
# stored timestamps): last_seen_at is replaced in the JSON text, by the caller's exact repr.
# KEYS[1] session; ARGV: portal, now, idle timeout, absolute timeout, TTL margin.
_TOUCH_SESSION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local session = cjson.decode(raw)
if session.portal ~= ARGV[1] then return false end
local now = tonumber(ARGV[2])
local idle_end = session.last_seen_at + tonumber(ARGV[3])
local absolute_end = session.authenticated_at + tonumber(ARGV[4])
if now >= idle_end or now >= absolute_end then
  redis.call('DEL', KEYS[1])
  return false
end
local touched, found = string.gsub(raw, '("last_seen_at"%s*:%s*)[^,}]+',
                                   function(name) return name .. ARGV[2] end, 1)
if found ~= 1 then return redis.error_reply('session without last_seen_at') end
local ttl = math.max(1, math.ceil(math.min(now + tonumber(ARGV[3]), absolute_end) - now))
redis.call('SET', KEYS[1], touched, 'EX', ttl + tonumber(ARGV[5]))
return touched
"""

# put_with_member in one script instead of a MULTI/EXEC of five commands: as atomic, and a
# third cheaper for redis-py to send and read (it runs on every sign-in).
# KEYS[1] value, KEYS[2] set, KEYS[3..] to delete; ARGV: value, its TTL, member, the set's TTL.
_PUT_WITH_MEMBER = """
if #KEYS > 2 then redis.call('DEL', unpack(KEYS, 3)) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
"""

# admit_attempt: a sign-in budget is checked and, when it has room, counted in one step, so
# that 30 guesses sent at once cannot all pass the check before any of them is counted.
# Times are the caller's clock, passed as exact reprs; the wait goes back as a string (a Lua
# number returned to Redis would be cut to an integer).
# KEYS: the budgets (sorted sets of attempt times); ARGV: at, since (at - window), the
# attempt's name, the keys' TTL, the number of delays d, d delays, then one limit per key.
_ADMIT_ATTEMPT = """
local at = tonumber(ARGV[1])
local d = tonumber(ARGV[5])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[5 + d + i])
  local n = redis.call('ZCOUNT', key, ARGV[2], '+inf')
  if n >= limit then
    local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    local delay = tonumber(ARGV[6 + math.min(n - limit, d - 1)])
    wait = math.max(wait, tonumber(newest[2]) + delay - at)
  end
end
if wait > 0 then return tostring(wait) end
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[2])
  redis.call('ZADD', key, ARGV[1], ARGV[3])
  redis.call('EXPIRE', key, ARGV[4])
end
return '0'
"""


# restamp_session: the generation replaced in the JSON text, as touch_session does for
# last_seen_at, and the key's TTL kept. Nothing is written when the session is gone, so a
# sign-out a moment earlier is never undone. KEYS[1] session; ARGV[1] the new generation.
_RESTAMP_SESSION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local stamped, found = string.gsub(raw, '("generation"%s*:%s*)[^,}]+',
                                   function(name) return name .. ARGV[1] end, 1)
if found ~= 1 then return 0 end
redis.call('SET', KEYS[1], stamped, 'KEEPTTL')
return 1
"""


def _ttl(seconds: float) -> int:
    return max(1, math.ceil(seconds)) + _TTL_MARGIN


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str = "identity:") -> None:
        self.r = client
        self.prefix = prefix
        # EVALSHA, loading the script on first use (and again after a Redis restart).
        self._touch_session = client.register_script(_TOUCH_SESSION)
        self._put_with_member = client.register_script(_PUT_WITH_MEMBER)
        self._restamp_session = client.register_script(_RESTAMP_SESSION)
        self._admit_attempt = client.register_script(_ADMIT_ATTEMPT)

    @classmethod
    def from_url(cls, url: str, prefix: str = "identity:") -> RedisStore:
        # Short socket timeouts: a Redis outage must fail calls quickly (the portals then
        # answer 503), not hang them past their deadlines.
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0,
            health_check_interval=30,
        )
        return cls(client, prefix)

    def close(self) -> None:
        self.r.close()

    def ping(self) -> None:
        self.r.ping()

    def _k(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        self.r.set(self._k(key), json.dumps(value), ex=_ttl(ttl))

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self.r.get(self._k(key))
        return json.loads(raw) if raw is not None else None

    def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        raws = self.r.mget([self._k(k) for k in keys]) if keys else []
        return [json.loads(raw) if raw is not None else None for raw in raws]

    def put_with_member(
        self, key: str, value: dict[str, Any], ttl: float, set_key: str, member: str, set_ttl: float,
        delete: tuple[str, ...] = (),
    ) -> None:
        self._put_with_member(
            keys=[self._k(key), self._k(set_key), *(self._k(k) for k in delete)],
            args=[json.dumps(value), _ttl(ttl), member, _ttl(set_ttl)],
        )

    def touch_session(
        self, key: str, portal: str, now: float, idle_timeout: float, absolute_timeout: float
    ) -> dict[str, Any] | None:
        raw = self._touch_session(
            keys=[self._k(key)],
            args=[portal, *(repr(float(t)) for t in (now, idle_timeout, absolute_timeout)), _TTL_MARGIN],
        )
        return json.loads(raw) if raw is not None else None

    def restamp_session(self, key: str, generation: int) -> bool:
        return bool(self._restamp_session(keys=[self._k(key)], args=[int(generation)]))

    def take(self, key: str) -> dict[str, Any] | None:
        # MULTI/EXEC: GET and DEL run as one, so two redeemers cannot both get the value.
        pipe = self.r.pipeline(transaction=True)
        pipe.get(self._k(key))
        pipe.delete(self._k(key))
        raw, _ = pipe.execute()
        return json.loads(raw) if raw is not None else None

    def delete(self, *keys: str) -> None:
        if keys:
            self.r.delete(*(self._k(k) for k in keys))

    def set_add(self, key: str, member: str, ttl: float) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.sadd(self._k(key), member)
        pipe.expire(self._k(key), _ttl(ttl))
        pipe.execute()

    def set_remove(self, key: str, *members: str) -> None:
        if members:
            self.r.srem(self._k(key), *members)

    def set_members(self, key: str) -> set[str]:
        # decode_responses: members come back as str.
        return {str(member) for member in self.r.smembers(self._k(key))}

    def record_event(self, key: str, at: float, window: float) -> None:
        k = self._k(key)
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(k, {f"{at!r}:{uuid.uuid4().hex[:8]}": at})
        pipe.zremrangebyscore(k, "-inf", f"({at - window!r}")
        pipe.expire(k, _ttl(window))
        pipe.execute()

    def events(self, key: str, since: float) -> list[float]:
        pairs: list[tuple[str, float]] = self.r.zrangebyscore(self._k(key), since, "+inf", withscores=True)  # type: ignore[assignment]
        return [float(score) for _member, score in pairs]

    def clear_events(self, key: str) -> None:
        self.r.delete(self._k(key))

    def admit_attempt(
        self, budgets: Sequence[tuple[str, int]], at: float, window: float, delays: Sequence[float], attempt: str
    ) -> float:
        if not budgets:
            return 0.0
        if not delays:
            raise ValueError("admit_attempt needs at least one delay")
        wait = self._admit_attempt(
            keys=[self._k(key) for key, _limit in budgets],
            args=[repr(float(at)), repr(float(at - window)), attempt, _ttl(window), len(delays),
                  *(repr(float(delay)) for delay in delays), *(int(limit) for _key, limit in budgets)],
        )
        return float(wait)

    def forget_attempt(self, attempt: str, *keys: str, clear: tuple[str, ...] = ()) -> None:
        if keys or clear:
            pipe = self.r.pipeline(transaction=False)
            for key in keys:
                pipe.zrem(self._k(key), attempt)
            if clear:
                pipe.delete(*(self._k(key) for key in clear))
            pipe.execute()
