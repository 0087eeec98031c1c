"""Finishing a member's change request once the charge of its approval has succeeded, in the
transaction that settles the charge.

Why here and not only in change_requests.approve: an approval whose answer was lost (S20)
leaves the request pending with its key; when the reconciler later settles that charge the
change is applied, and the request must say so and the member be mailed, without waiting
for a contact to approve again. subscriptions.settle calls this for every successful change
charge (the approval's own path, a replay and the reconciler alike), so exactly one of them
finishes the request, in the same transaction as the change and its invoice, with one mail
through the outbox.
"""
from __future__ import annotations

import datetime as dt

from services.online_billing.domain.requests import ChangeRequest, RequestStatus
from services.online_billing.service_layer import request_mails
from services.online_billing.service_layer.ports import UnitOfWork


def finish_paid_approvals(uow: UnitOfWork, account_id: str, idempotency_key: str, invoice_id: str,
                          now: dt.datetime) -> list[ChangeRequest]:
    """Marks approved the account's pending requests whose approval charged under this key
    (at most one: a member has one pending request, and a key is one approval) and writes the
    member's mail. Returns what it finished."""
    finished = []
    for request in uow.change_requests.for_account(account_id, statuses=(RequestStatus.PENDING,)):
        if request.approval_key != idempotency_key:
            continue
        request = request.approved(request.decided_by or "", now, invoice_id, scheduled=False)
        uow.change_requests.update(request)
        locale = request.requester.locale
        uow.outbox.add(request_mails.render(
            "approved", locale, to=request.requester.email, name=request.requester.name,
            change=request_mails.describe(request.target, uow.plans.catalogue(), locale),
            effect=request_mails.effect(locale, None)), now)
        finished.append(request)
    return finished
