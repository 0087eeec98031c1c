"""enterprise_portal's mails (PO notices and flags, payment receipts, quote events), each
recipient in their own language (en or pt-BR), rendered by billing_common.mail_templates as
online_billing's are.

Who gets them: the account's billing contacts and its rep(s), which identity owns
(billing_common.billing_contacts, asked as the caller "enterprise-portal"). A use case writes an
`EnterpriseMail` (locale-neutral: amounts in minor units, ISO dates, codes, the audience) to
the outbox in its transaction, *deferred*: the outbox's `expand` hook (`expander`) asks identity
once per claimed batch and writes one mail per language in its place; while identity is down
the attempt fails and is retried with the outbox's backoff (README "Enterprise mails: whom and
in which language"). A receipt's paid invoices are attached as PDFs when the mail is sent
(`attachments`), never in the transaction that writes it.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from babel.dates import format_date

from billing_common import mail_templates
from billing_common.billing_contacts import AccountContacts, BillingContact
from billing_common.money import Money
from billing_common.outbox import Attachment, OutgoingMail
from services.enterprise_portal.domain.purchase_orders import PoNotice, PoProblem, PurchaseOrder
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import UnitOfWork

log = structlog.get_logger()

# Audiences: who of the account's people an event concerns.
CONTACTS = "contacts"
REP = "rep"
CONTACTS_AND_REP = "contacts+rep"

PO_FLAG = "po_flag"
PO_EXPIRES_SOON = "po_expires_soon"
PO_MOSTLY_USED = "po_mostly_used"
RECEIPT = "receipt"
QUOTE_SENT = "quote_sent"
QUOTE_REVISED = "quote_revised"
QUOTE_COMMENT = "quote_comment"
QUOTE_CHANGE_REQUEST = "quote_change_request"
QUOTE_ACCEPTED = "quote_accepted"
QUOTE_DECLINED = "quote_declined"

# A receipt attaches at most this many of the invoices it paid (the outbox's attachment
# reference holds 300 characters); the rest are a click away on the invoices page.
MAX_ATTACHED_INVOICES = 5

_PROBLEMS = {
    "en": {
        PoProblem.NONE_GIVEN: "it carries no purchase order",
        PoProblem.UNKNOWN: "its purchase order is not one of the account's",
        PoProblem.UPCOMING: "its purchase order is not valid yet",
        PoProblem.EXPIRED: "its purchase order has expired",
        PoProblem.EXHAUSTED: "its purchase order is used up",
        PoProblem.INSUFFICIENT: "its purchase order has not enough left",
        PoProblem.CURRENCY: "its purchase order is in another currency",
    },
    "pt-BR": {
        PoProblem.NONE_GIVEN: "ela não tem pedido de compra",
        PoProblem.UNKNOWN: "o pedido de compra não é da conta",
        PoProblem.UPCOMING: "o pedido de compra ainda não é válido",
        PoProblem.EXPIRED: "o pedido de compra expirou",
        PoProblem.EXHAUSTED: "o pedido de compra está esgotado",
        PoProblem.INSUFFICIENT: "o pedido de compra não tem saldo suficiente",
        PoProblem.CURRENCY: "o pedido de compra está em outra moeda",
    },
}

_NONE_YET = {"en": "none yet", "pt-BR": "nenhuma ainda"}
_CREDIT = {"en": "\n{credit} was kept as credit on the account.", "pt-BR": "\n{credit} ficou como crédito na conta."}
_ATTACHED = {"en": "\nThe invoices it paid are attached as PDFs.", "pt-BR": "\nAs faturas pagas seguem anexas em PDF."}

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    PO_FLAG: {
        "en": ("Invoice {number} needs a valid purchase order",
               "Invoice {number} of {total} (PO {po_number}) was issued, but {problem}.\n"
               "Please add or extend a purchase order: {po_url}\n"),
        "pt-BR": ("A fatura {number} precisa de um pedido de compra válido",
                  "A fatura {number} de {total} (pedido de compra {po_number}) foi emitida, mas {problem}.\n"
                  "Cadastre ou prorrogue um pedido de compra: {po_url}\n"),
    },
    PO_EXPIRES_SOON: {
        "en": ("Purchase order {po_number} expires on {valid_to}",
               "Purchase order {po_number} expires on {valid_to}; {remaining} remains. Invoices issued after "
               "that day are flagged.\n{po_url}\n"),
        "pt-BR": ("O pedido de compra {po_number} vence em {valid_to}",
                  "O pedido de compra {po_number} vence em {valid_to}; restam {remaining}. Faturas emitidas depois "
                  "disso são sinalizadas.\n{po_url}\n"),
    },
    PO_MOSTLY_USED: {
        "en": ("Purchase order {po_number} is 80% used",
               "{used} of purchase order {po_number} ({amount}) has been invoiced; {remaining} remains.\n{po_url}\n"),
        "pt-BR": ("O pedido de compra {po_number} está 80% utilizado",
                  "{used} do pedido de compra {po_number} ({amount}) já foi faturado; restam {remaining}.\n"
                  "{po_url}\n"),
    },
    RECEIPT: {
        "en": ("Payment received: {amount}",
               "We received your payment of {amount} (reference {reference}). It paid:\n{parts}{credit}{attached}\n"
               "Your invoices: {invoices_url}\n"),
        "pt-BR": ("Pagamento recebido: {amount}",
                  "Recebemos seu pagamento de {amount} (referência {reference}). Ele pagou:\n{parts}{credit}"
                  "{attached}\nSuas faturas: {invoices_url}\n"),
    },
    QUOTE_SENT: {
        "en": ("Quote {label} is ready for you",
               "Hello,\n\nYour representative sent you quote {label}, for {total}, valid until {valid_until}\n"
               "on {terms} terms. Open it in the Enterprise Billing Portal to accept it, decline it or\n"
               "ask for changes: {quote_url}\n"),
        "pt-BR": ("A cotação {label} está pronta para você",
                  "Olá,\n\nSeu representante enviou a cotação {label}, no valor de {total}, válida até\n"
                  "{valid_until}, com condições {terms}. Abra-a no Portal de Cobrança Empresarial para aceitá-la,\n"
                  "recusá-la ou pedir alterações: {quote_url}\n"),
    },
    QUOTE_REVISED: {
        "en": ("Quote {label}: a new version for you",
               "Hello,\n\nYour representative answered with a new version, {label}, for {total}, valid until\n"
               "{valid_until} on {terms} terms; the earlier one can no longer be accepted. Open it in the\n"
               "Enterprise Billing Portal: {quote_url}\n"),
        "pt-BR": ("Cotação {label}: uma nova versão para você",
                  "Olá,\n\nSeu representante respondeu com uma nova versão, {label}, no valor de {total}, válida\n"
                  "até {valid_until}, com condições {terms}; a anterior não pode mais ser aceita. Abra-a no\n"
                  "Portal de Cobrança Empresarial: {quote_url}\n"),
    },
    QUOTE_COMMENT: {
        "en": ("New comment on quote {label}",
               "Hello,\n\n{author} wrote on quote {label}:\n\n{body}\n"),
        "pt-BR": ("Novo comentário na cotação {label}",
                  "Olá,\n\n{author} escreveu na cotação {label}:\n\n{body}\n"),
    },
    QUOTE_CHANGE_REQUEST: {
        "en": ("Changes requested on quote {label}",
               "Hello,\n\n{author} asks for changes to quote {label}:\n\n{body}\n\n"
               "Answer with a new version from the rep console.\n"),
        "pt-BR": ("Alterações pedidas na cotação {label}",
                  "Olá,\n\n{author} pede alterações na cotação {label}:\n\n{body}\n\n"
                  "Responda com uma nova versão pelo console do representante.\n"),
    },
    QUOTE_ACCEPTED: {
        "en": ("Quote {label} was accepted",
               "Hello,\n\n{author} accepted quote {label} for {total} with purchase order {po_number}.\n"
               "Payment terms: {terms}. Invoices: {invoices}.\n"),
        "pt-BR": ("A cotação {label} foi aceita",
                  "Olá,\n\n{author} aceitou a cotação {label} no valor de {total} com o pedido de compra\n"
                  "{po_number}. Condições de pagamento: {terms}. Faturas: {invoices}.\n"),
    },
    QUOTE_DECLINED: {
        "en": ("Quote {label} was declined",
               "Hello,\n\n{author} declined quote {label}. Their reason:\n\n{reason}\n"),
        "pt-BR": ("A cotação {label} foi recusada",
                  "Olá,\n\n{author} recusou a cotação {label}. Motivo:\n\n{reason}\n"),
    },
}


@dataclass(frozen=True)
class EnterpriseMail:
    """One event to mail an account's people about, in no language yet. `values`: JSON values
    (amounts in minor units with `currency`, ISO dates, codes, what people typed); for a quote's
    event `rep_user_id`/`rep_email` name the quote's rep. `invoice_ids`: attached as PDFs."""

    account_id: str
    kind: str
    audience: str
    values: Mapping[str, Any] = field(default_factory=dict)
    invoice_ids: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"account_id": self.account_id, "kind": self.kind, "audience": self.audience,
                           "values": dict(self.values), "invoice_ids": list(self.invoice_ids)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EnterpriseMail:
        data = json.loads(text)
        return cls(data["account_id"], data["kind"], data["audience"], data["values"],
                   tuple(data.get("invoice_ids", ())))

    def deferred(self) -> OutgoingMail:
        """As written by the use case: addressed when the outbox sends it (module docstring)."""
        return OutgoingMail(to=(), subject=self.kind, body="", deferred=self.to_json())


# --- the events --------------------------------------------------------------------------------


def po_flag(account_id: str, number: str, total: Money, po_number: str | None, problem: PoProblem) -> EnterpriseMail:
    return EnterpriseMail(account_id, PO_FLAG, CONTACTS_AND_REP, {
        "number": number, "total_minor": total.amount_minor, "currency": total.currency,
        "po_number": po_number or "-", "problem": problem.value})


def po_notice(po: PurchaseOrder, notice: PoNotice) -> EnterpriseMail:
    values = {"po_number": po.number, "currency": po.currency, "remaining_minor": po.remaining().amount_minor,
              "used_minor": po.used.amount_minor, "amount_minor": po.amount.amount_minor,
              "valid_to": po.valid_to.isoformat()}
    kind = PO_EXPIRES_SOON if notice is PoNotice.EXPIRES_SOON else PO_MOSTLY_USED
    return EnterpriseMail(po.account_id, kind, CONTACTS_AND_REP, values)


def receipt(account_id: str, amount: Money, reference: str, parts: Sequence[tuple[str, str, Money]],
            credit: Money) -> EnterpriseMail:
    """`parts`: (invoice id, invoice number, amount paid) of each invoice the payment paid."""
    return EnterpriseMail(account_id, RECEIPT, CONTACTS, {
        "amount_minor": amount.amount_minor, "currency": amount.currency, "reference": reference,
        "parts": [[number, paid.amount_minor] for _, number, paid in parts], "credit_minor": credit.amount_minor},
        invoice_ids=tuple(invoice_id for invoice_id, _, _ in parts)[:MAX_ATTACHED_INVOICES])


def quote_event(account_id: str, kind: str, audience: str, *, rep_user_id: str, rep_email: str,
                **values: Any) -> EnterpriseMail:
    return EnterpriseMail(account_id, kind, audience, {**values, "rep_user_id": rep_user_id, "rep_email": rep_email})


def write(uow: UnitOfWork, mails: Sequence[EnterpriseMail], at: dt.datetime) -> None:
    """Writes the events in the unit of work's transaction, addressed when they are sent."""
    for mail in mails:
        uow.outbox.add(mail.deferred(), at)


# --- addressing and rendering ------------------------------------------------------------------


def _date(iso: str, locale: str) -> str:
    return format_date(dt.date.fromisoformat(iso), "long", locale=locale.replace("-", "_"))


def _localized(mail: EnterpriseMail, locale: str, portal_url: str) -> dict[str, object]:
    v = dict(mail.values)
    currency = str(v.get("currency", ""))

    def money(key: str) -> str:
        return Money(int(v[key]), currency).format(locale)

    out: dict[str, object] = {k: x for k, x in v.items() if isinstance(x, str)}
    for key in ("total", "remaining", "used", "amount"):
        if f"{key}_minor" in v:
            out[key] = money(f"{key}_minor")
    for key in ("valid_to", "valid_until"):
        if key in v:
            out[key] = _date(str(v[key]), locale)
    if "problem" in v:
        out["problem"] = _PROBLEMS[locale][PoProblem(v["problem"])]
    if "parts" in v:
        out["parts"] = "\n".join(f"  {number}: {Money(int(paid), currency).format(locale)}"
                                 for number, paid in v["parts"])
        credit = int(v.get("credit_minor", 0))
        out["credit"] = _CREDIT[locale].format(credit=money("credit_minor")) if credit else ""
        out["attached"] = _ATTACHED[locale] if mail.invoice_ids else ""
    if "invoices" in v:
        out["invoices"] = ", ".join(v["invoices"]) or _NONE_YET[locale]
    base = portal_url.rstrip("/")
    out.update(po_url=f"{base}/purchase-orders", invoices_url=f"{base}/invoices",
               quote_url=f"{base}/quotes/{v.get('quote_number', '')}")
    return out


def recipients(mail: EnterpriseMail, people: AccountContacts | None) -> list[BillingContact]:
    """Who of the account's people get `mail`: its contacts and/or its rep. For a quote's event
    the rep is the quote's own when identity still lists them as serving the account (with their
    language), else the account's current reps; the quote's stored address in the account's
    language when identity lists none."""
    account_locale = people.locale if people else "en"
    found: list[BillingContact] = []
    if mail.audience in (CONTACTS, CONTACTS_AND_REP) and people:
        found += people.contacts
    if mail.audience in (REP, CONTACTS_AND_REP):
        reps = list(people.reps) if people else []
        quote_rep = str(mail.values.get("rep_user_id", ""))
        own = [r for r in reps if r.user_id == quote_rep]
        if own:
            found += own
        elif reps:
            found += reps
        elif mail.values.get("rep_email"):
            found.append(BillingContact(quote_rep, "", str(mail.values["rep_email"]), account_locale))
    return found


def attachment_reference(account_id: str, invoice_ids: Sequence[str], locale: str) -> str:
    return f"invoices:{locale}:{account_id}:{','.join(invoice_ids)}"


def compose(mail: EnterpriseMail, people: AccountContacts | None, portal_url: str) -> list[OutgoingMail]:
    """The mails of one event: one per language, to its recipients who read it; an address
    listed twice (a rep who is also a contact) gets one mail. [] when nobody is to be mailed
    (logged)."""
    by_locale: dict[str, list[str]] = {}
    seen: set[str] = set()
    for person in recipients(mail, people):
        if person.email and person.email.lower() not in seen:
            seen.add(person.email.lower())
            by_locale.setdefault(mail_templates.locale_of(person.locale), []).append(person.email)
    if not by_locale:
        log.info("enterprise mail not sent: nobody to mail", account_id=mail.account_id, kind=mail.kind)
    return [mail_templates.render(
        TEMPLATES, mail.kind, locale, _localized(mail, locale, portal_url), to=tuple(addresses),
        attachment=attachment_reference(mail.account_id, mail.invoice_ids, locale) if mail.invoice_ids else None)
        for locale, addresses in sorted(by_locale.items())]


def expander(deps: Dependencies) -> Callable[[Sequence[str]], list[list[OutgoingMail]]]:
    """The outbox's hook for deferred mails: one identity call for the claimed batch
    (ContactsUnavailable fails the attempt: retried later), then `compose` each. Without an
    identity (dev and tests of other things) nobody is mailed."""

    def expand(items: Sequence[str]) -> list[list[OutgoingMail]]:
        mails = [EnterpriseMail.from_json(item) for item in items]
        ids = sorted({m.account_id for m in mails})
        people = deps.contacts.for_accounts(ids) if deps.contacts is not None else {}
        return [compose(m, people.get(m.account_id), deps.portal_url) for m in mails]

    return expand


def attachments(deps: Dependencies) -> Callable[[str], list[Attachment]]:
    """The outbox's hook for attachments: "invoices:<locale>:<account>:<id>,<id>" -> their PDFs,
    as they stand when the mail is sent (paid)."""
    from services.enterprise_portal.service_layer.invoicing import get_invoice, invoice_pdf

    def resolve(reference: str) -> list[Attachment]:
        kind, locale, account_id, ids = reference.split(":", 3)
        if kind != "invoices":
            raise ValueError(f"unknown attachment {kind!r}")
        found = []
        for invoice_id in ids.split(","):
            number = get_invoice(deps, account_id, invoice_id).invoice.number
            found.append(Attachment(f"{number}.pdf", "application/pdf",
                                    invoice_pdf(deps, account_id, invoice_id, locale)))
        return found

    return resolve
