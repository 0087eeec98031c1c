"""Each door calls the services as its own caller (billing_common.service_auth); a refused
secret is a clear 503, never a sign-in loop."""
from __future__ import annotations

from tests.pages import text_of
from tests.unit.web.helpers import sign_in

UNAVAILABLE = "The service is temporarily unavailable, try again in a few minutes."


def test_a_portal_whose_secret_the_services_refuse_answers_503_not_a_sign_in_loop(make_app, capsys):
    app = make_app("bc", CALLER_SECRET_BILLING_CENTER_WEB="a-wrong-secret-0123456789abcdef-0123456789")
    reply = sign_in(app.test_client(), "olivia@acme.test", "Online-demo-2026!")
    assert reply.status_code == 503
    assert text_of(reply.get_data(as_text=True), "error-message") == UNAVAILABLE
    assert "refused this portal's caller credentials" in capsys.readouterr().out


def test_a_door_cannot_pass_for_the_other_at_its_backend(make_app):
    # The Enterprise portal's secret, sent as the Billing Center: identity does not know it.
    from tests import callers

    app = make_app("bc", CALLER_SECRET_BILLING_CENTER_WEB=callers.SECRETS["enterprise-portal-web"])
    assert sign_in(app.test_client(), "olivia@acme.test", "Online-demo-2026!").status_code == 503


def test_each_door_signs_in_with_its_own_credentials(bc, ebp):
    assert sign_in(bc, "olivia@acme.test", "Online-demo-2026!").status_code == 302
    assert sign_in(ebp, "globex-billing", "Enterprise-demo-2026!").status_code == 302
