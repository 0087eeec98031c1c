"""The help topics: one page each at /help/<slug>, the seed article's "Related topics".

A topic belongs to the door whose people ask it: the Billing Center's are about online accounts
(plans, cards, invoices of a subscription), the Enterprise portal's about corporate accounts, and
the shared ones are asked at both doors (either kind of account, members too). A door serves its
own and the shared topics; asked for the other door's, it sends the reader there, so a link or a
bookmark never breaks. Each topic's text is the template `help/<slug>.html`, looked up like any
template (the door's own folder first, then web/common's): a door's topics live with the door.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from web.common.portals import BILLING_CENTER, ENTERPRISE

BOTH = frozenset({BILLING_CENTER, ENTERPRISE})
ONLINE = frozenset({BILLING_CENTER})
CORPORATE = frozenset({ENTERPRISE})


@dataclass(frozen=True)
class HelpTopic:
    slug: str
    title: Any  # a lazy string: translated at render time
    doors: frozenset[int]

    @property
    def template(self) -> str:
        return f"help/{self.slug}.html"

    def served_by(self, portal: int) -> bool:
        return portal in self.doors


# In the seed's order. "contact" is taken (/help/contact, Customer Care): no slug may be it.
TOPICS: tuple[HelpTopic, ...] = (
    HelpTopic("payment-and-billing-faq", _l("Payment and billing FAQ"), BOTH),
    HelpTopic("change-your-subscription-plan", _l("Change your subscription plan"), ONLINE),
    HelpTopic("change-your-payment-method", _l("Change your payment method"), ONLINE),
    HelpTopic("view-your-invoice-history", _l("View your invoice history"), ONLINE),
    HelpTopic("reactivate-your-subscription-plan", _l("Reactivate your subscription plan"), ONLINE),
    HelpTopic("who-is-my-billing-contact", _l("Who is my account's billing contact?"), BOTH),
    HelpTopic("online-and-corporate-accounts",
              _l("What is the difference between online and corporate accounts?"), BOTH),
    HelpTopic("why-cant-i-change-my-plan-online",
              _l("Why can't I change my subscription plan or billing information online?"), BOTH),
    HelpTopic("make-an-online-payment",
              _l("How do I make an online payment through the Enterprise Billing Portal?"), CORPORATE),
)
BY_SLUG = {topic.slug: topic for topic in TOPICS}


def find(slug: str) -> HelpTopic | None:
    return BY_SLUG.get(slug)


def for_door(portal: int) -> list[HelpTopic]:
    """The topics this door serves, in the seed's order."""
    return [topic for topic in TOPICS if topic.served_by(portal)]


def elsewhere(portal: int) -> list[HelpTopic]:
    """The topics only the other door serves."""
    return [topic for topic in TOPICS if not topic.served_by(portal)]
