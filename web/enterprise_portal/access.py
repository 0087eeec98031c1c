"""Who may read and change which account's invoices, payments, statement, POs and quotes.

A billing contact of an enterprise account: their own account only, at /invoices, /pay, ... (the
account id is always the signed-in principal's, never one from the request). A rep: at
/accounts/<account_id>/..., only an account identity lists as theirs (ListRepAccounts); any
other id answers 404, as an unknown one does (S13, S14). Members cannot reach the Enterprise
portal at all (identity refuses them at its sign-in), and anyone else gets the 403 page.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, g, request

from billing.identity.v1 import identity_pb2
from web.common.errors import forbidden, not_found
from web.common.runtime import identity
from web.common.security import signed_in

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    as_rep: bool  # the rep console's view of it


def is_contact(principal: Any) -> bool:
    return bool(principal is not None and principal.role == identity_pb2.ROLE_BILLING_CONTACT
                and principal.account.kind == identity_pb2.ACCOUNT_KIND_ENTERPRISE)


def is_rep(principal: Any) -> bool:
    return bool(principal is not None and principal.role == identity_pb2.ROLE_REP)


def account_user(view: F) -> F:
    """Signed in as an enterprise billing contact (their account) or a rep (an account of
    theirs in the URL); `g.account` is the account. Else 403, or 404 for an account id that is
    not the rep's or any on a contact's own pages (S13, S14)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = g.principal
        wanted = kwargs.get("account_id")
        if is_rep(principal):
            if wanted is None:
                return forbidden()  # a rep's pages name the account
            mine = {a.account_id: a for a in identity().list_rep_accounts(g.session_token)}
            if wanted not in mine:
                abort(404)
            g.account = Account(wanted, mine[wanted].name, as_rep=True)
        elif is_contact(principal):
            if wanted is not None:
                abort(404)
            g.account = Account(principal.account.account_id, principal.account.name, as_rep=False)
        else:
            return forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def contact_only(view: F) -> F:
    """Only a billing contact (paying by card is the customer's); a rep gets the 403 page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.account.as_rep:
            return forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def rep_only(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.account.as_rep:
            return forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def account_id() -> str:
    return str(g.account.account_id)


def here_kwargs() -> dict[str, str]:
    """The URL values that keep a link in the same console (a rep's account id)."""
    args = request.view_args or {}
    return {"account_id": args["account_id"]} if "account_id" in args else {}


# --- Quotes: a contact's pages (/quotes) and the rep console's (/accounts/<id>/quotes) -------------

is_enterprise_contact = is_contact


def enterprise_contact(view: F) -> F:
    """Signed in as a billing contact of an enterprise account (`g.account` their own), else
    the 403 page (S14)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = g.principal
        if not is_contact(principal):
            return forbidden()
        g.account = Account(principal.account.account_id, principal.account.name, as_rep=False)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def rep_of_account(view: F) -> F:
    """Signed in as a rep who serves the route's `account_id` (g.rep_account, g.account), else
    403 for anyone else and 404 for an account they do not serve (S13, S14)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, account_id: str, **kwargs: Any) -> Any:
        if not is_rep(g.principal):
            return forbidden()
        served = next((a for a in identity().list_rep_accounts(g.session_token) if a.account_id == account_id),
                      None)
        if served is None:
            return not_found()
        g.rep_account = served
        g.account = Account(account_id, served.name, as_rep=True)
        return view(*args, account_id=account_id, **kwargs)

    return wrapper  # type: ignore[return-value]

