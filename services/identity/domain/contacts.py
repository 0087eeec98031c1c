"""Billing contacts of an enterprise account: the rules of changing them, and handovers.

Plain Python, no I/O: the use cases (service_layer/contacts.py) read the current contacts and
pending proposals, ask these functions, and write what they decide.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from billing_common.errors import FailedPrecondition, PermissionDenied

# S17: adding, removing or making a contact primary, and proposing or deciding a handover,
# need a sign-in within this long (the session's authenticated_at).
RECENT_SIGN_IN = dt.timedelta(minutes=15)
# A handover nobody approved or declined lapses after this long.
HANDOVER_TTL = dt.timedelta(days=7)


class HandoverStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    # Shown for a pending proposal past HANDOVER_TTL; never stored (nothing runs at expiry).
    EXPIRED = "expired"


@dataclass
class Handover:
    """A proposal that a new person replace `replaced_user_id` as a billing contact."""

    id: str
    account_id: str
    proposer_id: str
    replaced_user_id: str
    new_login: str
    new_email: str
    new_name: str
    new_locale: str
    proposed_at: dt.datetime
    status: HandoverStatus = HandoverStatus.PENDING
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    new_user_id: str | None = None

    @property
    def expires_at(self) -> dt.datetime:
        return self.proposed_at + HANDOVER_TTL

    def status_at(self, now: dt.datetime) -> HandoverStatus:
        if self.status is HandoverStatus.PENDING and now >= self.expires_at:
            return HandoverStatus.EXPIRED
        return self.status

    def is_open(self, now: dt.datetime) -> bool:
        return self.status_at(now) is HandoverStatus.PENDING


def recently_signed_in(authenticated_at: dt.datetime, now: dt.datetime) -> bool:
    return now - authenticated_at <= RECENT_SIGN_IN


def check_recent_sign_in(authenticated_at: dt.datetime, now: dt.datetime) -> None:
    """FailedPrecondition (field "session_token") when the sign-in is older than 15 minutes:
    the portal asks for the password again (S17)."""
    if not recently_signed_in(authenticated_at, now):
        raise FailedPrecondition("Confirm your password: this change needs a sign-in within the last 15 minutes.",
                                 field="session_token")


def check_removal(contact_ids: list[str], primary_id: str | None, user_id: str) -> None:
    """A contact may be removed unless they are the last one, or the primary one (another is
    made primary first, so invoices always have someone to be addressed to)."""
    if user_id not in contact_ids:
        raise FailedPrecondition("This person is not a billing contact of the account.", field="user_id")
    if len(contact_ids) <= 1:
        raise FailedPrecondition("An account keeps at least one billing contact.", field="user_id")
    if user_id == primary_id:
        raise FailedPrecondition("Make another billing contact primary before removing this one.",
                                 field="user_id")


def check_decider(handover: Handover, actor_id: str, *, actor_is_rep: bool, contact_ids: list[str],
                  approve: bool, now: dt.datetime) -> None:
    """Who may decide a pending handover: another current contact of the account, or the
    account's rep (whom the caller checked). The proposer may withdraw (decline) their own
    proposal but never approve it: a change of contacts takes two people."""
    if not handover.is_open(now):
        raise FailedPrecondition("This handover is no longer pending.", field="handover_id")
    if approve and actor_id == handover.proposer_id:
        raise PermissionDenied("Another billing contact or the account's representative must approve this "
                               "handover.", field="handover_id")
    if not actor_is_rep and actor_id not in contact_ids:
        raise PermissionDenied("Only the account's billing contacts and representative decide handovers.")
