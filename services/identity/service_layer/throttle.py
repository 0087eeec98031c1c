"""Rate limits and the sign-in throttle policy (S4, S7), over the key-value store.

Events are timestamps from the injected clock, judged here, so a test moves a FakeClock even
against a real Redis.
"""
from __future__ import annotations

import math
from typing import Any

from billing_common.errors import RateLimited
from services.identity.domain.model import User
from services.identity.service_layer import keys
from services.identity.service_layer.common import digest
from services.identity.service_layer.dependencies import Dependencies


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def too_many(seconds: float) -> RateLimited:
    minutes = max(1, math.ceil(seconds / 60))
    return RateLimited(
        f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=_retry_after(seconds),
    )


def hourly_limit(deps: Dependencies, key: str, limit: int) -> float:
    """Seconds until one more event fits in the window (0 when it fits now)."""
    now = deps.clock.now()
    events = deps.store.events(key, now - deps.settings.rate_window)
    if len(events) < limit:
        return 0.0
    return max(0.0, events[len(events) - limit] + deps.settings.rate_window - now)


# --- failed sign-ins (S4) -------------------------------------------------------------------

def user_failure_key(user: User | None, normalized_login: str) -> str:
    # Keyed by user id when the login resolves, so every alias of one user shares it.
    if user is not None:
        return keys.login_failures_of_user(user.id)
    return keys.login_failures_of_unknown(digest(normalized_login))


def address_failure_key(client_address: str) -> str | None:
    return keys.login_failures_of_address(client_address) if client_address else None


def _login_wait(deps: Dependencies, key: str, throttle: dict[str, Any] | None, now: float) -> float:
    """Seconds this key must still wait before another sign-in attempt (0: go ahead)."""
    if throttle is None:
        return 0.0
    if now >= throttle["until"] + deps.settings.login_failure_window:
        # Quiet for a whole window after the last wait: the slate is clean again.
        deps.store.delete(keys.throttle(key))
        return 0.0
    return max(0.0, float(throttle["until"]) - now)


def check_login_limits(deps: Dependencies, user_key: str, address_key: str | None) -> None:
    """RateLimited while the user's or the address's throttle says wait."""
    failure_keys = [user_key, address_key] if address_key else [user_key]
    # Both throttles in one round trip: this runs before every sign-in.
    throttles = deps.store.get_many(*(keys.throttle(key) for key in failure_keys))
    now = deps.clock.now()
    wait = max(_login_wait(deps, key, throttle, now) for key, throttle in zip(failure_keys, throttles, strict=True))
    if wait > 0:
        raise too_many(wait)


def _record_failure(deps: Dependencies, key: str, threshold: int) -> None:
    """S4: once `threshold` failures fall within the window, every further failure makes the
    next attempt wait: base delay, doubling each time, capped. Only time is needed to get
    through, so an attacker cannot lock the owner out for good."""
    s = deps.settings
    now = deps.clock.now()
    deps.store.record_event(key, now, s.login_failure_window)
    throttle = deps.store.get(keys.throttle(key))
    if throttle is not None and now < throttle["until"] + s.login_failure_window:
        level = throttle["level"] + 1
    elif len(deps.store.events(key, now - s.login_failure_window)) >= threshold:
        level = 0
    else:
        return
    until = now + min(s.login_max_delay, s.login_base_delay * 2 ** min(level, 30))
    deps.store.put(keys.throttle(key), {"level": level, "until": until}, until - now + s.login_failure_window)


def record_login_failure(deps: Dependencies, user_key: str, address_key: str | None) -> None:
    _record_failure(deps, user_key, deps.settings.login_max_failures)
    if address_key:
        _record_failure(deps, address_key, deps.settings.login_address_max_failures)


def login_failure_keys(user_key: str) -> tuple[str, str]:
    """The failure events and the throttle of a key: a good sign-in deletes both."""
    return user_key, keys.throttle(user_key)


def clear_login_failures(deps: Dependencies, user_key: str) -> None:
    deps.store.delete(*login_failure_keys(user_key))
