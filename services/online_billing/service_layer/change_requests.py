"""Members' change requests (domain.requests): ask, list, withdraw, decline, approve.

Who may do what is the Billing Center's to check (S14: only a member of an online account
asks, only a billing contact decides; identity's session tells it the role), as for every
other online_billing call; what online_billing checks is that the request is the account's
(S13: another account's id is NotFound) and, for a withdrawal, the asking member's.

Approval applies the request through subscriptions.apply_change, so it is previewed fresh at
that moment (a request made stale by another change is priced on what the subscription is now,
or refused if there is nothing left to change) and charged exactly as a contact's own change,
idempotently (S19, S20):
1. one transaction locks the request and stores the approval's idempotency key (the first one
   wins: a double submit or a second contact replays the same charge);
2. apply_change with that key (its own transactions; the gateway outside any);
3. one transaction marks the request approved and writes the member's mail. A charge whose
   answer was lost leaves the request pending with its key until the charge settles: the
   reconciler's settling (or a later approval's replay of the same key) finishes it and mails
   the member in the settling transaction (request_settling); a decline clears the key.
"""
from __future__ import annotations

import datetime as dt
import uuid

import structlog

from billing_common.billing_contacts import BillingContact, ContactsUnavailable
from billing_common.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from billing_common.limits import MAX_EMAIL, MAX_NAME, MAX_NOTE, has_disallowed_characters, is_valid_email
from billing_common.payments.gateway import check_idempotency_key
from billing_common.validation import require_id
from services.online_billing.domain.changes import preview_change
from services.online_billing.domain.model import BillingInterval, current_subscription
from services.online_billing.domain.requests import ChangeRequest, Requester, RequestStatus
from services.online_billing.service_layer import request_mails, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.ports import UnitOfWork
from services.online_billing.service_layer.subscriptions import Outcome, Result, now_of

log = structlog.get_logger()

# A member has at most this many requests pending at once: a second one is a withdrawal away.
MAX_PENDING_PER_MEMBER = 1
MAX_LISTED = 100


def _text(value: str, field: str, limit: int, *, required: bool = False, multiline: bool = False) -> str:
    if not isinstance(value, str) or len(value.strip()) > limit or has_disallowed_characters(value,
                                                                                             multiline=multiline):
        raise InvalidArgument(f"{field} must be text of at most {limit} characters", field=field)
    if required and not value.strip():
        raise InvalidArgument(f"{field} is required", field=field)
    return value.strip()


def _requester(requester: Requester) -> Requester:
    user_id = require_id(requester.user_id, "requested_by")
    name = _text(requester.name, "requester_name", MAX_NAME)
    email = requester.email.strip() if isinstance(requester.email, str) else ""
    if len(email) > MAX_EMAIL or not is_valid_email(email):
        raise InvalidArgument("requester_email must be an email address", field="requester_email")
    return Requester(user_id, name, email, request_mails.locale_of(
        requester.locale if isinstance(requester.locale, str) else ""))


def _link(deps: Dependencies) -> str:
    return f"{deps.billing_center_url.rstrip('/')}/requests"


def _get(uow: UnitOfWork, account_id: str, request_id: str, *, for_update: bool = False) -> ChangeRequest:
    require_id(account_id, "account_id")
    require_id(request_id, "change_request_id")
    found = uow.change_requests.get(account_id, request_id, for_update=for_update)
    if found is None:
        raise NotFound("no such change request")
    return found


def request_change(deps: Dependencies, account_id: str, requester: Requester, plan_code: str, seats: int,
                   interval: BillingInterval | None, note: str) -> ChangeRequest:
    """Records a member's pending request and mails the account's billing contacts, in one
    transaction. The target must be something the subscription could change to now (the
    preview's rules: InvalidArgument naming the field, FailedPrecondition saying why not)."""
    require_id(account_id, "account_id")
    requester = _requester(requester)
    target = subscriptions.selection(plan_code, seats, interval)
    note = _text(note, "note", MAX_NOTE, multiline=True)
    # identity is asked before the transaction (no call to another service inside one); if it
    # cannot answer, nothing is written and the member is told to try again (UNAVAILABLE): the
    # member's own session needs identity anyway, so this is rare and short.
    contacts: tuple[BillingContact, ...] = ()
    if deps.contacts is not None:
        try:
            found = deps.contacts.for_account(account_id)
        except ContactsUnavailable:
            raise Unavailable("identity is unavailable; try again in a moment", retry_after=5) from None
        contacts = found.contacts if found is not None else ()
    now = now_of(deps)
    with deps.uow() as uow:
        subscription = current_subscription(uow.subscriptions.for_account(account_id))
        if subscription is None:
            raise NotFound("this account has no subscription")
        catalogue = uow.plans.catalogue()
        preview_change(subscription, target, catalogue, now)  # the same rules as a contact's change
        pending = uow.change_requests.for_account(account_id, requested_by=requester.user_id,
                                                  statuses=(RequestStatus.PENDING,))
        if len(pending) >= MAX_PENDING_PER_MEMBER:
            raise FailedPrecondition("You already have a pending request. Withdraw it to ask for another change.",
                                     field="change_request_id")
        request = ChangeRequest(id=str(uuid.uuid4()), account_id=account_id, subscription_id=subscription.id,
                                requester=requester, target=target, note=note, status=RequestStatus.PENDING,
                                created_at=now)
        uow.change_requests.add(request)
        for contact in contacts:
            locale = request_mails.locale_of(contact.locale)
            uow.outbox.add(request_mails.render(
                "arrived", locale, to=contact.email, reply_to=requester.email, name=contact.name,
                member_name=requester.name, member_email=requester.email,
                change=request_mails.describe(target, catalogue, locale),
                note=note or request_mails.no_note(locale), link=_link(deps)), now)
        uow.commit()
    if not contacts:
        log.info("change request not mailed: no billing contact known", account_id=account_id,
                 change_request_id=request.id)
    return request


def list_change_requests(deps: Dependencies, account_id: str, *, requested_by: str = "",
                         pending_only: bool = False, limit: int = 50) -> list[ChangeRequest]:
    """Newest first; one member's with `requested_by`."""
    require_id(account_id, "account_id")
    if requested_by:
        require_id(requested_by, "requested_by")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LISTED:
        raise InvalidArgument(f"page_size must be from 0 to {MAX_LISTED}", field="page_size")
    with deps.uow() as uow:
        return uow.change_requests.for_account(
            account_id, requested_by=requested_by or None,
            statuses=(RequestStatus.PENDING,) if pending_only else (), limit=limit or 50)


def get_change_request(deps: Dependencies, account_id: str, request_id: str) -> ChangeRequest:
    with deps.uow() as uow:
        return _get(uow, account_id, request_id)


def withdraw(deps: Dependencies, account_id: str, request_id: str, requested_by: str) -> ChangeRequest:
    """The asking member takes a pending request back; another member's is NotFound."""
    require_id(requested_by, "requested_by")
    with deps.uow() as uow:
        request = _get(uow, account_id, request_id, for_update=True)
        if request.requester.user_id != requested_by:
            raise NotFound("no such change request")
        if request.status is RequestStatus.WITHDRAWN:
            return request  # a double submit
        request = request.withdrawn(requested_by, now_of(deps))
        uow.change_requests.update(request)
        uow.commit()
    return request


def decline(deps: Dependencies, account_id: str, request_id: str, decided_by: str, reason: str) -> ChangeRequest:
    """A billing contact declines a pending request with a reason; the member is mailed it."""
    require_id(decided_by, "decided_by")
    reason = _text(reason, "reason", MAX_NOTE, required=True, multiline=True)
    now = now_of(deps)
    with deps.uow() as uow:
        request = _get(uow, account_id, request_id, for_update=True)
        if request.status is RequestStatus.DECLINED:
            return request  # a double submit: one mail
        request = request.declined(decided_by, now, reason)
        uow.change_requests.update(request)
        locale = request.requester.locale
        uow.outbox.add(request_mails.render(
            "declined", locale, to=request.requester.email, name=request.requester.name,
            change=request_mails.describe(request.target, uow.plans.catalogue(), locale), reason=reason,
            link=deps.billing_center_url), now)
        uow.commit()
    return request


def approve(deps: Dependencies, account_id: str, request_id: str, decided_by: str, idempotency_key: str
            ) -> tuple[ChangeRequest, Outcome]:
    """Applies a pending request as ApplyChange would now (see the module's docstring) and
    mails the member. Raises what apply_change raises (PaymentDeclined: nothing changed, the
    request still pending); an approved request answers its outcome again."""
    require_id(decided_by, "decided_by")
    check_idempotency_key(idempotency_key)
    with deps.uow() as uow:
        request = _get(uow, account_id, request_id, for_update=True)
        if request.status is RequestStatus.APPROVED:
            return request, _approved_outcome(uow, request)
        request = request.approving(idempotency_key, decided_by)
        uow.change_requests.update(request)
        subscription = current_subscription(uow.subscriptions.for_account(account_id))
        uow.commit()
    key = request.approval_key or idempotency_key
    if subscription is None:  # pragma: no cover - a request needs a subscription to be made
        raise NotFound("this account has no subscription")
    target = request.target
    try:
        outcome = subscriptions.apply_change(deps, account_id, subscription.id, target.plan_code, target.seats,
                                             target.interval, key)
    except DomainError:
        _release(deps, account_id, request_id, key)
        raise
    if outcome.result is Result.PAYMENT_PENDING:
        return request, outcome
    now = now_of(deps)
    with deps.uow() as uow:
        request = _get(uow, account_id, request_id, for_update=True)
        if not request.is_pending:
            return request, outcome  # finished when its charge settled, or by a parallel approval
        scheduled = outcome.result is Result.SCHEDULED
        request = request.approved(decided_by, now, outcome.invoice.id if outcome.invoice else None, scheduled)
        uow.change_requests.update(request)
        locale = request.requester.locale
        effective: dt.datetime | None = outcome.subscription.current_period_end if scheduled else None
        uow.outbox.add(request_mails.render(
            "approved", locale, to=request.requester.email, name=request.requester.name,
            change=request_mails.describe(target, uow.plans.catalogue(), locale),
            effect=request_mails.effect(locale, effective)), now)
        uow.commit()
    return request, outcome


def _release(deps: Dependencies, account_id: str, request_id: str, key: str) -> None:
    """After a refused approval: its key is dropped unless a charge under it may still go
    through (pending or unknown), so the next approval is a new attempt."""
    with deps.uow() as uow:
        request = _get(uow, account_id, request_id, for_update=True)
        payment = uow.payments.by_key(account_id, key)
        if request.approval_key == key and (payment is None or not payment.in_flight):
            uow.change_requests.update(request.approval_failed())
            uow.commit()


def _approved_outcome(uow: UnitOfWork, request: ChangeRequest) -> Outcome:
    subscription = current_subscription(uow.subscriptions.for_account(request.account_id))
    assert subscription is not None
    invoice = uow.invoices.get(request.account_id, request.invoice_id) if request.invoice_id else None
    return Outcome(Result.SCHEDULED if request.scheduled else Result.APPLIED, subscription, None, invoice)
