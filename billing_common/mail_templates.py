"""Fixed mail templates in English and Brazilian Portuguese, shared by every service that mails.

A service keeps its templates as {kind: {locale: (subject, body)}} (str.format placeholders) and
renders them with `render`: the recipient's locale chooses (pt-BR, else English). What people
typed only ever fills a placeholder of the body, never a header other than Reply-To (an address
validated beforehand). Identity's mails and online_billing's use it.
"""
from __future__ import annotations

from collections.abc import Mapping

from billing_common.outbox import OutgoingMail

LOCALES = ("en", "pt-BR")

Templates = Mapping[str, Mapping[str, tuple[str, str]]]


def locale_of(locale: str) -> str:
    """The template language for a BCP 47 tag: pt-BR, else English."""
    return "pt-BR" if locale == "pt-BR" else "en"


def render(templates: Templates, kind: str, locale: str, values: Mapping[str, object], *,
           to: tuple[str, ...] | str, reply_to: str | None = None, attachment: str | None = None) -> OutgoingMail:
    """The mail of `kind` in `locale` (English when the template has no such language), its
    placeholders filled from `values`."""
    by_locale = templates[kind]
    subject, body = by_locale.get(locale_of(locale)) or by_locale["en"]
    return OutgoingMail(to=(to,) if isinstance(to, str) else tuple(to), subject=subject.format(**values),
                        body=body.format(**values), reply_to=reply_to, attachment=attachment)
