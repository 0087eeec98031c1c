"""Billing contacts from identity (ports.BillingContacts) over gRPC, and a fake for tests.

online_billing calls identity as the caller "online-billing" (billing_common.service_auth)
with a short deadline: the billing run asks once per batch, and a slow or absent identity must
not hold the batch up. Any failure (UNAVAILABLE after the channel's retries, a deadline, a
refused credential) is ContactsUnavailable: the mails of that batch are kept in the outbox with
their recipients resolved when they are sent (README, "Billing mails").
"""
from __future__ import annotations

import time
from collections.abc import Collection, Mapping

import grpc
import structlog

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.grpc_client import make_channel
from billing_common.service_auth import CallerCredentials
from services.online_billing.service_layer.ports import AccountContacts, BillingContact, ContactsUnavailable

log = structlog.get_logger()

# identity answers at most this many accounts per call (identity's accounts.MAX_ACCOUNTS_PER_CALL).
PER_CALL = 1000
SERVICE = "billing.identity.v1.IdentityService"


def _contacts(a: pb.AccountBillingContacts) -> AccountContacts:
    return AccountContacts(account_id=a.account_id, locale=a.locale or "en", contacts=tuple(
        BillingContact(user_id=c.user_id, name=c.name, email=c.email, locale=c.locale or a.locale or "en")
        for c in a.contacts))


class GrpcBillingContacts:
    """ports.BillingContacts over identity's ListBillingContacts (idempotent: retried on
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
    """ports.BillingContacts for unit tests: what `accounts` holds; `down` makes every call
    raise ContactsUnavailable; `calls` records each call's account ids."""

    def __init__(self, accounts: Mapping[str, AccountContacts] | None = None) -> None:
        self.accounts: dict[str, AccountContacts] = dict(accounts or {})
        self.down = False
        self.calls: list[list[str]] = []

    def add(self, account_id: str, *contacts: BillingContact, locale: str = "en") -> None:
        self.accounts[account_id] = AccountContacts(account_id, locale, tuple(contacts))

    def for_account(self, account_id: str) -> AccountContacts | None:
        return self.for_accounts([account_id]).get(account_id)

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        ids = sorted(set(account_ids))
        self.calls.append(ids)
        if self.down:
            raise ContactsUnavailable("UNAVAILABLE")
        return {a: self.accounts[a] for a in ids if a in self.accounts}


class NoBillingContacts:
    """ports.BillingContacts when no identity is configured (tests of other things, the
    bench): nobody is a contact; mails go to the invoice recipients alone."""

    def for_account(self, account_id: str) -> AccountContacts | None:
        return None

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        return {}
