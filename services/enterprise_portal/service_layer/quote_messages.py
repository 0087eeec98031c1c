"""The mails of the quote use cases, in English and Brazilian Portuguese.

The recipient's locale chooses (pt-BR, else English). Person-supplied text (a comment, a
decline reason, a PO number) only ever fills a placeholder of the body, never a header.
"""
from __future__ import annotations

from billing_common.outbox import OutgoingMail

_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "quote_sent": {
        "en": ("Quote {label} is ready for you",
               "Hello,\n\nYour representative sent you quote {label}, for {total}, valid until {valid_until}\n"
               "on {terms} terms. Open it in the Enterprise Billing Portal to accept it, decline it or\n"
               "ask for changes.\n"),
        "pt-BR": ("A cotação {label} está pronta para você",
                  "Olá,\n\nSeu representante enviou a cotação {label}, no valor de {total}, válida até\n"
                  "{valid_until}, com condições {terms}. Abra-a no Portal de Cobrança Empresarial para aceitá-la,\n"
                  "recusá-la ou pedir alterações.\n"),
    },
    "quote_comment": {
        "en": ("New comment on quote {label}",
               "Hello,\n\n{author} wrote on quote {label}:\n\n{body}\n"),
        "pt-BR": ("Novo comentário na cotação {label}",
                  "Olá,\n\n{author} escreveu na cotação {label}:\n\n{body}\n"),
    },
    "quote_change_request": {
        "en": ("Changes requested on quote {label}",
               "Hello,\n\n{author} asks for changes to quote {label}:\n\n{body}\n\n"
               "Answer with a new version from the rep console.\n"),
        "pt-BR": ("Alterações pedidas na cotação {label}",
                  "Olá,\n\n{author} pede alterações na cotação {label}:\n\n{body}\n\n"
                  "Responda com uma nova versão pelo console do representante.\n"),
    },
    "quote_accepted": {
        "en": ("Quote {label} was accepted",
               "Hello,\n\n{author} accepted quote {label} for {total} with purchase order {po_number}.\n"
               "Payment terms: {terms}. Invoices: {invoices}.\n"),
        "pt-BR": ("A cotação {label} foi aceita",
                  "Olá,\n\n{author} aceitou a cotação {label} no valor de {total} com o pedido de compra\n"
                  "{po_number}. Condições de pagamento: {terms}. Faturas: {invoices}.\n"),
    },
    "quote_declined": {
        "en": ("Quote {label} was declined",
               "Hello,\n\n{author} declined quote {label}. Their reason:\n\n{reason}\n"),
        "pt-BR": ("A cotação {label} foi recusada",
                  "Olá,\n\n{author} recusou a cotação {label}. Motivo:\n\n{reason}\n"),
    },
}

_NONE_YET = {"en": "none yet", "pt-BR": "nenhuma ainda"}


def locale_of(locale: str) -> str:
    return "pt-BR" if locale == "pt-BR" else "en"


def none_yet(locale: str) -> str:
    return _NONE_YET[locale_of(locale)]


def render(kind: str, locale: str, *, to: str, **values: object) -> OutgoingMail:
    subject, body = _TEMPLATES[kind][locale_of(locale)]
    return OutgoingMail(to=(to,), subject=subject.format(**values), body=body.format(**values))
