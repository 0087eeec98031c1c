"""Billing contacts in Chromium, against the whole stack as `make run` starts it: a contact adds
another, who creates their password from the mailed link (read from the Maildir) and signs in;
a handover proposed by one contact is approved by another, and one by the account's rep in the
rep console.

Each test provisions an enterprise account of its own (as an operator command does), so the
demo accounts the other browser tests read are left as they are.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.grpc_client import make_channel
from billing_common.mail import read_maildir
from billing_common.service_auth import OPERATOR
from tests.e2e.test_portals_in_a_browser import body, sign_in
from tests.pages import table_rows, text_of, texts_of_class

PASSWORD = "Contacts-e2e-2026!"


@dataclass
class Account:
    account_id: str
    name: str
    tag: str
    ap_login: str
    ops_login: str
    rep_login: str


@pytest.fixture
def account(stack) -> Account:  # type: ignore[no-untyped-def]
    """An enterprise account with two contacts who have passwords, and a rep of its own."""
    tag = uuid.uuid4().hex[:8]
    channel = make_channel(stack.identity_target, credentials=stack.credentials(OPERATOR), default_timeout=10)
    try:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        created = stub.CreateAccount(pb.CreateAccountRequest(
            name=f"Umbrella {tag}", kind=pb.ACCOUNT_KIND_ENTERPRISE, currency="USD", locale="en")).account

        def user(login: str, name: str, staff: bool = False) -> str:
            user_id = stub.CreateUser(pb.CreateUserRequest(
                login=login, email=f"{login}@umbrella.test" if "@" not in login else login, name=name,
                locale="en", password=PASSWORD, staff=staff)).user_id
            if not staff:
                stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=created.account_id,
                                                           role=pb.ROLE_BILLING_CONTACT))
            return user_id

        user(f"ap-{tag}", "Umbrella AP")
        user(f"ops-{tag}", "Umbrella Ops")
        rep_id = user(f"rep-{tag}", "Rory Rep", staff=True)
        stub.AssignRep(pb.AssignRepRequest(rep_user_id=rep_id, account_id=created.account_id))
    finally:
        channel.close()
    return Account(created.account_id, created.name, tag, f"ap-{tag}", f"ops-{tag}", f"rep-{tag}")


def _mail(stack, address: str, subject: str, after: float, timeout: float = 15):  # type: ignore[no-untyped-def]
    """The message to `address` with this subject, written after `after` (several go to one person)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in read_maildir(stack.maildir, 100):
            if address in msg["To"] and msg["Subject"] == subject and msg["Date"].datetime.timestamp() >= after - 1:
                return msg
        time.sleep(0.3)
    raise AssertionError(f"no mail {subject!r} to {address}")


def _contacts_page(page, stack, account: Account) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.enterprise}/accounts/{account.account_id}/contacts")
    page.wait_for_load_state()


def _names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [row[0] for row in table_rows(page.content(), "contacts")]


def test_a_contact_adds_another_who_creates_a_password_from_the_mail_and_signs_in(page, stack, account):
    sign_in(page, stack.enterprise, account.ap_login, PASSWORD)
    page.click("#nav-manage-contacts")
    page.wait_for_load_state()
    assert text_of(page.content(), "page-title") == "Billing contacts"
    assert _names(page) == ["Umbrella AP", "Umbrella Ops"]

    dana = f"dana-{account.tag}@umbrella.test"
    started = time.time()
    page.fill("#add-name", "Dana New")
    page.fill("#add-email", dana)
    page.click("#add-contact-button")
    page.wait_for_load_state()
    assert text_of(page.content(), "flash-1") == (
        "Dana New is now a billing contact. We mailed them a link to create their password.")
    assert _names(page) == ["Dana New", "Umbrella AP", "Umbrella Ops"]
    assert table_rows(page.content(), "contacts")[0][4] == "Has not created a password yet"

    welcome = _mail(stack, dana, "Create your password for the Enterprise Billing Portal", started)
    link = re.search(r"^(http\S+/reset/\S+)$", body(welcome), re.M).group(1)
    assert link.startswith(stack.enterprise)
    notice = _mail(stack, f"{account.ops_login}@umbrella.test", f"The billing contacts of {account.name} changed",
                   started)
    assert body(notice).splitlines()[2] == f"Umbrella AP added Dana New ({dana}) as a billing contact."

    other = page.context.browser.new_context(locale="en-US").new_page()
    try:
        other.goto(link)
        other.fill("input[name=new_password]", "Dana-first-2026!")
        other.fill("input[name=confirm_password]", "Dana-first-2026!")
        other.locator("form:has(input[name=new_password]) button[type=submit]").click()
        other.wait_for_load_state()
        assert text_of(other.content(), "reset-done") == "Your password is set. You can now sign in."
        sign_in(other, stack.enterprise, dana, "Dana-first-2026!")
        assert text_of(other.content(), "user-name") == "Dana New"
        assert text_of(other.content(), "account-name") == account.name
    finally:
        other.context.close()


def _propose(page, stack, account: Account, replaced: str, new_login: str) -> None:  # type: ignore[no-untyped-def]
    _contacts_page(page, stack, account)
    page.select_option("#handover-replaced_user_id", label=replaced)
    page.fill("#handover-name", "Hana Handover")
    page.fill("#handover-email", new_login)
    page.click("#propose-handover-button")
    page.wait_for_load_state()
    assert text_of(page.content(), "flash-1") == (
        "The handover was proposed. It applies once another billing contact or your representative approves it.")


def test_a_handover_proposed_by_one_contact_is_approved_by_another(page, browser, stack, account):
    hana = f"hana-{account.tag}@umbrella.test"
    sign_in(page, stack.enterprise, account.ap_login, PASSWORD)
    started = time.time()
    _propose(page, stack, account, "Umbrella AP", hana)
    assert text_of(page.content(), "decline-1") == "Withdraw" and text_of(page.content(), "approve-1") is None

    ops = browser.new_context(locale="en-US").new_page()
    try:
        sign_in(ops, stack.enterprise, account.ops_login, PASSWORD)
        _contacts_page(ops, stack, account)
        assert texts_of_class(ops.content(), "handover-text")[0].startswith(
            "Umbrella AP proposes that Hana Handover (" + hana + ") replace Umbrella AP, until ")
        ops.click("#approve-1")
        ops.wait_for_load_state()
        assert text_of(ops.content(), "flash-1") == "The handover was approved."
        assert _names(ops) == ["Hana Handover", "Umbrella Ops"]
    finally:
        ops.context.close()
    assert "/reset/" in body(_mail(stack, hana, "Create your password for the Enterprise Billing Portal", started))
    # Umbrella AP was replaced: their next page asks them to sign in.
    _contacts_page(page, stack, account)
    assert "/sign-in" in page.url


def test_a_handover_is_approved_by_the_rep_in_the_rep_console(page, browser, stack, account):
    hana = f"hana-{account.tag}@umbrella.test"
    sign_in(page, stack.enterprise, account.ap_login, PASSWORD)
    _propose(page, stack, account, "Umbrella Ops", hana)

    rep = browser.new_context(locale="en-US").new_page()
    try:
        sign_in(rep, stack.enterprise, account.rep_login, PASSWORD)
        (waiting,) = texts_of_class(rep.content(), "handover-text")
        assert re.fullmatch(rf"{re.escape(account.name)}: Umbrella AP proposes that Hana Handover "
                            rf"\({re.escape(hana)}\) replace Umbrella Ops, until \w+ \d+, \d{{4}}\.", waiting), waiting
        rep.click("#rep-approve-1")
        rep.wait_for_load_state()
        assert text_of(rep.content(), "flash-1") == "The handover was approved."
        assert text_of(rep.content(), "no-rep-handovers") == "No handover is waiting for your approval."
        rep.click("#account-contacts-1")
        rep.wait_for_load_state()
        assert _names(rep) == ["Hana Handover", "Umbrella AP"]
    finally:
        rep.context.close()
