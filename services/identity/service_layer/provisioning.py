"""Provisioning: accounts, users, memberships and rep assignments (operator commands and the
demo loader use these over gRPC; later the Enterprise portal's admin pages). Every change is
audited with the person acting (`by`: whom the operator command names) and, added by the
audit adapter, the calling service."""
from __future__ import annotations

from billing_common import limits
from billing_common.clock import utc
from billing_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from billing_common.money import is_currency
from services.identity.domain.model import (
    Account,
    AccountKind,
    Membership,
    Role,
    User,
    validate_email,
    validate_locale,
    validate_login,
    validate_text,
)
from services.identity.domain.passwords import check_password_policy
from services.identity.service_layer.common import known_id, new_id
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.ports import UnitOfWork
from services.identity.service_layer.sessions import end_sessions


def create_account(
    deps: Dependencies, name: str, kind: AccountKind, currency: str, locale: str, *, by: str
) -> Account:
    name = validate_text(name, "name", max_length=limits.MAX_NAME)
    if not is_currency(currency):
        raise InvalidArgument("Use an ISO 4217 currency code such as USD or BRL.", field="currency")
    validate_locale(locale)
    now = utc(deps.clock.now())
    account = Account(id=new_id(), name=name, kind=kind, currency=currency, locale=locale, created_at=now)
    with deps.uow() as uow:
        uow.accounts.add(account)
        uow.audit.record(now, by, "account.created", account_id=account.id,
                         details={"name": name, "kind": kind.value, "currency": currency, "locale": locale})
        uow.commit()
    return account


def create_user(
    deps: Dependencies, login: str, email: str, name: str, locale: str, password: str = "", staff: bool = False,
    *, by: str,
) -> User:
    """A user, with a policy-checked password or none yet (then: Reset/Create your password)."""
    login = validate_login(login)
    email = validate_email(email)
    name = validate_text(name, "name", max_length=limits.MAX_NAME)
    validate_locale(locale)
    password_hash = deps.hasher.hash(check_password_policy(password, field="password")) if password else None
    now = utc(deps.clock.now())
    user = User(id=new_id(), login=login, email=email, name=name, locale=locale,
                password_hash=password_hash, staff=staff, created_at=now)
    with deps.uow() as uow:
        if uow.users.taken(user.login_normalized):
            raise AlreadyExists("This user ID is already in use.", field="login")
        if user.email_normalized != user.login_normalized and uow.users.taken(user.email_normalized):
            raise AlreadyExists("This email address is already in use.", field="email")
        uow.users.add(user)
        uow.audit.record(now, by, "user.created", user_id=user.id,
                         details={"login": login, "email": email, "staff": staff,
                                  "password_set": password_hash is not None})
        uow.commit()
    return user


def _user_and_account(uow: UnitOfWork, user_id: str, account_id: str) -> tuple[User, Account]:
    user = uow.users.get(user_id) if known_id(user_id) else None
    if user is None:
        raise NotFound("No such user.", field="user_id")
    account = uow.accounts.get(account_id) if known_id(account_id) else None
    if account is None:
        raise NotFound("No such account.", field="account_id")
    return user, account


def add_membership(deps: Dependencies, user_id: str, account_id: str, role: Role, *, by: str) -> None:
    """Makes the user a billing contact or member of the account, or changes their role there.

    A user belongs to at most one account: a membership elsewhere is FailedPrecondition.
    """
    if role not in (Role.BILLING_CONTACT, Role.MEMBER):
        raise InvalidArgument("A membership is a billing contact or a member.", field="role")
    now = utc(deps.clock.now())
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
        # A new role or account: what the person was signed in as no longer holds (S14).
        uow.users.next_session_generation(user.id)
        uow.audit.record(now, by, "membership.added" if existing is None else "membership.role_changed",
                         user_id=user.id, account_id=account.id, details={"role": role.value})
        uow.commit()
    end_sessions(deps, user.id)


def remove_membership(deps: Dependencies, user_id: str, account_id: str, *, by: str) -> None:
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        user, account = _user_and_account(uow, user_id, account_id)
        existing = uow.memberships.for_user(user.id)
        if existing is None or existing.account_id != account.id:
            raise NotFound("This user is not a member of this account.", field="user_id")
        uow.memberships.remove(user.id)
        uow.users.next_session_generation(user.id)
        uow.audit.record(now, by, "membership.removed", user_id=user.id, account_id=account.id,
                         details={"role": existing.role.value})
        uow.commit()
    # Refused since the commit; deleted now so Redis does not keep them until they expire.
    end_sessions(deps, user.id)


def assign_rep(deps: Dependencies, rep_user_id: str, account_id: str, *, by: str) -> None:
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        if not known_id(rep_user_id) or (rep := uow.users.get(rep_user_id)) is None:
            raise NotFound("No such user.", field="rep_user_id")
        account = uow.accounts.get(account_id) if known_id(account_id) else None
        if account is None:
            raise NotFound("No such account.", field="account_id")
        if not rep.staff:
            raise FailedPrecondition("Only staff users can be representatives.", field="rep_user_id")
        if account.kind is not AccountKind.ENTERPRISE:
            raise FailedPrecondition("Representatives serve enterprise accounts only.", field="account_id")
        if uow.reps.assign(rep.id, account.id, now):
            uow.audit.record(now, by, "rep.assigned", user_id=rep.id, account_id=account.id)
            uow.commit()
