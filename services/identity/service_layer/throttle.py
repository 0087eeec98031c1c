"""Rate limits and the sign-in budgets (S4, S7), over the key-value store.

Events are timestamps from the injected clock, judged here, so a test moves a FakeClock even
against a real Redis.
"""
from __future__ import annotations

import ipaddress
import math
import uuid
from dataclasses import dataclass

from billing_common.errors import RateLimited
from services.identity.domain.model import User
from services.identity.service_layer import devices, keys
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


# --- sign-in budgets (S4) ---------------------------------------------------------------------
#
# Every attempt is counted when it is admitted, before its password is verified, in the same
# atomic step that checks the budget (so parallel guesses cannot overrun it); a success takes
# its attempt back. A budget that holds `limit` attempts of the last window makes the next one
# wait, 30 s after the newest, doubling with each further one, at most 15 minutes. Only the
# window counts: an attacker slower than the budget makes nobody wait, and one who keeps to it
# holds back only the clients in the same budget.
#
# - a browser with a valid device token of the user: that token's own budget, nothing else
#   (the owner's browser is not held back by anyone else's failures);
# - every other client: the user's budget, shared by all aliases of the user (or the budget of
#   the user ID as typed, for IDs nobody has), and the budget of the client's address.


def address_group(client_address: str) -> str:
    """What per-address limits count: an IPv4 address, or the /64 of an IPv6 one (a client
    picks any address of its /64 at will); anything that is not an address, as given."""
    try:
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return client_address
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


@dataclass(frozen=True)
class SignInAttempt:
    """An admitted attempt: counted in `budget` (the user's or the device's) and `shared`
    (the address's) until it turns out a success."""

    name: str
    budget: str
    shared: tuple[str, ...]
    trusted_device: bool


def _delays(deps: Dependencies) -> list[float]:
    """The waits after the limit is reached: base, doubling, ending at the cap."""
    s = deps.settings
    delays = [s.login_base_delay]
    while delays[-1] < s.login_max_delay and len(delays) < 64:
        delays.append(delays[-1] * 2)
    return [min(delay, s.login_max_delay) for delay in delays]


def admit_sign_in(
    deps: Dependencies, user: User | None, normalized_login: str, client_address: str, device_token: str = ""
) -> SignInAttempt:
    """Counts one sign-in attempt in its budgets, or raises RateLimited (nothing counted)."""
    s = deps.settings
    device = devices.device_budget(deps, device_token, user.id if user else None)
    budgets: list[tuple[str, int]]
    if device is not None:
        budgets = [(device, s.login_device_max_failures)]
    else:
        # Keyed by user id when the login resolves, so every alias of one user shares it.
        user_key = (keys.login_failures_of_user(user.id) if user is not None
                    else keys.login_failures_of_unknown(digest(normalized_login)))
        budgets = [(user_key, s.login_max_failures)]
        if client_address:
            budgets.append((keys.login_failures_of_address(address_group(client_address)),
                            s.login_address_max_failures))
    now = deps.clock.now()
    name = f"{now!r}:{uuid.uuid4().hex}"
    wait = deps.store.admit_attempt(budgets, now, s.login_failure_window, _delays(deps), name)
    if wait > 0:
        raise too_many(wait)
    return SignInAttempt(name, budgets[0][0], tuple(key for key, _ in budgets[1:]), device is not None)


def take_back(deps: Dependencies, attempt: SignInAttempt) -> None:
    """The attempt got no answer (the hasher was too busy, say): it counts for nothing."""
    deps.store.forget_attempt(attempt.name, attempt.budget, *attempt.shared)


def sign_in_succeeded(deps: Dependencies, attempt: SignInAttempt) -> None:
    """A success clears its own budget (the user's or the device's) and takes its attempt back
    from the address's, in one round trip; other budgets keep their failures."""
    deps.store.forget_attempt(attempt.name, *attempt.shared, clear=(attempt.budget,))


def admit_password_check(deps: Dependencies, user: User) -> SignInAttempt:
    """An attempt at the current password of a signed-in user (changing it): counted in the
    user's sign-in budget, so guessing there is no cheaper than at the sign-in form."""
    return admit_sign_in(deps, user, user.login_normalized, "")


def clear_login_failures(deps: Dependencies, user_key: str) -> None:
    deps.store.delete(user_key)
