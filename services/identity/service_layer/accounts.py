"""Reading accounts: an account with its billing contacts, and the accounts a rep serves."""
from __future__ import annotations

from dataclasses import dataclass

from billing_common.errors import InvalidArgument, NotFound, PermissionDenied
from services.identity.domain.model import Account, Portal, Role, User
from services.identity.service_layer.common import known_id
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.sessions import validate_session


@dataclass(frozen=True)
class AccountView:
    account: Account
    billing_contacts: list[User]


def get_account(deps: Dependencies, account_id: str) -> AccountView:
    """An account and its billing contacts (name and email: "Who is my billing contact?")."""
    if not account_id:
        raise InvalidArgument("An account id is required.", field="account_id")
    with deps.uow() as uow:
        account = uow.accounts.get(known_id(account_id))
        if account is None:
            raise NotFound("No such account.", field="account_id")
        return AccountView(account, uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT))


def list_rep_accounts(deps: Dependencies, session_token: str, portal: Portal) -> list[Account]:
    signed_in = validate_session(deps, session_token, portal)
    if signed_in.principal.role is not Role.REP:
        raise PermissionDenied("Only the vendor's representatives have a list of accounts.")
    with deps.uow() as uow:
        return uow.reps.accounts_of(signed_in.principal.user.id)
