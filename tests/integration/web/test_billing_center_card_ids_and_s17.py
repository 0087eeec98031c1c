"""Found by this audit's form fuzz and reading: making a card the default is a change of
payment method, so after 15 minutes it asks for the password first (S17) and changes nothing,
as adding and removing do (past due, it also charges the new default at once); and a card id or
change request id that is not a UUID (a card number typed into the hidden field or the URL) is
refused by the web tier before any call, so it never travels to online_billing (S18)."""
from __future__ import annotations

import re

from tests.integration.web.billing_center_world import BillingWorld, bc_world  # noqa: F401
from tests.pages import text_of
from tests.unit.web.helpers import hidden, text

SET_DEFAULT = "/billing.online_billing.v1.OnlineBillingService/SetDefaultPaymentMethod"


def _cards(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    page = text(client.get("/payment-methods"))
    return page, re.findall(r'name="payment_method_id" value="([^"]+)"', page)


def test_making_a_card_the_default_after_15_minutes_asks_for_the_password_and_changes_nothing(
        bc_world: BillingWorld) -> None:  # noqa: F811
    client = bc_world.signed_in()
    assert client.post("/payment-methods/add", data={
        "csrf_token": hidden(text(client.get("/payment-methods/add")), "csrf_token"), "holder_name": "Olivia",
        "number": "5555 5555 5555 4444", "exp_month": "12", "exp_year": "2031", "cvc": "123"}).status_code == 302
    page, ids = _cards(client)
    default = text_of(page, "default-card")
    bc_world.age_sessions(16)
    other = [i for i in ids if i][-1]
    asked = client.post("/payment-methods/default", data={"csrf_token": hidden(page, "csrf_token"),
                                                           "payment_method_id": other})
    assert asked.status_code == 302 and "/confirm-password" in asked.headers["Location"]
    assert text_of(text(client.get("/payment-methods")), "default-card") == default
    assert [m for m in bc_world.grpc.of(SET_DEFAULT) if m.kind == "request"] == []


def test_ids_that_are_not_uuids_are_refused_before_any_call(bc_world: BillingWorld) -> None:  # noqa: F811
    client = bc_world.signed_in()
    page, _ = _cards(client)
    for bad in ("4242424242424242", "4000 0000 0000 0341", "x"):
        refused = client.post("/payment-methods/default", data={"csrf_token": hidden(page, "csrf_token"),
                                                                "payment_method_id": bad})
        assert refused.status_code == 400
        assert client.get(f"/requests/{bad}").status_code == 404
    assert [m for m in bc_world.grpc.of(SET_DEFAULT) if m.kind == "request"] == []
    assert bc_world.grpc.of("/billing.online_billing.v1.OnlineBillingService/GetChangeRequest") == []
