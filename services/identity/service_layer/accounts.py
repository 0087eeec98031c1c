"""Reading accounts: an account with its billing contacts, and the accounts a rep serves."""
from __future__ import annotations

from dataclasses import dataclass

from billing_common import limits
from billing_common.errors import InvalidArgument, NotFound, PermissionDenied
from services.identity.domain.model import ACTIVE, Account, Portal, Role, User
from services.identity.service_layer.common import known_id
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.sessions import validate_session


@dataclass(frozen=True)
class AccountView:
    account: Account
    billing_contacts: list[User]
    # The primary billing contact's user id (ListBillingContacts only), if one was chosen.
    primary: str | None = None
    # The active reps who serve it (ListBillingContacts only): the enterprise mails' other reader.
    reps: tuple[User, ...] = ()


def get_account(deps: Dependencies, account_id: str) -> AccountView:
    """An account and its billing contacts (name and email: "Who is my billing contact?")."""
    if not account_id:
        raise InvalidArgument("An account id is required.", field="account_id")
    with deps.uow() as uow:
        account = uow.accounts.get(known_id(account_id))
        if account is None:
            raise NotFound("No such account.", field="account_id")
        return AccountView(account, uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT))


# The most accounts one ListBillingContacts call answers (the billing run asks per batch, 200).
MAX_ACCOUNTS_PER_CALL = 1000


def list_billing_contacts(deps: Dependencies, account_ids: list[str]) -> list[AccountView]:
    """The active billing contacts and reps of each of these accounts (with their language), for
    the services' mails (online_billing, enterprise_portal); unknown ids are left out, repeats answered once."""
    if len(account_ids) > MAX_ACCOUNTS_PER_CALL:
        raise InvalidArgument(f"Ask for at most {MAX_ACCOUNTS_PER_CALL} accounts at once.", field="account_ids")
    if any(len(a) > limits.MAX_ID for a in account_ids):
        raise InvalidArgument(f"An account id takes at most {limits.MAX_ID} characters.", field="account_ids")
    wanted = sorted({known_id(a) for a in account_ids} - {""})
    if not wanted:
        return []
    with deps.uow() as uow:
        found = uow.accounts.get_many(wanted)
        contacts = uow.memberships.users_with_role_in([a.id for a in found], Role.BILLING_CONTACT)
        primaries = uow.memberships.primaries_in([a.id for a in found])
        reps = uow.reps.reps_in([a.id for a in found])
    return [AccountView(a, [u for u in contacts.get(a.id, []) if u.status == ACTIVE], primaries.get(a.id),
                        tuple(u for u in reps.get(a.id, []) if u.status == ACTIVE))
            for a in found]


def list_rep_accounts(deps: Dependencies, session_token: str, portal: Portal) -> list[Account]:
    signed_in = validate_session(deps, session_token, portal)
    if signed_in.principal.role is not Role.REP:
        raise PermissionDenied("Only the vendor's representatives have a list of accounts.")
    with deps.uow() as uow:
        return uow.reps.accounts_of(signed_in.principal.user.id)
