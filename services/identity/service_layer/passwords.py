"""Reset/Create your password (S5-S8) and Change password (S5)."""
from __future__ import annotations

import uuid
from typing import Any

import structlog

from billing_common import limits
from billing_common.clock import utc
from billing_common.errors import FailedPrecondition, InvalidArgument, RateLimited
from services.identity.domain.model import Portal, normalize_login
from services.identity.domain.passwords import check_password_policy, normalize_password
from services.identity.service_layer import keys, messages, throttle
from services.identity.service_layer.common import (
    bounded,
    digest,
    new_token,
    principal_of,
    standing_by_login,
)
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.ports import PendingReset, UnitOfWork
from services.identity.service_layer.sessions import carry_on, end_sessions, validate_session

log = structlog.get_logger()

INVALID_RESET_LINK = "This Reset/Create your password link has expired or was already used. Ask for a new one."
# Every request hears this while the queue of accepted requests is full (whoever they name).
RESET_QUEUE_FULL, RESET_QUEUE_RETRY_AFTER = "Too many requests at the moment. Try again in a minute.", 60


def _portal_url(deps: Dependencies, portal: Portal) -> str:
    s = deps.settings
    base = s.enterprise_portal_url if portal is Portal.ENTERPRISE else s.billing_center_url
    return base.rstrip("/")


def request_password_reset(deps: Dependencies, login: str, portal: Portal, client_address: str = "") -> None:
    """Mails a single-use link to the user's address on file, or quietly does nothing.

    The caller cannot tell which (S7): once the input is checked, the request is written to
    the queue of accepted requests (the same row whoever it names) and the answer goes back;
    the lookup, the limits and the mail happen in deferred work (`handle_reset_requests`), so
    unknown user IDs, users over their hourly limit and addresses over theirs look and time
    the same. The queue is in the database, so what was accepted is done even after a restart
    or an outage, and bounded: while `reset_queue_limit` requests wait, every request is
    refused with RateLimited, whoever it names.
    """
    if not login.strip():
        raise InvalidArgument("Enter your user ID.", field="login")
    bounded(login, "login", limits.MAX_USER_ID)
    bounded(client_address, "client_address", 64)
    if limits.has_disallowed_characters(client_address):
        # The portal sends the visitor's address: control characters mean a broken caller.
        raise InvalidArgument("The field client_address is not a network address.", field="client_address")
    if limits.has_disallowed_characters(login):
        # No user ID holds control characters (and PostgreSQL refuses NUL in text): nobody to
        # mail, and nothing to write; the answer is the same as for any unknown user ID (S7).
        return
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.reset_requests.count() >= deps.settings.reset_queue_limit:
            log.warning("password reset refused", reason="queue full")
            raise RateLimited(RESET_QUEUE_FULL, retry_after=RESET_QUEUE_RETRY_AFTER)
        uow.reset_requests.add(PendingReset(str(uuid.uuid4()), login, portal.value, client_address, utc(now)))
        uow.commit()
    deps.defer(lambda: handle_reset_requests(deps))


def handle_reset_requests(deps: Dependencies, batch: int = 100) -> int:
    """Handles the waiting reset requests, oldest first, each in a transaction of its own that
    also removes it; returns how many were handled. One that fails (Redis down) stays for the
    next run and does not hold up the others."""
    handled = 0
    while True:
        with deps.uow() as uow:
            waiting = uow.reset_requests.oldest(batch)
        if not waiting:
            return handled
        progress = False
        for request_id in waiting:
            try:
                with deps.uow() as uow:
                    request = uow.reset_requests.claim(request_id)
                    if request is None:
                        continue  # another replica has it, or had it
                    _issue_reset_link(deps, uow, request)
                    uow.reset_requests.remove(request.id)
                    uow.commit()
                handled += 1
                progress = True
            except Exception:
                log.exception("password reset request failed; it is tried again later")
        if not progress or len(waiting) < batch:
            return handled


def _issue_reset_link(deps: Dependencies, uow: UnitOfWork, request: PendingReset) -> None:
    s = deps.settings
    login, portal, client_address = request.login, Portal(request.portal), request.client_address
    # Now, not when it was asked for: a link handled after an outage still lasts its full time.
    now = deps.clock.now()
    address_ok = True
    if client_address:
        address_key = keys.reset_requests_of_address(throttle.address_group(client_address))
        address_ok = throttle.hourly_limit(deps, address_key, s.reset_requests_per_address) == 0
        deps.store.record_event(address_key, now, s.rate_window)

    token = new_token()
    principal = principal_of(standing_by_login(uow, normalize_login(login)))
    if principal is None or not address_ok:
        log.info("password reset not sent", reason="unknown user ID or address limit")
        return
    user_key = keys.reset_requests_of_user(principal.user.id)
    if throttle.hourly_limit(deps, user_key, s.reset_requests_per_user) > 0:
        log.info("password reset not sent", reason="user limit", user_id=principal.user.id)
        return
    deps.store.record_event(user_key, now, s.rate_window)
    user = principal.user
    link = issue_password_link(deps, user.id, portal, s.reset_link_ttl, token)
    uow.outbox.add(
        messages.render(
            "password_reset", user.locale, to=user.email, name=user.name, login=user.login,
            link=link, minutes=int(s.reset_link_ttl // 60),
        ),
        utc(now),
    )
    uow.audit.record(utc(now), user.id, "password_reset.requested", user_id=user.id,
                     account_id=principal.account.id if principal.account else None,
                     details={"portal": portal.value})
    log.info("password reset sent", user_id=user.id)


def issue_password_link(deps: Dependencies, user_id: str, portal: Portal, ttl: float, token: str = "") -> str:
    """A Reset/Create your password link to `portal`, live for `ttl` seconds; the newest link of
    a user is the only live one (S6). Also the "create your password" link of a billing contact
    someone added (contacts.py), with a longer life."""
    token = token or new_token()
    token_digest = digest(token)
    now = deps.clock.now()
    # The newest link is the only live one: remember its digest, drop the previous link.
    previous = deps.store.get(keys.current_reset_link(user_id))
    deps.store.put(keys.reset_link(token_digest), {"user_id": user_id, "issued_at": now, "ttl": ttl}, ttl)
    deps.store.put(keys.current_reset_link(user_id), {"digest": token_digest}, ttl)
    if previous:
        deps.store.delete(keys.reset_link(previous["digest"]))
    return f"{_portal_url(deps, portal)}/reset/{token}"


def _live_reset(deps: Dependencies, token: str) -> tuple[str, dict[str, Any]] | None:
    if not token or len(token) > limits.MAX_TOKEN:
        return None
    token_digest = digest(token)
    data = deps.store.get(keys.reset_link(token_digest))
    if data is None:
        return None
    # Links carry their own life (a welcome link lasts longer); older ones the setting's.
    ttl = float(data.get("ttl") or deps.settings.reset_link_ttl)
    if deps.clock.now() >= data["issued_at"] + ttl:
        return None
    current = deps.store.get(keys.current_reset_link(data["user_id"]))
    if not current or current.get("digest") != token_digest:
        return None
    return token_digest, data


def check_password_reset_token(deps: Dependencies, token: str) -> bool:
    return _live_reset(deps, token) is not None


def complete_password_reset(deps: Dependencies, token: str, new_password: str) -> None:
    """Sets the password from a live link, uses the link up, ends every session of the user,
    and mails a notice. It does not sign the user in (S8): they sign in afterwards."""
    live = _live_reset(deps, token)
    if live is None:
        raise FailedPrecondition(INVALID_RESET_LINK, field="token")
    token_digest, data = live
    # The policy and the hash first, so a refused password, or a hash refused as too busy
    # (Unavailable), leaves the link usable for another try.
    new_hash = deps.hasher.hash(check_password_policy(new_password, field="new_password"))
    if deps.store.take(keys.reset_link(token_digest)) is None:
        raise FailedPrecondition(INVALID_RESET_LINK, field="token")
    user_id = data["user_id"]
    deps.store.delete(keys.current_reset_link(user_id))
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.get(user_id)
        if user is None:
            raise FailedPrecondition(INVALID_RESET_LINK, field="token")
        created = user.password_hash is None
        uow.users.set_password_hash(user.id, new_hash)
        # Every session and ticket of before ends with this commit (S5), whatever Redis does.
        uow.users.next_session_generation(user.id)
        uow.audit.record(utc(now), user.id, "password.created" if created else "password.reset", user_id=user.id)
        uow.outbox.add(
            messages.render("password_changed", user.locale, to=user.email, name=user.name, login=user.login), utc(now)
        )
        uow.commit()
    ended = end_sessions(deps, user_id)
    # The owner proved control of the mailbox: earlier failed sign-ins no longer slow them.
    throttle.clear_login_failures(deps, keys.login_failures_of_user(user_id))
    log.info("password reset completed", user_id=user_id, sessions_ended=ended)


def change_password(
    deps: Dependencies, session_token: str, portal: Portal, current_password: str, new_password: str
) -> None:
    """Needs the current password (S5); ends the user's other sessions and mails a notice."""
    bounded(current_password, "current_password", limits.MAX_PASSWORD)
    bounded(new_password, "new_password", limits.MAX_PASSWORD)
    signed_in = validate_session(deps, session_token, portal)
    user = signed_in.principal.user
    # The same budget as sign-in's, checked and counted at once (S4).
    attempt = throttle.admit_password_check(deps, user)
    stored = user.password_hash
    try:
        right = deps.hasher.verify(stored or deps.hasher.dummy_hash, normalize_password(current_password))
    except BaseException:
        throttle.take_back(deps, attempt)
        raise
    if not (right and stored is not None):
        raise InvalidArgument("The current password is not correct.", field="current_password")
    throttle.take_back(deps, attempt)  # the right password is no failure
    # Hashed before the transaction: argon2id's tens of milliseconds need no connection.
    new_hash = deps.hasher.hash(check_password_policy(new_password, field="new_password"))
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.users.set_password_hash(user.id, new_hash)
        generation = uow.users.next_session_generation(user.id)
        uow.audit.record(utc(now), user.id, "password.changed", user_id=user.id)
        uow.outbox.add(
            messages.render("password_changed", user.locale, to=user.email, name=user.name, login=user.login), utc(now)
        )
        uow.commit()
    # Every other session ended with the commit; this one carries on under the new generation.
    carry_on(deps, session_token, generation)
    end_sessions(deps, user.id, keep_digest=digest(session_token))
    log.info("password changed", user_id=user.id)
