"""A member of an enterprise account who reaches the Billing Center (issue 8, S14): no change
control anywhere (every billing page and change is 403, nothing changes), the seed's answer to
"Why can't I change my subscription plan or billing information online?" linked from their
page, and that answer sends them to the Enterprise Billing Portal and their representative."""
from __future__ import annotations

import re

from tests.integration.web.billing_center_world import BillingWorld, bc_world  # noqa: F401
from tests.pages import attr_of, text_of
from tests.unit.web.helpers import csrf_from, text

ERIN = ("erin@globex.test", "Member-demo-2026!")
WHY = "Why can't I change my subscription plan or billing information online?"


def test_an_enterprise_member_sees_no_change_control_and_is_told_where_to_go(bc_world: BillingWorld) -> None:  # noqa: F811
    erin = bc_world.signed_in(*ERIN)
    page = text(erin.get("/"))
    for control in ("change-request-form", "nav-subscription", "nav-payment-methods", "nav-invoices",
                    "nav-requests", "change-subscription", "add-card", "cancel-form"):
        assert f'id="{control}"' not in page, control
    assert text_of(page, "where") == "You are signed in to the Billing Center for the account Globex Corporation."
    assert text_of(page, "help-why-not-online") == WHY
    link = attr_of(page, "help-why-not-online", "href")
    assert link == "/help/why-cant-i-change-my-plan-online"
    for path in ("/subscription", "/subscription/change", "/payment-methods", "/payment-methods/add", "/invoices",
                 "/billing-profile", "/requests"):
        assert erin.get(path).status_code == 403, path
    token = csrf_from(page)
    for action, data in (("/subscription/cancel", {"reason": ""}), ("/subscription/change/preview", {
            "plan_code": "business", "seats": "20", "interval": "monthly"}), ("/payment-methods/default", {
            "payment_method_id": "x"}), ("/billing-profile", {"company_name": "Mine"}), ("/requests", {
            "request-plan_code": "business", "request-seats": "20", "request-interval": "monthly"})):
        assert erin.post(action, data={"csrf_token": token, "request-csrf_token": token, **data}).status_code == 403, \
            action
    answer = text(erin.get(link))
    assert text_of(answer, "page-title") == WHY
    assert text_of(answer, "why-corporate") == "Your account is a corporate account"
    prose = " ".join(re.sub(r"<[^>]+>", " ", answer).split())  # the section's paragraphs have no ids
    assert "Their billing contacts change the plan or the billing information there, not in the Billing Center." \
        in prose and "ask your representative for a quote; you accept it in the Enterprise Billing Portal" in prose
