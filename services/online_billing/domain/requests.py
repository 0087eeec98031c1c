"""Members' change requests: a member of an online account asks for another plan, seat count
or billing frequency with a short note; a billing contact approves it (the change is then
applied as ApplyChange applies it, previewed fresh at that moment) or declines it with a
reason; the member may withdraw it while it is pending.

The states and the only moves between them:

    pending --approve--> approved     (the change was applied or scheduled)
    pending --decline--> declined     (with the contact's reason)
    pending --withdraw-> withdrawn    (by the member who asked)

Nothing leaves approved, declined or withdrawn. While an approval's charge is under way
(`approval_key` set) the request can be neither declined nor withdrawn: the money may already
be moving.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from billing_common.errors import FailedPrecondition
from services.online_billing.domain.model import Selection


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Fixed texts (the Billing Center translates them: web/billing_center/service_messages.py).
_DECIDED = {
    RequestStatus.APPROVED: "This request was already approved.",
    RequestStatus.DECLINED: "This request was already declined.",
    RequestStatus.WITHDRAWN: "This request was withdrawn.",
}


@dataclass(frozen=True, slots=True)
class Requester:
    """The member who asks, as identity's session told the web tier: mailed the outcome in
    their language ("en" or "pt-BR")."""

    user_id: str
    name: str
    email: str
    locale: str


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    id: str
    account_id: str
    # The subscription it was asked about; approval applies it to the account's current one.
    subscription_id: str
    requester: Requester
    target: Selection
    note: str
    status: RequestStatus
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    decline_reason: str = ""
    # The idempotency key of the approval's ApplyChange, stored before it is called (S19).
    approval_key: str | None = None
    # Approved: the invoice of a change charged at once (None when it was scheduled).
    invoice_id: str | None = None
    scheduled: bool = False

    @property
    def is_pending(self) -> bool:
        return self.status is RequestStatus.PENDING

    def _require_pending(self) -> None:
        if not self.is_pending:
            raise FailedPrecondition(_DECIDED[self.status], field="change_request_id")

    def approving(self, key: str, by: str | None = None) -> ChangeRequest:
        """The approval's key stored, with the contact approving (so whoever settles the charge
        later, the reconciler included, knows who decided); the first one wins (a second
        contact's approval, or a double submit, replays the same charge)."""
        self._require_pending()
        return self if self.approval_key else replace(self, approval_key=key, decided_by=by)

    def approval_failed(self) -> ChangeRequest:
        """The approval's charge was declined: the next approval is a new attempt."""
        return replace(self, approval_key=None, decided_by=None)

    def approved(self, by: str, at: dt.datetime, invoice_id: str | None, scheduled: bool) -> ChangeRequest:
        self._require_pending()
        return replace(self, status=RequestStatus.APPROVED, decided_by=by, decided_at=at, invoice_id=invoice_id,
                       scheduled=scheduled)

    def declined(self, by: str, at: dt.datetime, reason: str) -> ChangeRequest:
        self._require_pending()
        self._require_no_charge()
        return replace(self, status=RequestStatus.DECLINED, decided_by=by, decided_at=at, decline_reason=reason)

    def withdrawn(self, by: str, at: dt.datetime) -> ChangeRequest:
        self._require_pending()
        self._require_no_charge()
        return replace(self, status=RequestStatus.WITHDRAWN, decided_by=by, decided_at=at)

    def _require_no_charge(self) -> None:
        if self.approval_key is not None:
            raise FailedPrecondition("This request is being approved: its payment is being confirmed.",
                                     field="change_request_id")
