"""Who may use the Billing Center's billing pages: the billing contacts of online accounts.

Members see no change controls (S14: their landing page says why and whom to ask); anyone else
who reaches a billing page or posts to a change URL gets the 403 page, never a change. The
account id every call passes is always the signed-in principal's, never one from the request
(S13: online_billing finds objects only within it).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g

from billing.identity.v1 import identity_pb2
from web.common.errors import forbidden
from web.common.security import RECENT_SIGN_IN, signed_in, signed_in_recently

F = TypeVar("F", bound=Callable[..., Any])

# S17: adding or removing a card needs a sign-in within RECENT_SIGN_IN (web.common.security).
__all__ = ["RECENT_SIGN_IN", "account_id", "billing_contact", "is_online_billing_contact", "signed_in_recently"]


def is_online_billing_contact(principal: Any) -> bool:
    return bool(principal is not None and principal.role == identity_pb2.ROLE_BILLING_CONTACT
                and principal.account.kind == identity_pb2.ACCOUNT_KIND_ONLINE)


def billing_contact(view: F) -> F:
    """Signed in as a billing contact of an online account, else the 403 page (S14)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_online_billing_contact(g.principal):
            return forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def is_online_member(principal: Any) -> bool:
    """A member (not a billing contact) of an online account: may ask for a change."""
    return bool(principal is not None and principal.role == identity_pb2.ROLE_MEMBER
                and principal.account.kind == identity_pb2.ACCOUNT_KIND_ONLINE)


def online_member(view: F) -> F:
    """Signed in as a member of an online account, else the 403 page (S14: a billing contact
    changes the subscription itself; enterprise members go to their portal)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_online_member(g.principal):
            return forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def account_id() -> str:
    return str(g.principal.account.account_id)
