"""Sessions (S9, S11) and the hand-off tickets that move a person to their home portal.

A session is kept in Redis under the digest of its token, bound to one portal, with idle and
absolute timeouts judged by the injected clock.

What ends every session of a user (a reset, a password change, a changed or removed
membership: S5, S14) moves the user's session generation on in the database, in the same
transaction as the change; sessions and tickets carry the generation they were issued under
and are refused once it is old. Deleting them from Redis afterwards (the user's index of
sessions) is only clean-up: when Redis fails between the commit and the clean-up, the old
sessions are refused all the same. A session is also accepted only at its holder's home
portal, so a changed account kind ends it too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from billing_common import limits
from billing_common.errors import Unauthenticated
from services.identity.domain.model import Portal, Principal, User
from services.identity.service_layer import keys
from services.identity.service_layer.common import digest, new_token, principal_of
from services.identity.service_layer.dependencies import Dependencies

log = structlog.get_logger()

INVALID_SESSION = "Your session has ended. Please sign in again."
INVALID_TICKET = "This sign-in hand-off is no longer valid. Please sign in again."


@dataclass(frozen=True)
class SessionInfo:
    """Times are epoch seconds of the injected clock, as Redis keeps them."""

    token: str
    portal: Portal
    authenticated_at: float
    idle_expires_at: float
    absolute_expires_at: float


@dataclass(frozen=True)
class SignedIn:
    """A principal with a session at one portal (ValidateSession, RedeemHandoffTicket)."""

    principal: Principal
    session: SessionInfo


def _session_info(deps: Dependencies, token: str, data: dict[str, Any]) -> SessionInfo:
    s = deps.settings
    absolute = data["authenticated_at"] + s.session_absolute_timeout
    return SessionInfo(
        token=token,
        portal=Portal(data["portal"]),
        authenticated_at=data["authenticated_at"],
        idle_expires_at=min(data["last_seen_at"] + s.session_idle_timeout, absolute),
        absolute_expires_at=absolute,
    )


def _session_ttl(deps: Dependencies, data: dict[str, Any]) -> float:
    info_idle = float(data["last_seen_at"]) + deps.settings.session_idle_timeout
    absolute = float(data["authenticated_at"]) + deps.settings.session_absolute_timeout
    return max(1.0, min(info_idle, absolute) - deps.clock.now())


def open_session(deps: Dependencies, user: User, portal: Portal, forget: tuple[str, ...] = ()) -> SessionInfo:
    """A brand-new token at every sign-in (S9); Redis keeps only its digest. The keys in
    `forget` are deleted in the same round trip."""
    token = new_token()
    token_digest = digest(token)
    now = deps.clock.now()
    data = {"user_id": user.id, "portal": portal.value, "authenticated_at": now, "last_seen_at": now,
            "generation": user.session_generation}
    deps.store.put_with_member(keys.session(token_digest), data, _session_ttl(deps, data),
                               keys.user_sessions(user.id), token_digest, deps.settings.session_absolute_timeout,
                               delete=forget)
    return _session_info(deps, token, data)


def _issued_to(principal: Principal | None, data: dict[str, Any], portal: Portal) -> bool:
    """Whether a session's or ticket's holder still stands where it was issued to them: the
    same generation (no reset, password change or membership change since), at their home
    portal (sessions are only ever opened there; an account that changed kind moves it)."""
    return (principal is not None and principal.home_portal is portal
            and data.get("generation") == principal.user.session_generation)


def end_sessions(deps: Dependencies, user_id: str, keep_digest: str | None = None) -> int:
    """Deletes every session of the user but the one whose digest is `keep_digest`; how many.

    Clean-up after a committed change that moved the user's generation on: the sessions are
    refused already, so a store that fails here is logged, not raised, and the change stands.
    """
    index = keys.user_sessions(user_id)
    try:
        digests = [d for d in deps.store.set_members(index) if d != keep_digest]
        if digests:
            deps.store.delete(*(keys.session(d) for d in digests))
            deps.store.set_remove(index, *digests)
    except Exception as error:  # noqa: BLE001 - any store failure: the generation already refuses them
        log.warning("old sessions left to expire", user_id=user_id, error=type(error).__name__)
        return 0
    return len(digests)


def carry_on(deps: Dependencies, session_token: str, generation: int) -> bool:
    """Moves the caller's own session to the user's new generation (a password change ends
    every other session, not the one that made it). False when it could not: then that
    session ends too, which is safe."""
    try:
        return deps.store.restamp_session(keys.session(digest(session_token)), generation)
    except Exception as error:  # noqa: BLE001 - the safe failure is the session ending with the rest
        log.warning("session not carried over a password change", error=type(error).__name__)
        return False


def validate_session(deps: Dependencies, token: str, portal: Portal) -> SignedIn:
    """The signed-in principal for a token issued at `portal`; refreshes the idle timeout.

    Unauthenticated when the token is unknown, signed out, idle for 30 minutes, older than
    12 hours (S9), issued at the other portal (S11), or its user may no longer be there.
    """
    if not token or len(token) > limits.MAX_TOKEN:
        raise Unauthenticated(INVALID_SESSION)
    key = keys.session(digest(token))
    s = deps.settings
    # One atomic round trip judges the portal and both timeouts by our clock and moves
    # last_seen_at to now; a sign-out or expiry a moment earlier wins (None).
    data = deps.store.touch_session(key, portal.value, deps.clock.now(), s.session_idle_timeout,
                                    s.session_absolute_timeout)
    if data is None:
        raise Unauthenticated(INVALID_SESSION)
    with deps.uow() as uow:
        principal = principal_of(uow.users.standing(data["user_id"]))
    if not _issued_to(principal, data, portal):
        # Disabled, removed from the account, a new password or role, or another portal now:
        # the database is read on every check, so these take effect at once.
        deps.store.delete(key)
        raise Unauthenticated(INVALID_SESSION)
    assert principal is not None
    return SignedIn(principal, _session_info(deps, token, data))


def sign_out(deps: Dependencies, token: str) -> None:
    """Deletes the session server-side; unknown tokens are fine (idempotent)."""
    if not token or len(token) > limits.MAX_TOKEN:
        return
    token_digest = digest(token)
    data = deps.store.take(keys.session(token_digest))
    if data is not None:
        deps.store.set_remove(keys.user_sessions(data["user_id"]), token_digest)
        log.info("signed out", user_id=data["user_id"])


# --- hand-off tickets -----------------------------------------------------------------------

def issue_ticket(deps: Dependencies, user: User, target: Portal) -> str:
    ticket = new_token()
    deps.store.put(
        keys.handoff_ticket(digest(ticket)),
        {"user_id": user.id, "portal": target.value, "issued_at": deps.clock.now(),
         "generation": user.session_generation},
        deps.settings.handoff_ticket_ttl,
    )
    return ticket


def redeem_handoff_ticket(deps: Dependencies, ticket: str, portal: Portal, client_address: str = "") -> SignedIn:
    """Single use, 60 seconds, only at the portal it was issued for; opens a session there."""
    if not ticket or len(ticket) > limits.MAX_TOKEN:
        raise Unauthenticated(INVALID_TICKET)
    # Taken (deleted) before any check, so even a wrong-portal attempt uses it up.
    data = deps.store.take(keys.handoff_ticket(digest(ticket)))
    if data is None or data.get("portal") != portal.value:
        raise Unauthenticated(INVALID_TICKET)
    if deps.clock.now() >= data["issued_at"] + deps.settings.handoff_ticket_ttl:
        raise Unauthenticated(INVALID_TICKET)
    with deps.uow() as uow:
        principal = principal_of(uow.users.standing(data["user_id"]))
    if not _issued_to(principal, data, portal):
        raise Unauthenticated(INVALID_TICKET)
    assert principal is not None
    log.info("hand-off redeemed", user_id=principal.user.id, portal=portal.value)
    return SignedIn(principal, open_session(deps, principal.user, portal))
