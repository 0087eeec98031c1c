"""Identity's use cases: one function per command, each given its dependencies.

Secrets (passwords, session tokens, hand-off tickets, reset tokens and links) are never
logged or audited (S25); Redis keeps only SHA-256 digests of tokens, so a copy of Redis
does not hold a usable session or link.
"""
from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from billing_common.clock import Clock
from billing_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from billing_common.money import is_currency
from services.identity.config import IdentitySettings
from services.identity.domain.model import (
    ACTIVE,
    MAX_LOGIN,
    MAX_NAME,
    Account,
    AccountKind,
    Membership,
    Portal,
    Principal,
    Role,
    User,
    has_control_chars,
    may_sign_in_at,
    normalize_login,
    validate_email,
    validate_locale,
    validate_login,
    validate_text,
)
from services.identity.domain.passwords import MAX_LENGTH, check_password_policy, normalize_password
from services.identity.service_layer import messages
from services.identity.service_layer.ports import KeyValueStore, PasswordHasher, UnitOfWork, UserStanding

log = structlog.get_logger()

# One answer for every sign-in failure (S3), in the seed's words.
INVALID_CREDENTIALS = "Invalid user ID/password"
INVALID_SESSION = "Your session has ended. Please sign in again."
INVALID_TICKET = "This sign-in hand-off is no longer valid. Please sign in again."
INVALID_RESET_LINK = "This Reset/Create your password link has expired or was already used. Ask for a new one."
PROVISIONING = "provisioning"
MAX_TOKEN = 512
MAX_NOTE = 500
MAX_SUBJECT = 200
MAX_MESSAGE = 5000


@dataclass
class Dependencies:
    """What every use case is given; built by services.identity.bootstrap from settings."""

    settings: IdentitySettings
    uow: Callable[[], UnitOfWork]
    store: KeyValueStore
    hasher: PasswordHasher
    clock: Clock
    # The SQL engine when bootstrap built one (the outbox dispatcher shares it); opaque here.
    engine: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Runs work the caller must not wait for (and must not be able to time). The server hands
    # it to a background thread; tests and scripts run it at once.
    defer: Callable[[Callable[[], None]], None] = field(default=lambda work: work())

    def close(self) -> None:
        for close in self.closers:
            close()


@dataclass(frozen=True)
class SessionInfo:
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


@dataclass(frozen=True)
class AuthResult:
    """A session when the user's home portal asked, else a hand-off ticket for home_portal."""

    principal: Principal
    home_portal: Portal
    session: SessionInfo | None = None
    handoff_ticket: str | None = None


@dataclass(frozen=True)
class AccountView:
    account: Account
    billing_contacts: list[User]


# --- helpers --------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_token() -> str:
    # 256 bits from the OS CSPRNG (S6, S9).
    return secrets.token_urlsafe(32)


def _new_id() -> str:
    return str(uuid.uuid4())


def _bounded(value: str, field_name: str, max_length: int) -> None:
    if len(value) > max_length:
        raise InvalidArgument(f"The field {field_name} takes at most {max_length} characters.", field=field_name)


def _principal(standing: UserStanding | None) -> Principal | None:
    """The user's role and account, or None when they may not sign in at all."""
    if standing is None:
        return None
    user, membership, account = standing
    if user.status != ACTIVE:
        return None
    if user.staff:
        return Principal(user, Role.REP, None)
    if membership is None or account is None or account.status != ACTIVE:
        return None
    return Principal(user, membership.role, account)


def _standing_by_login(uow: UnitOfWork, normalized: str) -> UserStanding | None:
    # No user ID contains control characters (and PostgreSQL refuses NUL): nobody has it.
    return None if has_control_chars(normalized) else uow.users.standing_by_login(normalized)


def _known_id(value: str) -> str:
    """An id as given, or "" (matches nothing) when it cannot be one."""
    return "" if has_control_chars(value) else value


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def _too_many(seconds: float) -> RateLimited:
    minutes = max(1, math.ceil(seconds / 60))
    return RateLimited(
        f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=_retry_after(seconds),
    )


def _hourly_limit(deps: Dependencies, key: str, limit: int) -> float:
    """Seconds until one more event fits in the window (0 when it fits now)."""
    now = deps.clock.now()
    events = deps.store.events(key, now - deps.settings.rate_window)
    if len(events) < limit:
        return 0.0
    return max(0.0, events[len(events) - limit] + deps.settings.rate_window - now)


# --- sign-in (S3, S4) -----------------------------------------------------------------------

def _login_wait(deps: Dependencies, key: str, throttle: dict[str, Any] | None, now: float) -> float:
    """Seconds this key must still wait before another sign-in attempt (0: go ahead)."""
    if throttle is None:
        return 0.0
    if now >= throttle["until"] + deps.settings.login_failure_window:
        # Quiet for a whole window after the last wait: the slate is clean again.
        deps.store.delete(f"{key}:throttle")
        return 0.0
    return max(0.0, throttle["until"] - now)


def _user_failure_key(user: User | None, normalized_login: str) -> str:
    # Keyed by user id when the login resolves, so every alias of one user shares it.
    return f"rl:login-fail:user:{user.id}" if user else f"rl:login-fail:login:{_digest(normalized_login)}"


def _check_login_limits(deps: Dependencies, user_key: str, address_key: str | None) -> None:
    keys = [user_key, address_key] if address_key else [user_key]
    # Both throttles in one round trip: this runs before every sign-in.
    throttles = deps.store.get_many(*(f"{key}:throttle" for key in keys))
    now = deps.clock.now()
    wait = max(_login_wait(deps, key, throttle, now) for key, throttle in zip(keys, throttles))
    if wait > 0:
        raise _too_many(wait)


def _record_failure(deps: Dependencies, key: str, threshold: int) -> None:
    """S4: once `threshold` failures fall within the window, every further failure makes the
    next attempt wait: base delay, doubling each time, capped. Only time is needed to get
    through, so an attacker cannot lock the owner out for good."""
    s = deps.settings
    now = deps.clock.now()
    deps.store.record_event(key, now, s.login_failure_window)
    throttle = deps.store.get(f"{key}:throttle")
    if throttle is not None and now < throttle["until"] + s.login_failure_window:
        level = throttle["level"] + 1
    elif len(deps.store.events(key, now - s.login_failure_window)) >= threshold:
        level = 0
    else:
        return
    until = now + min(s.login_max_delay, s.login_base_delay * 2 ** min(level, 30))
    deps.store.put(f"{key}:throttle", {"level": level, "until": until}, until - now + s.login_failure_window)


def _record_login_failure(deps: Dependencies, user_key: str, address_key: str | None) -> None:
    _record_failure(deps, user_key, deps.settings.login_max_failures)
    if address_key:
        _record_failure(deps, address_key, deps.settings.login_address_max_failures)


def _login_failure_keys(user_key: str) -> tuple[str, str]:
    """The failure events and the throttle of a key: a good sign-in deletes both."""
    return user_key, f"{user_key}:throttle"


def _clear_login_failures(deps: Dependencies, user_key: str) -> None:
    deps.store.delete(*_login_failure_keys(user_key))


def _address_key(prefix: str, client_address: str) -> str | None:
    return f"rl:{prefix}:addr:{client_address}" if client_address else None


def authenticate(
    deps: Dependencies, login: str, password: str, portal: Portal, client_address: str = ""
) -> AuthResult:
    """Checks a user ID and password at `portal` (see AuthResult).

    Every failure (unknown user ID, no password yet, wrong password, a member at the
    Enterprise portal, a disabled user) is the same Unauthenticated, after the same argon2
    verification: unknown users and users without a password verify a dummy hash (S3).
    """
    if not login.strip():
        raise InvalidArgument("Enter your user ID.", field="login")
    _bounded(login, "login", MAX_LOGIN)
    if not password:
        raise InvalidArgument("Enter your password.", field="password")
    _bounded(password, "password", MAX_LENGTH)
    normalized = normalize_login(login)

    with deps.uow() as uow:
        standing = _standing_by_login(uow, normalized)
    user = standing.user if standing else None
    principal = _principal(standing)
    user_key = _user_failure_key(user, normalized)
    address_key = _address_key("login-fail", client_address)
    _check_login_limits(deps, user_key, address_key)

    stored_hash = user.password_hash if user and user.password_hash else None
    candidate = normalize_password(password)
    verified = deps.hasher.verify(stored_hash or deps.hasher.dummy_hash, candidate) and stored_hash is not None
    if not verified or principal is None or not may_sign_in_at(portal, principal.role):
        _record_login_failure(deps, user_key, address_key)
        log.info("sign-in refused", portal=portal.value)
        raise Unauthenticated(INVALID_CREDENTIALS)

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

    home = principal.home_portal
    log.info("signed in", user_id=user.id, portal=portal.value, home_portal=home.value)
    if home is portal:
        # The failed attempts are cleared in the same round trip as the session is written.
        session = _open_session(deps, user.id, portal, forget=_login_failure_keys(user_key))
        return AuthResult(principal, home, session=session)
    _clear_login_failures(deps, user_key)
    return AuthResult(principal, home, handoff_ticket=_issue_ticket(deps, user.id, home))


# --- sessions (S9, S11) ---------------------------------------------------------------------

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
    info_idle = data["last_seen_at"] + deps.settings.session_idle_timeout
    absolute = data["authenticated_at"] + deps.settings.session_absolute_timeout
    return max(1.0, min(info_idle, absolute) - deps.clock.now())


def _open_session(
    deps: Dependencies, user_id: str, portal: Portal, forget: tuple[str, ...] = ()
) -> SessionInfo:
    """A brand-new token at every sign-in (S9); Redis keeps only its digest. The keys in
    `forget` are deleted in the same round trip."""
    token = _new_token()
    digest = _digest(token)
    now = deps.clock.now()
    data = {"user_id": user_id, "portal": portal.value, "authenticated_at": now, "last_seen_at": now}
    deps.store.put_with_member(f"session:{digest}", data, _session_ttl(deps, data),
                               f"user-sessions:{user_id}", digest, deps.settings.session_absolute_timeout,
                               delete=forget)
    return _session_info(deps, token, data)


def _end_sessions(deps: Dependencies, user_id: str, keep_digest: str | None = None) -> int:
    index = f"user-sessions:{user_id}"
    digests = [d for d in deps.store.set_members(index) if d != keep_digest]
    if digests:
        deps.store.delete(*(f"session:{d}" for d in digests))
        deps.store.set_remove(index, *digests)
    return len(digests)


def validate_session(deps: Dependencies, token: str, portal: Portal) -> SignedIn:
    """The signed-in principal for a token issued at `portal`; refreshes the idle timeout.

    Unauthenticated when the token is unknown, signed out, idle for 30 minutes, older than
    12 hours (S9), issued at the other portal (S11), or its user may no longer be there.
    """
    if not token or len(token) > MAX_TOKEN:
        raise Unauthenticated(INVALID_SESSION)
    key = f"session:{_digest(token)}"
    s = deps.settings
    # One atomic round trip judges the portal and both timeouts by our clock and moves
    # last_seen_at to now; a sign-out or expiry a moment earlier wins (None).
    data = deps.store.touch_session(key, portal.value, deps.clock.now(), s.session_idle_timeout,
                                    s.session_absolute_timeout)
    if data is None:
        raise Unauthenticated(INVALID_SESSION)
    with deps.uow() as uow:
        principal = _principal(uow.users.standing(data["user_id"]))
    if principal is None or not may_sign_in_at(portal, principal.role):
        # Disabled, removed from the account, or now a member at the Enterprise portal: the
        # database is read on every check, so these take effect at once.
        deps.store.delete(key)
        raise Unauthenticated(INVALID_SESSION)
    return SignedIn(principal, _session_info(deps, token, data))


def sign_out(deps: Dependencies, token: str) -> None:
    """Deletes the session server-side; unknown tokens are fine (idempotent)."""
    if not token or len(token) > MAX_TOKEN:
        return
    digest = _digest(token)
    data = deps.store.take(f"session:{digest}")
    if data is not None:
        deps.store.set_remove(f"user-sessions:{data['user_id']}", digest)
        log.info("signed out", user_id=data["user_id"])


# --- hand-off tickets -----------------------------------------------------------------------

def _issue_ticket(deps: Dependencies, user_id: str, target: Portal) -> str:
    ticket = _new_token()
    deps.store.put(
        f"handoff:{_digest(ticket)}",
        {"user_id": user_id, "portal": target.value, "issued_at": deps.clock.now()},
        deps.settings.handoff_ticket_ttl,
    )
    return ticket


def issue_handoff_ticket(deps: Dependencies, session_token: str, portal: Portal) -> tuple[str, Portal]:
    """Trades a live session at `portal` for a ticket to the user's home portal.

    This happens when a person's role changed while signed in (e.g. a member of an enterprise
    account made billing contact): their session stays, and the portal sends them home.
    """
    signed_in = validate_session(deps, session_token, portal)
    target = signed_in.principal.home_portal
    if target is portal:
        raise FailedPrecondition("You are already signed in at your portal.")
    return _issue_ticket(deps, signed_in.principal.user.id, target), target


def redeem_handoff_ticket(deps: Dependencies, ticket: str, portal: Portal, client_address: str = "") -> SignedIn:
    """Single use, 60 seconds, only at the portal it was issued for; opens a session there."""
    if not ticket or len(ticket) > MAX_TOKEN:
        raise Unauthenticated(INVALID_TICKET)
    # Taken (deleted) before any check, so even a wrong-portal attempt uses it up.
    data = deps.store.take(f"handoff:{_digest(ticket)}")
    if data is None or data.get("portal") != portal.value:
        raise Unauthenticated(INVALID_TICKET)
    if deps.clock.now() >= data["issued_at"] + deps.settings.handoff_ticket_ttl:
        raise Unauthenticated(INVALID_TICKET)
    with deps.uow() as uow:
        principal = _principal(uow.users.standing(data["user_id"]))
    if principal is None or not may_sign_in_at(portal, principal.role):
        raise Unauthenticated(INVALID_TICKET)
    log.info("hand-off redeemed", user_id=principal.user.id, portal=portal.value)
    return SignedIn(principal, _open_session(deps, principal.user.id, portal))


# --- Reset/Create your password (S5-S8) -----------------------------------------------------

def _portal_url(deps: Dependencies, portal: Portal) -> str:
    s = deps.settings
    base = s.enterprise_portal_url if portal is Portal.ENTERPRISE else s.billing_center_url
    return base.rstrip("/")


def request_password_reset(deps: Dependencies, login: str, portal: Portal, client_address: str = "") -> None:
    """Mails a single-use link to the user's address on file, or quietly does nothing.

    The caller cannot tell which (S7): once the input is checked, the answer goes back at
    once and the lookup, the limits and the mail happen in deferred work, so unknown user
    IDs, users over their hourly limit and addresses over theirs look and time the same.
    """
    if not login.strip():
        raise InvalidArgument("Enter your user ID.", field="login")
    _bounded(login, "login", MAX_LOGIN)
    now = deps.clock.now()
    deps.defer(lambda: _issue_reset_link(deps, login, portal, client_address, now))


def _issue_reset_link(deps: Dependencies, login: str, portal: Portal, client_address: str, now: float) -> None:
    s = deps.settings
    address_key = _address_key("reset", client_address)
    address_ok = True
    if address_key:
        address_ok = _hourly_limit(deps, address_key, s.reset_requests_per_address) == 0
        deps.store.record_event(address_key, now, s.rate_window)

    token = _new_token()
    digest = _digest(token)
    with deps.uow() as uow:
        principal = _principal(_standing_by_login(uow, normalize_login(login)))
        if principal is None or not address_ok:
            log.info("password reset not sent", reason="unknown user ID or address limit")
            return
        user_key = f"rl:reset:user:{principal.user.id}"
        if _hourly_limit(deps, user_key, s.reset_requests_per_user) > 0:
            log.info("password reset not sent", reason="user limit", user_id=principal.user.id)
            return
        deps.store.record_event(user_key, now, s.rate_window)
        user = principal.user
        # The newest link is the only live one: remember its digest, drop the previous link.
        previous = deps.store.get(f"reset-current:{user.id}")
        deps.store.put(f"reset:{digest}", {"user_id": user.id, "issued_at": now}, s.reset_link_ttl)
        deps.store.put(f"reset-current:{user.id}", {"digest": digest}, s.reset_link_ttl)
        if previous:
            deps.store.delete(f"reset:{previous['digest']}")
        link = f"{_portal_url(deps, portal)}/reset/{token}"
        uow.outbox.add(
            messages.render(
                "password_reset", user.locale, to=user.email, name=user.name, login=user.login,
                link=link, minutes=int(s.reset_link_ttl // 60),
            ),
            now,
        )
        uow.audit.record(now, user.id, "password_reset.requested", user_id=user.id,
                         account_id=principal.account.id if principal.account else None,
                         details={"portal": portal.value})
        uow.commit()
    log.info("password reset sent", user_id=user.id)


def _live_reset(deps: Dependencies, token: str) -> tuple[str, dict[str, Any]] | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    digest = _digest(token)
    data = deps.store.get(f"reset:{digest}")
    if data is None or deps.clock.now() >= data["issued_at"] + deps.settings.reset_link_ttl:
        return None
    current = deps.store.get(f"reset-current:{data['user_id']}")
    if not current or current.get("digest") != digest:
        return None
    return digest, data


def check_password_reset_token(deps: Dependencies, token: str) -> bool:
    return _live_reset(deps, token) is not None


def complete_password_reset(deps: Dependencies, token: str, new_password: str) -> None:
    """Sets the password from a live link, uses the link up, ends every session of the user,
    and mails a notice. It does not sign the user in (S8): they sign in afterwards."""
    live = _live_reset(deps, token)
    if live is None:
        raise FailedPrecondition(INVALID_RESET_LINK, field="token")
    digest, data = live
    # The policy and the hash first, so a refused password, or a hash refused as too busy
    # (Unavailable), leaves the link usable for another try.
    new_hash = deps.hasher.hash(check_password_policy(new_password, field="new_password"))
    if deps.store.take(f"reset:{digest}") is None:
        raise FailedPrecondition(INVALID_RESET_LINK, field="token")
    user_id = data["user_id"]
    deps.store.delete(f"reset-current:{user_id}")
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.get(user_id)
        if user is None:
            raise FailedPrecondition(INVALID_RESET_LINK, field="token")
        created = user.password_hash is None
        uow.users.set_password_hash(user.id, new_hash)
        uow.audit.record(now, user.id, "password.created" if created else "password.reset", user_id=user.id)
        uow.outbox.add(
            messages.render("password_changed", user.locale, to=user.email, name=user.name, login=user.login), now
        )
        uow.commit()
    ended = _end_sessions(deps, user_id)
    # The owner proved control of the mailbox: earlier failed sign-ins no longer slow them.
    _clear_login_failures(deps, f"rl:login-fail:user:{user_id}")
    log.info("password reset completed", user_id=user_id, sessions_ended=ended)


def change_password(
    deps: Dependencies, session_token: str, portal: Portal, current_password: str, new_password: str
) -> None:
    """Needs the current password (S5); ends the user's other sessions and mails a notice."""
    _bounded(current_password, "current_password", MAX_LENGTH)
    _bounded(new_password, "new_password", MAX_LENGTH)
    signed_in = validate_session(deps, session_token, portal)
    user = signed_in.principal.user
    user_key = f"rl:login-fail:user:{user.id}"
    _check_login_limits(deps, user_key, None)
    stored = user.password_hash
    if not (deps.hasher.verify(stored or deps.hasher.dummy_hash, normalize_password(current_password))
            and stored is not None):
        _record_login_failure(deps, user_key, None)
        raise InvalidArgument("The current password is not correct.", field="current_password")
    # Hashed before the transaction: argon2id's tens of milliseconds need no connection.
    new_hash = deps.hasher.hash(check_password_policy(new_password, field="new_password"))
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.users.set_password_hash(user.id, new_hash)
        uow.audit.record(now, user.id, "password.changed", user_id=user.id)
        uow.outbox.add(
            messages.render("password_changed", user.locale, to=user.email, name=user.name, login=user.login), now
        )
        uow.commit()
    _end_sessions(deps, user.id, keep_digest=_digest(session_token))
    log.info("password changed", user_id=user.id)


# --- accounts and contact forms -------------------------------------------------------------

def get_account(deps: Dependencies, account_id: str) -> AccountView:
    """An account and its billing contacts (name and email: "Who is my billing contact?")."""
    if not account_id:
        raise InvalidArgument("An account id is required.", field="account_id")
    with deps.uow() as uow:
        account = uow.accounts.get(_known_id(account_id))
        if account is None:
            raise NotFound("No such account.", field="account_id")
        return AccountView(account, uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT))


def contact_billing_administrator(deps: Dependencies, session_token: str, portal: Portal, note: str = "") -> int:
    """Mails every billing contact of a member's account from a fixed template (the seed's
    "Send email to billing administrator"), Reply-To the member. Returns how many were mailed."""
    signed_in = validate_session(deps, session_token, portal)
    principal = signed_in.principal
    if principal.role is not Role.MEMBER or principal.account is None:
        raise FailedPrecondition("Only members who are not billing contacts send this message.")
    note = validate_text(note, "note", max_length=MAX_NOTE, required=False, multiline=True)
    member = principal.user
    key = f"rl:contact-admin:user:{member.id}"
    wait = _hourly_limit(deps, key, deps.settings.contact_admin_per_user)
    if wait > 0:
        raise _too_many(wait)
    now = deps.clock.now()
    with deps.uow() as uow:
        contacts = uow.memberships.users_with_role(principal.account.id, Role.BILLING_CONTACT)
        if not contacts:
            raise FailedPrecondition("Your account has no billing contact yet. Please contact Customer Care.")
        for contact in contacts:
            uow.outbox.add(
                messages.render(
                    "contact_billing_administrator", contact.locale, to=contact.email, reply_to=member.email,
                    name=contact.name, member_name=member.name, member_email=member.email,
                    account=principal.account.name, note=note or messages.no_note(contact.locale),
                ),
                now,
            )
        uow.audit.record(now, member.id, "billing_administrator.contacted", user_id=member.id,
                         account_id=principal.account.id, details={"recipients": len(contacts)})
        uow.commit()
    deps.store.record_event(key, now, deps.settings.rate_window)
    return len(contacts)


def contact_customer_care(
    deps: Dependencies, name: str, email: str, subject: str, message: str, portal: Portal,
    client_address: str = "",
) -> None:
    """Mails the configured Customer Care address (works signed out), Reply-To the sender."""
    name = validate_text(name, "name", max_length=MAX_NAME)
    email = validate_email(email)
    subject = validate_text(subject, "subject", max_length=MAX_SUBJECT)
    message = validate_text(message, "message", max_length=MAX_MESSAGE, multiline=True)
    key = f"rl:care:addr:{client_address or 'unknown'}"
    wait = _hourly_limit(deps, key, deps.settings.customer_care_per_address)
    if wait > 0:
        raise _too_many(wait)
    now = deps.clock.now()
    portal_name = "Enterprise Billing Portal" if portal is Portal.ENTERPRISE else "Billing Center"
    with deps.uow() as uow:
        uow.outbox.add(
            messages.render(
                "customer_care", "en", to=deps.settings.support_email, reply_to=email, subject=subject,
                portal=portal_name, sender_name=name, sender_email=email, message=message,
            ),
            now,
        )
        uow.commit()
    deps.store.record_event(key, now, deps.settings.rate_window)


def list_rep_accounts(deps: Dependencies, session_token: str, portal: Portal) -> list[Account]:
    signed_in = validate_session(deps, session_token, portal)
    if signed_in.principal.role is not Role.REP:
        raise PermissionDenied("Only the vendor's representatives have a list of accounts.")
    with deps.uow() as uow:
        return uow.reps.accounts_of(signed_in.principal.user.id)


# --- provisioning (the demo loader; later the Enterprise portal) ----------------------------

def create_account(deps: Dependencies, name: str, kind: AccountKind, currency: str, locale: str) -> Account:
    name = validate_text(name, "name", max_length=MAX_NAME)
    if not is_currency(currency):
        raise InvalidArgument("Use an ISO 4217 currency code such as USD or BRL.", field="currency")
    validate_locale(locale)
    now = deps.clock.now()
    account = Account(id=_new_id(), name=name, kind=kind, currency=currency, locale=locale, created_at=now)
    with deps.uow() as uow:
        uow.accounts.add(account)
        uow.audit.record(now, PROVISIONING, "account.created", account_id=account.id,
                         details={"name": name, "kind": kind.value, "currency": currency, "locale": locale})
        uow.commit()
    return account


def create_user(
    deps: Dependencies, login: str, email: str, name: str, locale: str, password: str = "", staff: bool = False
) -> User:
    """A user, with a policy-checked password or none yet (then: Reset/Create your password)."""
    login = validate_login(login)
    email = validate_email(email)
    name = validate_text(name, "name", max_length=MAX_NAME)
    validate_locale(locale)
    password_hash = deps.hasher.hash(check_password_policy(password, field="password")) if password else None
    now = deps.clock.now()
    user = User(id=_new_id(), login=login, email=email, name=name, locale=locale,
                password_hash=password_hash, staff=staff, created_at=now)
    with deps.uow() as uow:
        if uow.users.taken(user.login_normalized):
            raise AlreadyExists("This user ID is already in use.", field="login")
        if user.email_normalized != user.login_normalized and uow.users.taken(user.email_normalized):
            raise AlreadyExists("This email address is already in use.", field="email")
        uow.users.add(user)
        uow.audit.record(now, PROVISIONING, "user.created", user_id=user.id,
                         details={"login": login, "email": email, "staff": staff,
                                  "password_set": password_hash is not None})
        uow.commit()
    return user


def _user_and_account(uow: UnitOfWork, user_id: str, account_id: str) -> tuple[User, Account]:
    user = uow.users.get(user_id) if _known_id(user_id) else None
    if user is None:
        raise NotFound("No such user.", field="user_id")
    account = uow.accounts.get(account_id) if _known_id(account_id) else None
    if account is None:
        raise NotFound("No such account.", field="account_id")
    return user, account


def add_membership(deps: Dependencies, user_id: str, account_id: str, role: Role) -> None:
    """Makes the user a billing contact or member of the account, or changes their role there.

    A user belongs to at most one account: a membership elsewhere is FailedPrecondition.
    """
    if role not in (Role.BILLING_CONTACT, Role.MEMBER):
        raise InvalidArgument("A membership is a billing contact or a member.", field="role")
    now = deps.clock.now()
    with deps.uow() as uow:
        user, account = _user_and_account(uow, user_id, account_id)
        if user.staff:
            raise FailedPrecondition("Representatives serve accounts; they are not members of one.")
        existing = uow.memberships.for_user(user.id)
        if existing is not None and existing.account_id != account.id:
            raise FailedPrecondition("This user already belongs to another account.", field="user_id")
        if existing is not None and existing.role is role:
            return
        uow.memberships.put(Membership(user.id, account.id, role), now)
        uow.audit.record(now, PROVISIONING, "membership.added" if existing is None else "membership.role_changed",
                         user_id=user.id, account_id=account.id, details={"role": role.value})
        uow.commit()


def remove_membership(deps: Dependencies, user_id: str, account_id: str) -> None:
    now = deps.clock.now()
    with deps.uow() as uow:
        user, account = _user_and_account(uow, user_id, account_id)
        existing = uow.memberships.for_user(user.id)
        if existing is None or existing.account_id != account.id:
            raise NotFound("This user is not a member of this account.", field="user_id")
        uow.memberships.remove(user.id)
        uow.audit.record(now, PROVISIONING, "membership.removed", user_id=user.id, account_id=account.id,
                         details={"role": existing.role.value})
        uow.commit()
    # They no longer belong anywhere: end their sessions now rather than at the next check.
    _end_sessions(deps, user.id)


def assign_rep(deps: Dependencies, rep_user_id: str, account_id: str) -> None:
    now = deps.clock.now()
    with deps.uow() as uow:
        if not _known_id(rep_user_id) or (rep := uow.users.get(rep_user_id)) is None:
            raise NotFound("No such user.", field="rep_user_id")
        account = uow.accounts.get(account_id) if _known_id(account_id) else None
        if account is None:
            raise NotFound("No such account.", field="account_id")
        if not rep.staff:
            raise FailedPrecondition("Only staff users can be representatives.", field="rep_user_id")
        if account.kind is not AccountKind.ENTERPRISE:
            raise FailedPrecondition("Representatives serve enterprise accounts only.", field="account_id")
        if uow.reps.assign(rep.id, account.id, now):
            uow.audit.record(now, PROVISIONING, "rep.assigned", user_id=rep.id, account_id=account.id)
            uow.commit()
