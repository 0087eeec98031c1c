"""Sign-in (S2, S3, S4): a user ID and password become a session, or a hand-off ticket."""
from __future__ import annotations

from dataclasses import dataclass

import structlog

from billing_common import limits
from billing_common.clock import utc
from billing_common.errors import InvalidArgument, Unauthenticated, Unavailable
from services.identity.domain.model import Portal, Principal, may_sign_in_at, normalize_login
from services.identity.domain.passwords import normalize_password
from services.identity.service_layer import devices, throttle
from services.identity.service_layer.common import bounded, principal_of, standing_by_login
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.sessions import SessionInfo, issue_ticket, open_session

log = structlog.get_logger()

# One answer for every sign-in failure (S3), in the seed's words.
INVALID_CREDENTIALS = "Invalid user ID/password"


@dataclass(frozen=True)
class AuthResult:
    """A session when the user's home portal asked, else a hand-off ticket for home_portal."""

    principal: Principal
    home_portal: Portal
    session: SessionInfo | None = None
    handoff_ticket: str | None = None
    # For the browser that signed in: its trust on the next sign-in (S4, devices.py).
    device: devices.DeviceToken | None = None


def authenticate(
    deps: Dependencies, login: str, password: str, portal: Portal, client_address: str = "",
    device_token: str = "",
) -> AuthResult:
    """Checks a user ID and password at `portal` (see AuthResult). `device_token` is what the
    browser kept from an earlier sign-in, if anything (S4: see throttle.admit_sign_in).

    Every failure (unknown user ID, no password yet, wrong password, a member at the
    Enterprise portal, a disabled user) is the same Unauthenticated, after the same argon2
    verification: unknown users and users without a password verify a dummy hash (S3).
    """
    if not login.strip():
        raise InvalidArgument("Enter your user ID.", field="login")
    bounded(login, "login", limits.MAX_USER_ID)
    if not password:
        raise InvalidArgument("Enter your password.", field="password")
    bounded(password, "password", limits.MAX_PASSWORD)
    normalized = normalize_login(login)

    with deps.uow() as uow:
        standing = standing_by_login(uow, normalized)
    user = standing.user if standing else None
    principal = principal_of(standing)
    # Counted as a failure from here on, unless it proves a success (S4).
    attempt = throttle.admit_sign_in(deps, user, normalized, client_address, device_token)

    stored_hash = user.password_hash if user and user.password_hash else None
    candidate = normalize_password(password)
    try:
        verified = deps.hasher.verify(stored_hash or deps.hasher.dummy_hash, candidate) and stored_hash is not None
    except BaseException:
        throttle.take_back(deps, attempt)  # no answer given (too busy): it counts for nothing
        raise
    if not verified or principal is None or not may_sign_in_at(portal, principal.role):
        log.info("sign-in refused", portal=portal.value, trusted_device=attempt.trusted_device)
        raise Unauthenticated(INVALID_CREDENTIALS)
    throttle.sign_in_succeeded(deps, attempt)

    assert user is not None and stored_hash is not None
    if deps.hasher.needs_rehash(stored_hash):
        # S2: parameters went up since this hash was made; upgrade it while we have the password.
        try:
            upgraded = deps.hasher.hash(candidate)
        except Unavailable:
            pass  # too busy to hash now is no reason to refuse a good password: next time
        else:
            with deps.uow() as uow:
                uow.users.set_password_hash(user.id, upgraded)
                uow.commit()
            log.info("password hash upgraded", user_id=user.id)

    with deps.uow() as uow:
        # The contacts list shows it (last sign-in); one small UPDATE beside argon2's cost.
        uow.users.record_sign_in(user.id, utc(deps.clock.now()))
        uow.commit()
    home = principal.home_portal
    log.info("signed in", user_id=user.id, portal=portal.value, home_portal=home.value,
             trusted_device=attempt.trusted_device)
    device = devices.issue_device_token(deps, user.id)
    if home is portal:
        return AuthResult(principal, home, session=open_session(deps, user, portal), device=device)
    return AuthResult(principal, home, handoff_ticket=issue_ticket(deps, user, home), device=device)
