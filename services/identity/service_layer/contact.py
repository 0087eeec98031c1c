"""The contact forms: a member mails their billing administrator; anyone mails Customer Care.

Both send fixed templates to addresses we choose, never free-form mail to an address the
caller gives (no open relay), and both are rate limited.
"""
from __future__ import annotations

from billing_common import limits
from billing_common.clock import utc
from billing_common.errors import FailedPrecondition
from billing_common.limits import MAX_MESSAGE, MAX_NOTE, MAX_SUBJECT
from services.identity.domain.model import Portal, Role, validate_email, validate_text
from services.identity.service_layer import keys, messages, throttle
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.sessions import validate_session


def contact_billing_administrator(deps: Dependencies, session_token: str, portal: Portal, note: str = "") -> int:
    """Mails every billing contact of a member's account from a fixed template (the seed's
    "Send email to billing administrator"), Reply-To the member. Returns how many were mailed."""
    signed_in = validate_session(deps, session_token, portal)
    principal = signed_in.principal
    if principal.role is not Role.MEMBER or principal.account is None:
        raise FailedPrecondition("Only members who are not billing contacts send this message.")
    note = validate_text(note, "note", max_length=MAX_NOTE, required=False, multiline=True)
    member = principal.user
    key = keys.contact_admin_by_user(member.id)
    wait = throttle.hourly_limit(deps, key, deps.settings.contact_admin_per_user)
    if wait > 0:
        raise throttle.too_many(wait)
    now = deps.clock.now()
    with deps.uow() as uow:
        contacts = uow.memberships.users_with_role(principal.account.id, Role.BILLING_CONTACT)
        if not contacts:
            raise FailedPrecondition("Your account has no billing contact yet. Please contact Customer Care.")
        for contact in contacts:
            uow.outbox.add(
                messages.render(
                    "contact_billing_administrator", contact.locale, to=contact.email, reply_to=member.email,
                    name=contact.name, member_name=member.name, member_email=member.email,
                    account=principal.account.name, note=note or messages.no_note(contact.locale),
                ),
                utc(now),
            )
        uow.audit.record(utc(now), member.id, "billing_administrator.contacted", user_id=member.id,
                         account_id=principal.account.id, details={"recipients": len(contacts)})
        uow.commit()
    deps.store.record_event(key, now, deps.settings.rate_window)
    return len(contacts)


def contact_customer_care(
    deps: Dependencies, name: str, email: str, subject: str, message: str, portal: Portal,
    client_address: str = "",
) -> None:
    """Mails the configured Customer Care address (works signed out), Reply-To the sender."""
    name = validate_text(name, "name", max_length=limits.MAX_NAME)
    email = validate_email(email)
    subject = validate_text(subject, "subject", max_length=MAX_SUBJECT)
    message = validate_text(message, "message", max_length=MAX_MESSAGE, multiline=True)
    key = keys.customer_care_by_address(throttle.address_group(client_address))
    wait = throttle.hourly_limit(deps, key, deps.settings.customer_care_per_address)
    if wait > 0:
        raise throttle.too_many(wait)
    now = deps.clock.now()
    portal_name = "Enterprise Billing Portal" if portal is Portal.ENTERPRISE else "Billing Center"
    with deps.uow() as uow:
        uow.outbox.add(
            messages.render(
                "customer_care", "en", to=deps.settings.support_email, reply_to=email, subject=subject,
                portal=portal_name, sender_name=name, sender_email=email, message=message,
            ),
            utc(now),
        )
        uow.commit()
    deps.store.record_event(key, now, deps.settings.rate_window)
