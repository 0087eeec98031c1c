"""Helpers the identity use cases share: tokens and their digests, ids, who may sign in.

Secrets (passwords, session tokens, hand-off tickets, reset tokens and links) are never
logged or audited (S25); Redis keeps only SHA-256 digests of tokens (see keys.py).
"""
from __future__ import annotations

import hashlib
import secrets
import uuid

from billing_common import limits
from billing_common.errors import InvalidArgument
from services.identity.domain.model import ACTIVE, Principal, Role
from services.identity.service_layer.ports import UnitOfWork, UserStanding


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    # 256 bits from the OS CSPRNG (S6, S9).
    return secrets.token_urlsafe(32)


def new_id() -> str:
    return str(uuid.uuid4())


def bounded(value: str, field_name: str, max_length: int) -> None:
    if len(value) > max_length:
        raise InvalidArgument(f"The field {field_name} takes at most {max_length} characters.", field=field_name)


def principal_of(standing: UserStanding | None) -> Principal | None:
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


def standing_by_login(uow: UnitOfWork, normalized: str) -> UserStanding | None:
    # No user ID contains control characters (and PostgreSQL refuses NUL): nobody has it.
    return None if limits.has_disallowed_characters(normalized) else uow.users.standing_by_login(normalized)


def known_id(value: str) -> str:
    """An id as given, or "" (matches nothing) when it cannot be one."""
    return "" if limits.has_disallowed_characters(value) else value
