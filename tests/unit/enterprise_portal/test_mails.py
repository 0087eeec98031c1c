"""Who receives which enterprise mail, in which language (service_layer.mails), over fakes:
the contacts and/or the rep by event, one mail per language, the quote's own rep, and identity
down failing the expansion (the outbox retries it) rather than losing the mail."""
from __future__ import annotations

import datetime as dt

import pytest

from billing_common.billing_contacts import AccountContacts, BillingContact, ContactsUnavailable, FakeBillingContacts
from billing_common.clock import FakeClock
from billing_common.money import Money
from services.enterprise_portal.adapters.memory import InMemoryUnitOfWork
from services.enterprise_portal.domain.purchase_orders import PoNotice, PoProblem, PurchaseOrder
from services.enterprise_portal.service_layer import mails
from services.enterprise_portal.service_layer.dependencies import Dependencies

ANA = BillingContact("user-ana", "Ana Souza", "ana@globex.example", "pt-BR")
BOB = BillingContact("user-bob", "Bob Finance", "bob@globex.example", "en")
RITA = BillingContact("user-rita", "Rita Rep", "rita@vendor.example", "en")
RUI = BillingContact("user-rui", "Rui Rep", "rui@vendor.example", "pt-BR")
PEOPLE = AccountContacts("acct-globex", "en", (ANA, BOB), (RITA, RUI))
URL = "https://portal.example"


def _addressed(mail: mails.EnterpriseMail, people: AccountContacts | None = PEOPLE
               ) -> list[tuple[tuple[str, ...], str]]:
    return [(m.to, m.subject) for m in mails.compose(mail, people, URL)]


def _po(number: str = "PO-1") -> PurchaseOrder:
    return PurchaseOrder("po-1", "acct-globex", number, Money(100_000, "USD"), dt.date(2027, 1, 1),
                         dt.date(2027, 2, 14), invoiced=Money(85_000, "USD"))


def test_a_po_notice_goes_to_every_contact_and_rep_each_in_their_language() -> None:
    assert _addressed(mails.po_notice(_po(), PoNotice.MOSTLY_USED)) == [
        (("bob@globex.example", "rita@vendor.example"), "Purchase order PO-1 is 80% used"),
        (("ana@globex.example", "rui@vendor.example"), "O pedido de compra PO-1 está 80% utilizado")]
    [english, portuguese] = mails.compose(mails.po_notice(_po(), PoNotice.EXPIRES_SOON), PEOPLE, URL)
    assert english.body == ("Purchase order PO-1 expires on February 14, 2027; $150.00 remains. Invoices issued "
                            "after that day are flagged.\nhttps://portal.example/purchase-orders\n")
    assert portuguese.body == ("O pedido de compra PO-1 vence em 14 de fevereiro de 2027; restam US$\xa0150,00. "
                               "Faturas emitidas depois disso são sinalizadas.\nhttps://portal.example/purchase-orders\n")


def test_a_flag_goes_to_contacts_and_rep_a_receipt_to_the_contacts_alone() -> None:
    flag = mails.po_flag("acct-globex", "EP-2027-000009", Money(5_000, "USD"), None, PoProblem.NONE_GIVEN)
    assert [to for to, _ in _addressed(flag)] == [("bob@globex.example", "rita@vendor.example"),
                                                  ("ana@globex.example", "rui@vendor.example")]
    receipt = mails.receipt("acct-globex", Money(5_000, "USD"), "ch_1", [("inv-1", "EP-2027-000009",
                                                                          Money(5_000, "USD"))], Money(0, "USD"))
    assert _addressed(receipt) == [(("bob@globex.example",), "Payment received: $50.00"),
                                   (("ana@globex.example",), "Pagamento recebido: US$\xa050,00")]


def test_a_quote_event_goes_to_the_quotes_own_rep_when_identity_still_lists_them() -> None:
    def event(audience: str, rep_user_id: str = "user-rui") -> mails.EnterpriseMail:
        return mails.quote_event("acct-globex", mails.QUOTE_DECLINED, audience, rep_user_id=rep_user_id,
                                 rep_email="old@vendor.example", quote_number="QT-0001", label="QT-0001-1",
                                 author="Ana", reason="Budget")
    assert _addressed(event(mails.REP)) == [(("rui@vendor.example",), "A cotação QT-0001-1 foi recusada")]
    # Reassigned: the account's current reps; identity lists none: the address kept on the quote.
    assert [to for to, _ in _addressed(event(mails.REP, "user-gone"))] == [
        ("rita@vendor.example",), ("rui@vendor.example",)]
    assert _addressed(event(mails.REP), AccountContacts("acct-globex", "pt-BR", (ANA,))) == [
        (("old@vendor.example",), "A cotação QT-0001-1 foi recusada")]
    assert [to for to, _ in _addressed(event(mails.CONTACTS))] == [("bob@globex.example",), ("ana@globex.example",)]


def test_a_person_on_both_lists_gets_one_mail_and_nobody_to_mail_is_no_mail() -> None:
    both = AccountContacts("acct-globex", "en", (ANA,), (BillingContact("user-ana", "Ana", "ANA@globex.example",
                                                                       "pt-BR"),))
    assert _addressed(mails.po_notice(_po(), PoNotice.MOSTLY_USED), both) == [
        (("ana@globex.example",), "O pedido de compra PO-1 está 80% utilizado")]
    assert _addressed(mails.po_notice(_po(), PoNotice.MOSTLY_USED), None) == []


def test_mails_are_written_deferred_and_identity_down_fails_the_expansion_to_retry_later() -> None:
    uow = InMemoryUnitOfWork()
    people = FakeBillingContacts({"acct-globex": PEOPLE})
    deps = Dependencies(uow=lambda: uow, clock=FakeClock(), contacts=people, portal_url=URL)
    with uow:
        mails.write(uow, [mails.po_notice(_po(), PoNotice.MOSTLY_USED)], dt.datetime(2027, 1, 15, tzinfo=dt.UTC))
        uow.commit()
    [written] = uow.data.mails
    assert (written.to, written.body) == ((), "") and written.deferred
    people.down = True
    with pytest.raises(ContactsUnavailable):
        mails.expander(deps)([written.deferred])
    people.down = False
    [[english, portuguese]] = mails.expander(deps)([written.deferred])
    assert (english.to, portuguese.to) == (("bob@globex.example", "rita@vendor.example"),
                                           ("ana@globex.example", "rui@vendor.example"))
