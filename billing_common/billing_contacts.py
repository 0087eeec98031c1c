"""Whom a service's billing mail goes to: an account's billing contacts and reps, which
identity owns (people and memberships). The port's data types, the gRPC adapter over identity's
ListBillingContacts and the fakes, shared by online_billing and enterprise_portal (one package,
no copies: STYLE.md).

A service calls identity as its own caller ("online-billing", "enterprise-portal":
billing_common.service_auth) with a short deadline: the billing run asks once per batch, and a
slow or absent identity must not hold up a batch or a use case. Any failure (UNAVAILABLE after
the channel's retries, a deadline, a refused credential) is ContactsUnavailable: the mails are
kept in the outbox with their recipients resolved when they are sent (README, "Billing mails"
and "Identity down never loses a mail").
"""
from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

import grpc
import structlog

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.config import ConfigurationError
from billing_common.grpc_client import make_channel
from billing_common.service_auth import CallerCredentials

log = structlog.get_logger()

# identity answers at most this many accounts per call (identity's accounts.MAX_ACCOUNTS_PER_CALL).
PER_CALL = 1000
SERVICE = "billing.identity.v1.IdentityService"


@dataclass(frozen=True)
class BillingContact:
    """A person identity says is a billing contact (or a rep) of an account (every billing
    contact is mailed, the primary one too)."""

    user_id: str
    name: str
    email: str
    locale: str  # "en" or "pt-BR": the language of their mails


@dataclass(frozen=True)
class AccountContacts:
    account_id: str
    locale: str  # the account's own language: for the invoice recipients who are no person of it
    contacts: tuple[BillingContact, ...] = ()
    # The vendor's reps who serve the account (the enterprise mails' other reader).
    reps: tuple[BillingContact, ...] = ()


class ContactsUnavailable(Exception):
    """Identity did not answer (down, too slow, refused our credentials): the caller keeps the
    mail for later rather than lose it (README, "Billing mails")."""


class BillingContacts(Protocol):
    """Whom an account's billing mail goes to: identity owns people and memberships."""

    def for_account(self, account_id: str) -> AccountContacts | None:
        """The account's billing contacts and reps; None for an account identity does not know.
        Raises ContactsUnavailable."""
        ...

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        """`for_account` of many accounts in one call per 1000 (the billing run's batch):
        unknown accounts are left out. Raises ContactsUnavailable."""
        ...


def _person(c: pb.Contact, account_locale: str) -> BillingContact:
    return BillingContact(user_id=c.user_id, name=c.name, email=c.email, locale=c.locale or account_locale or "en")


def _contacts(a: pb.AccountBillingContacts) -> AccountContacts:
    return AccountContacts(account_id=a.account_id, locale=a.locale or "en",
                           contacts=tuple(_person(c, a.locale) for c in a.contacts),
                           reps=tuple(_person(r, a.locale) for r in a.reps))


class GrpcBillingContacts:
    """BillingContacts over identity's ListBillingContacts (idempotent: retried on
    UNAVAILABLE by the channel), each call within `timeout` seconds.

    After a failure, calls fail at once for `pause` seconds without asking: a billing run of
    hundreds of batches does not wait out a deadline per batch while identity hangs (its mails
    are deferred either way)."""

    def __init__(self, target: str, credentials: CallerCredentials, timeout: float = 2.0,
                 pause: float = 10.0) -> None:
        self.timeout = timeout
        self.pause = pause
        self._failed_until = 0.0
        self._channel = make_channel(target, credentials=credentials, default_timeout=timeout,
                                     idempotent=[(SERVICE, "ListBillingContacts")])
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)

    def __repr__(self) -> str:  # no credentials in any log line (S25)
        return f"GrpcBillingContacts(timeout={self.timeout})"

    def for_account(self, account_id: str) -> AccountContacts | None:
        return self.for_accounts([account_id]).get(account_id)

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        ids = sorted(set(account_ids))
        found: dict[str, AccountContacts] = {}
        if ids and time.monotonic() < self._failed_until:
            raise ContactsUnavailable("identity failed moments ago")
        for start in range(0, len(ids), PER_CALL):
            try:
                reply = self._stub.ListBillingContacts(
                    pb.ListBillingContactsRequest(account_ids=ids[start:start + PER_CALL]), timeout=self.timeout)
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                self._failed_until = time.monotonic() + self.pause
                log.warning("identity did not answer the billing contacts", code=getattr(code, "name", None),
                            accounts=len(ids), pause_seconds=self.pause)
                raise ContactsUnavailable(str(getattr(code, "name", "UNKNOWN"))) from None
            found.update({a.account_id: _contacts(a) for a in reply.accounts})
        return found

    def close(self) -> None:
        self._channel.close()


class FakeBillingContacts:
    """BillingContacts for unit tests: what `accounts` holds; `down` makes every call raise
    ContactsUnavailable; `calls` records each call's account ids."""

    def __init__(self, accounts: Mapping[str, AccountContacts] | None = None) -> None:
        self.accounts: dict[str, AccountContacts] = dict(accounts or {})
        self.down = False
        self.calls: list[list[str]] = []

    def add(self, account_id: str, *contacts: BillingContact, locale: str = "en",
            reps: tuple[BillingContact, ...] = ()) -> None:
        self.accounts[account_id] = AccountContacts(account_id, locale, tuple(contacts), tuple(reps))

    def for_account(self, account_id: str) -> AccountContacts | None:
        return self.for_accounts([account_id]).get(account_id)

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        ids = sorted(set(account_ids))
        self.calls.append(ids)
        if self.down:
            raise ContactsUnavailable("UNAVAILABLE")
        return {a: self.accounts[a] for a in ids if a in self.accounts}


class NoBillingContacts:
    """BillingContacts when no identity is configured (tests of other things, the bench):
    nobody is a contact."""

    def for_account(self, account_id: str) -> AccountContacts | None:
        return None

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        return {}


class IdentityClientSettings(Protocol):
    """What a billing service's settings hold to reach identity (IDENTITY_TARGET, its deadline,
    the caller secrets)."""

    @property
    def env(self) -> str: ...
    @property
    def identity_target(self) -> str | None: ...
    @property
    def identity_timeout(self) -> float: ...

    def credentials(self, caller: str, acting_person: str = "") -> CallerCredentials: ...


def contacts_or_built(contacts: BillingContacts | None, settings: IdentityClientSettings, caller: str, *,
                      closers: list[Callable[[], None]], unaddressed: str) -> BillingContacts | None:
    """A billing service's bootstrap: `contacts` when a test passes them in, else identity's at
    IDENTITY_TARGET as `caller` (its channel's `close` appended to `closers`), else None in dev
    and test. In prod an unset IDENTITY_TARGET or caller secret is a ConfigurationError naming
    it; `unaddressed` says whose mails would otherwise go nowhere."""
    if contacts is not None:
        return contacts
    if not settings.identity_target:
        if settings.env == "prod":
            raise ConfigurationError(f"IDENTITY_TARGET must be set when BILLING_ENV=prod (else {unaddressed})")
        return None
    try:
        credentials = settings.credentials(caller)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    built = GrpcBillingContacts(settings.identity_target, credentials, settings.identity_timeout)
    closers.append(built.close)
    return built
