"""The billing contacts of an enterprise account, changed by its own contacts (the Enterprise
portal's Billing contacts page), and handovers, approved by another contact or the rep.

Every call names its session: the person acting is the session's, never one from the request.
Who may do what (S13, S14): a billing contact for their own enterprise account; a rep reads the
contacts and decides handovers of the accounts they serve; another account, or one a rep does
not serve, is NotFound (S13), and a member is PermissionDenied (S14). Every change needs a
sign-in within the last 15 minutes (S17), is audited with the person acting, and every contact
is mailed a notice from the same transaction (the outbox).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from billing_common import limits
from billing_common.clock import utc
from billing_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.identity.domain.contacts import (
    Handover,
    HandoverStatus,
    check_decider,
    check_recent_sign_in,
    check_removal,
)
from services.identity.domain.model import (
    Account,
    AccountKind,
    Membership,
    Portal,
    Principal,
    Role,
    User,
    validate_email,
    validate_locale,
    validate_login,
    validate_text,
)
from services.identity.service_layer import messages
from services.identity.service_layer.common import known_id, new_id
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.passwords import issue_password_link
from services.identity.service_layer.ports import UnitOfWork
from services.identity.service_layer.sessions import SignedIn, end_sessions, validate_session


@dataclass(frozen=True)
class BillingContact:
    user: User
    primary: bool


@dataclass(frozen=True)
class HandoverView:
    """A pending handover with the names a page shows; `status` as of now (expired or not)."""

    handover: Handover
    account: Account
    proposer: User | None
    replaced: User | None
    status: HandoverStatus


@dataclass(frozen=True)
class NewPerson:
    """Who is to become a billing contact, validated."""

    login: str
    email: str
    name: str
    locale: str


def new_person(login: str, email: str, name: str, locale: str, default_locale: str) -> NewPerson:
    return NewPerson(
        login=validate_login(login),
        email=validate_email(email),
        name=validate_text(name, "name", max_length=limits.MAX_NAME),
        locale=validate_locale(locale) if locale else default_locale,
    )


# --- who may act on which account ------------------------------------------------------------

def _served(uow: UnitOfWork, rep_id: str, account_id: str) -> bool:
    return any(a.id == account_id for a in uow.reps.accounts_of(rep_id))


def _account_for(uow: UnitOfWork, principal: Principal, account_id: str, *, rep_may: bool) -> Account:
    """The account `principal` may act on here, else NotFound (not theirs: S13) or
    PermissionDenied (theirs, but not their role's to do: S14)."""
    if not account_id:
        raise InvalidArgument("An account id is required.", field="account_id")
    account = uow.accounts.get(known_id(account_id))
    if account is None or account.kind is not AccountKind.ENTERPRISE:
        raise NotFound("No such account.", field="account_id")
    if principal.role is Role.REP:
        if not _served(uow, principal.user.id, account.id):
            raise NotFound("No such account.", field="account_id")
        if not rep_may:
            raise PermissionDenied("The account's billing contacts make this change.")
        return account
    if principal.account is None or principal.account.id != account.id:
        raise NotFound("No such account.", field="account_id")
    if principal.role is not Role.BILLING_CONTACT:
        raise PermissionDenied("Only billing contacts change the billing contacts.")
    return account


def _acting(deps: Dependencies, session_token: str, portal: Portal, *, change: bool) -> SignedIn:
    signed_in = validate_session(deps, session_token, portal)
    if change:
        check_recent_sign_in(utc(signed_in.session.authenticated_at), utc(deps.clock.now()))
    return signed_in


def _contact_ids(uow: UnitOfWork, account_id: str) -> list[str]:
    return [u.id for u in uow.memberships.users_with_role(account_id, Role.BILLING_CONTACT)]


def _check_free(uow: UnitOfWork, person: NewPerson) -> None:
    login, email = person.login.strip().lower(), person.email.strip().lower()
    if uow.users.taken(login):
        raise AlreadyExists("This user ID is already in use.", field="login")
    if email != login and uow.users.taken(email):
        raise AlreadyExists("This email address is already in use.", field="email")


def _notify(
    uow: UnitOfWork, account: Account, change: str, now: dt.datetime, *, actor: User,
    values: dict[str, object], also: tuple[User | None, ...] = (),
) -> None:
    """The notice to every contact the account now has, and to `also` (someone removed or
    replaced), each in their language."""
    contacts = uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT)
    primary = uow.memberships.primary_of(account.id)
    listed = [(u.name, u.email, u.id == primary) for u in contacts]
    recipients = {u.id: u for u in (*contacts, *(a for a in also if a is not None))}
    for user in recipients.values():
        uow.outbox.add(
            messages.contacts_notice(user.locale, to=user.email, name=user.name, account=account.name,
                                     change=change, contacts=listed, actor=actor.name, **values),
            now,
        )


def _welcome(deps: Dependencies, uow: UnitOfWork, user: User, account: Account, actor: User,
             now: dt.datetime) -> None:
    """The new contact's "create your password" mail, with a link to the Enterprise portal."""
    ttl = deps.settings.welcome_link_ttl
    link = issue_password_link(deps, user.id, Portal.ENTERPRISE, ttl)
    uow.outbox.add(
        messages.render("contact_welcome", user.locale, to=user.email, name=user.name, actor=actor.name,
                        account=account.name, login=user.login, link=link, days=max(1, int(ttl // 86400))),
        now,
    )


def _provision(uow: UnitOfWork, person: NewPerson, account: Account, now: dt.datetime) -> User:
    """A user with no password yet (they create it from the mailed link), a billing contact."""
    _check_free(uow, person)
    user = User(id=new_id(), login=person.login, email=person.email, name=person.name, locale=person.locale,
                created_at=now)
    uow.users.add(user)
    uow.memberships.put(Membership(user.id, account.id, Role.BILLING_CONTACT), now)
    return user


def _contact_of(uow: UnitOfWork, account: Account, user_id: str, field: str = "user_id") -> User:
    user = uow.users.get(known_id(user_id)) if user_id else None
    membership = uow.memberships.for_user(user.id) if user else None
    if (user is None or membership is None or membership.account_id != account.id
            or membership.role is not Role.BILLING_CONTACT):
        raise NotFound("No such billing contact on this account.", field=field)
    return user


# --- the contacts ----------------------------------------------------------------------------

def list_billing_contacts(deps: Dependencies, session_token: str, portal: Portal, account_id: str
                          ) -> list[BillingContact]:
    principal = _acting(deps, session_token, portal, change=False).principal
    with deps.uow() as uow:
        account = _account_for(uow, principal, account_id, rep_may=True)
        primary = uow.memberships.primary_of(account.id)
        return [BillingContact(u, u.id == primary)
                for u in uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT)]


def add_billing_contact(
    deps: Dependencies, session_token: str, portal: Portal, account_id: str, login: str, email: str, name: str,
    locale: str = "",
) -> User:
    actor = _acting(deps, session_token, portal, change=True).principal
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        account = _account_for(uow, actor, account_id, rep_may=False)
        person = new_person(login, email, name, locale, account.locale)
        user = _provision(uow, person, account, now)
        uow.audit.record(now, actor.user.id, "billing_contact.added", user_id=user.id, account_id=account.id,
                         details={"login": user.login, "email": user.email})
        _welcome(deps, uow, user, account, actor.user, now)
        _notify(uow, account, "added", now, actor=actor.user, values={"subject": user.name, "email": user.email})
        uow.commit()
    return user


def remove_billing_contact(deps: Dependencies, session_token: str, portal: Portal, account_id: str,
                           user_id: str) -> None:
    """Never the last contact, nor the primary one; ends the removed person's sessions."""
    actor = _acting(deps, session_token, portal, change=True).principal
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        account = _account_for(uow, actor, account_id, rep_may=False)
        removed = _contact_of(uow, account, user_id)
        check_removal(_contact_ids(uow, account.id), uow.memberships.primary_of(account.id), removed.id)
        uow.memberships.remove(removed.id)
        # Every session of theirs is refused from this commit on (S14).
        uow.users.next_session_generation(removed.id)
        uow.audit.record(now, actor.user.id, "billing_contact.removed", user_id=removed.id, account_id=account.id)
        _notify(uow, account, "removed", now, actor=actor.user, also=(removed,),
                values={"subject": removed.name, "email": removed.email})
        uow.commit()
    end_sessions(deps, removed.id)


def set_primary_billing_contact(deps: Dependencies, session_token: str, portal: Portal, account_id: str,
                                user_id: str) -> None:
    actor = _acting(deps, session_token, portal, change=True).principal
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        account = _account_for(uow, actor, account_id, rep_may=False)
        chosen = _contact_of(uow, account, user_id)
        if uow.memberships.primary_of(account.id) == chosen.id:
            return
        uow.memberships.set_primary(account.id, chosen.id)
        uow.audit.record(now, actor.user.id, "billing_contact.made_primary", user_id=chosen.id,
                         account_id=account.id)
        _notify(uow, account, "primary", now, actor=actor.user,
                values={"subject": chosen.name, "email": chosen.email})
        uow.commit()


# --- handovers -------------------------------------------------------------------------------

def _handover_values(uow: UnitOfWork, h: Handover) -> tuple[User | None, dict[str, object]]:
    replaced = uow.users.get(h.replaced_user_id)
    return replaced, {"new": h.new_name, "new_email": h.new_email,
                      "subject": replaced.name if replaced else "", "email": replaced.email if replaced else ""}


def propose_handover(
    deps: Dependencies, session_token: str, portal: Portal, account_id: str, replaced_user_id: str,
    login: str, email: str, name: str, locale: str = "",
) -> Handover:
    """A contact proposes that a new person replace them or another contact; it applies when
    another contact or the rep approves it within 7 days (decide_handover)."""
    actor = _acting(deps, session_token, portal, change=True).principal
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        account = _account_for(uow, actor, account_id, rep_may=False)
        replaced = _contact_of(uow, account, replaced_user_id, field="replaced_user_id")
        person = new_person(login, email, name, locale, account.locale)
        _check_free(uow, person)
        if any(h.replaced_user_id == replaced.id and h.is_open(now) for h in uow.handovers.pending([account.id])):
            raise FailedPrecondition("A handover of this contact is already waiting for approval.",
                                     field="replaced_user_id")
        handover = Handover(
            id=new_id(), account_id=account.id, proposer_id=actor.user.id, replaced_user_id=replaced.id,
            new_login=person.login, new_email=person.email, new_name=person.name, new_locale=person.locale,
            proposed_at=now,
        )
        uow.handovers.add(handover)
        uow.audit.record(now, actor.user.id, "handover.proposed", user_id=replaced.id, account_id=account.id,
                         details={"handover_id": handover.id, "login": person.login, "email": person.email})
        _, values = _handover_values(uow, handover)
        expires = handover.expires_at.strftime("%Y-%m-%d %H:%M")
        _notify(uow, account, "handover_proposed", now, actor=actor.user, values={**values, "expires": expires})
        # The account's reps may approve it: they hear of it too (their console lists it).
        for rep in uow.reps.reps_of(account.id):
            uow.outbox.add(messages.render("handover_waiting", rep.locale, to=rep.email, name=rep.name,
                                           proposer=actor.user.name, account=account.name, expires=expires,
                                           new=values["new"], new_email=values["new_email"],
                                           subject=values["subject"], email=values["email"]), now)
        uow.commit()
    return handover


def list_handovers(deps: Dependencies, session_token: str, portal: Portal, account_id: str = ""
                   ) -> list[HandoverView]:
    """The pending (unexpired) handovers of an account; for a rep with no account id, those of
    every account they serve (the rep console's approvals waiting for them)."""
    principal = _acting(deps, session_token, portal, change=False).principal
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        if principal.role is Role.REP and not account_id:
            accounts = {a.id: a for a in uow.reps.accounts_of(principal.user.id)
                        if a.kind is AccountKind.ENTERPRISE}
        else:
            account = _account_for(uow, principal, account_id, rep_may=True)
            accounts = {account.id: account}
        views = []
        for h in uow.handovers.pending(list(accounts)):
            if h.is_open(now):
                views.append(HandoverView(h, accounts[h.account_id], uow.users.get(h.proposer_id),
                                          uow.users.get(h.replaced_user_id), h.status_at(now)))
        return views


def decide_handover(deps: Dependencies, session_token: str, portal: Portal, account_id: str, handover_id: str,
                    approve: bool) -> Handover:
    """Approve (applies it: the new person becomes a contact, with the replaced one's primary
    flag, and the replaced one stops being one) or decline. The proposer cannot approve their
    own; they may withdraw it (decline)."""
    actor = _acting(deps, session_token, portal, change=True).principal
    now = utc(deps.clock.now())
    replaced_id: str | None = None
    with deps.uow() as uow:
        account = _account_for(uow, actor, account_id, rep_may=True)
        handover = uow.handovers.get(known_id(handover_id)) if handover_id else None
        if handover is None or handover.account_id != account.id:
            raise NotFound("No such handover.", field="handover_id")
        check_decider(handover, actor.user.id, actor_is_rep=actor.role is Role.REP,
                      contact_ids=_contact_ids(uow, account.id), approve=approve, now=now)
        replaced, values = _handover_values(uow, handover)
        proposer = uow.users.get(handover.proposer_id)
        handover.decided_at, handover.decided_by = now, actor.user.id
        if approve:
            membership = uow.memberships.for_user(handover.replaced_user_id)
            if replaced is None or membership is None or membership.account_id != account.id:
                raise FailedPrecondition("The person to replace is no longer a billing contact of the account.",
                                         field="handover_id")
            person = NewPerson(handover.new_login, handover.new_email, handover.new_name, handover.new_locale)
            was_primary = uow.memberships.primary_of(account.id) == replaced.id
            new_user = _provision(uow, person, account, now)
            uow.memberships.remove(replaced.id)
            uow.users.next_session_generation(replaced.id)
            if was_primary:
                uow.memberships.set_primary(account.id, new_user.id)
            handover.status, handover.new_user_id = HandoverStatus.APPROVED, new_user.id
            replaced_id = replaced.id
            _welcome(deps, uow, new_user, account, actor.user, now)
        else:
            handover.status = HandoverStatus.DECLINED
        uow.handovers.update(handover)
        uow.audit.record(now, actor.user.id, f"handover.{handover.status.value}", user_id=handover.replaced_user_id,
                         account_id=account.id,
                         details={"handover_id": handover.id, "new_user_id": handover.new_user_id})
        _notify(uow, account, f"handover_{handover.status.value}", now, actor=actor.user,
                also=(replaced, proposer), values=values)
        uow.commit()
    if replaced_id:
        end_sessions(deps, replaced_id)
    return handover
