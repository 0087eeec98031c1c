"""Settings, the app factory (no connection before the fork) and the gunicorn configuration."""
from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from tests import callers
from tests.unit.web.helpers import sign_in
from web.billing_center import create_app as create_billing_center_app
from web.common.gunicorn_config import RedactingLogger, redact_url
from web.common.settings import PortalSettings
from web.enterprise_portal import create_app as create_enterprise_app

ROOT = Path(__file__).resolve().parents[3]


def test_prod_refuses_to_start_without_a_secret_key():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        PortalSettings(BILLING_ENV="prod")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        PortalSettings(BILLING_ENV="prod", SECRET_KEY="short")


def test_cookies_are_secure_by_default_outside_dev_and_test():
    assert PortalSettings(BILLING_ENV="prod", SECRET_KEY="k" * 40).cookie_secure is True
    assert PortalSettings(BILLING_ENV="dev").cookie_secure is False
    assert PortalSettings(BILLING_ENV="dev", COOKIE_SECURE=True).cookie_secure is True


def test_defaults_point_at_the_local_ports():
    s = PortalSettings(BILLING_ENV="dev")
    assert (s.identity_target, s.online_billing_target, s.enterprise_portal_target) == (
        "127.0.0.1:50051", "127.0.0.1:50052", "127.0.0.1:50053")
    assert (s.billing_center_url, s.enterprise_portal_url) == ("http://127.0.0.1:8080", "http://127.0.0.1:8081")
    assert s.rpc_timeout == 2.0


def test_trusted_proxies_defaults_to_none_and_is_read_from_the_environment(monkeypatch):
    assert PortalSettings(BILLING_ENV="dev").trusted_proxies == 0
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert PortalSettings(BILLING_ENV="dev").trusted_proxies == 1
    with pytest.raises(ValidationError):
        PortalSettings(BILLING_ENV="dev", TRUSTED_PROXIES=-1)


def test_a_portal_url_must_be_absolute():
    with pytest.raises(ValidationError):
        PortalSettings(BILLING_ENV="dev", ENTERPRISE_PORTAL_URL="ebp.example")


def test_a_door_is_not_built_without_its_own_caller_secret():
    for factory, variable, other in ((create_billing_center_app, "CALLER_SECRET_BILLING_CENTER_WEB",
                                      "CALLER_SECRET_ENTERPRISE_PORTAL_WEB"),
                                     (create_enterprise_app, "CALLER_SECRET_ENTERPRISE_PORTAL_WEB",
                                      "CALLER_SECRET_BILLING_CENTER_WEB")):
        # The other door's secret does not do: each door is its own caller.
        settings = PortalSettings(BILLING_ENV="test", **{other: callers.ENV[other]})
        with pytest.raises(ValueError, match=variable):
            factory(settings)


def test_prod_refuses_a_short_caller_secret_naming_the_variable():
    with pytest.raises(ValidationError, match="CALLER_SECRET_BILLING_CENTER_WEB"):
        PortalSettings(BILLING_ENV="prod", SECRET_KEY="k" * 40, CALLER_SECRET_BILLING_CENTER_WEB="short")
    with pytest.raises(ValidationError, match="CALLER_SECRET_OPERATOR"):
        PortalSettings(BILLING_ENV="dev", CALLER_SECRET_OPERATOR="has spaces in it")


def test_the_caller_secrets_never_show_in_the_settings_or_credentials_repr():
    settings = PortalSettings(BILLING_ENV="test", **callers.ENV)
    credentials = settings.credentials("billing-center-web")
    for text in (repr(settings), str(settings), repr(credentials), str(credentials)):
        assert not any(secret in text for secret in callers.SECRETS.values())


def test_building_the_apps_opens_no_grpc_channel():
    # Targets that do not exist: building must not even try to connect.
    settings = PortalSettings(BILLING_ENV="test", IDENTITY_TARGET="127.0.0.1:1",
                              ONLINE_BILLING_TARGET="127.0.0.1:1", ENTERPRISE_PORTAL_TARGET="127.0.0.1:1",
                              **callers.ENV)
    for factory in (create_billing_center_app, create_enterprise_app):
        app = factory(settings)
        runtime = app.extensions["portal"]
        assert not runtime.identity.channel.opened and not runtime.backend.channel.opened
        # The sign-in page and healthz need no backend either.
        client = app.test_client()
        assert client.get("/sign-in").status_code == 200
        assert client.get("/healthz").status_code == 200
        assert not runtime.identity.channel.opened


def test_channels_open_on_first_use_and_again_in_a_forked_child(bc_app, monkeypatch):
    runtime = bc_app.extensions["portal"]
    client = bc_app.test_client()
    sign_in(client, "olivia@acme.test", "Online-demo-2026!")
    first = runtime.identity.channel.get()
    assert runtime.identity.channel.opened and runtime.identity.channel.get() is first
    import os

    stub = runtime.identity.stub
    assert runtime.identity.stub is stub  # built once per channel, not per call

    parent = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent + 1)
    assert not runtime.identity.channel.opened
    assert runtime.identity.channel.get() is not first
    assert runtime.identity.stub is not stub  # a stub on the parent's channel is never used
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("conf", ["web/billing_center/gunicorn.conf.py",
                                  "web/enterprise_portal/gunicorn.conf.py"])
def test_a_gunicorn_worker_closes_its_grpc_channels_as_it_exits(bc_app, conf, monkeypatch):
    runtime = bc_app.extensions["portal"]
    sign_in(bc_app.test_client(), "olivia@acme.test", "Online-demo-2026!")
    channel = runtime.identity.channel.get()
    closed: list[bool] = []
    real_close = channel.close
    monkeypatch.setattr(channel, "close", lambda: (closed.append(True), real_close()))
    worker_exit = runpy.run_path(str(ROOT / conf))["worker_exit"]
    worker_exit(None, SimpleNamespace(wsgi=bc_app))
    assert closed == [True]
    assert not runtime.identity.channel.opened and not runtime.backend.channel.opened
    # The master may run the hook for a worker that is already gone: it has no app there.
    worker_exit(None, SimpleNamespace())


def test_gunicorn_configuration_reads_bind_workers_and_threads(monkeypatch):
    monkeypatch.setenv("BILLING_CENTER_BIND", "127.0.0.1:18080")
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "5")
    bc = runpy.run_path(str(ROOT / "web/billing_center/gunicorn.conf.py"))
    assert bc["bind"] == ["127.0.0.1:18080"] and bc["workers"] == 3 and bc["threads"] == 5
    assert bc["worker_class"] == "gthread" and bc["preload_app"] is False
    assert bc["max_requests"] == 50000 and bc["max_requests_jitter"] == 5000
    assert bc["accesslog"] == "-" and bc["errorlog"] == "-"
    monkeypatch.delenv("WEB_WORKERS")
    monkeypatch.delenv("WEB_THREADS")
    ebp = runpy.run_path(str(ROOT / "web/enterprise_portal/gunicorn.conf.py"))
    assert ebp["bind"] == ["127.0.0.1:8081"] and ebp["threads"] == 4
    assert ebp["logger_class"] is RedactingLogger


@pytest.mark.parametrize("cpus, workers", [(6, 6), (2, 2), (1, 2), (None, 2)])
def test_without_web_workers_gunicorn_runs_one_worker_per_cpu_and_at_least_two(monkeypatch, cpus, workers):
    monkeypatch.delenv("WEB_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    for conf in ("web/billing_center/gunicorn.conf.py",
                 "web/enterprise_portal/gunicorn.conf.py"):
        assert runpy.run_path(str(ROOT / conf))["workers"] == workers, conf


def test_reset_tokens_are_redacted_from_access_log_urls():
    assert redact_url("GET /reset/abcDEF123_-xyz HTTP/1.1") == "GET /reset/[redacted] HTTP/1.1"
    assert redact_url("GET /reset HTTP/1.1") == "GET /reset HTTP/1.1"
    assert redact_url("https://x/reset/tok?x=1") == "https://x/reset/[redacted]?x=1"


def test_a_front_door_without_a_landing_page_is_refused_when_built(tmp_path):
    from flask import Blueprint

    from web.billing_center.backend import OnlineBilling
    from web.common.app import create_portal_app
    from web.common.portals import BILLING_CENTER

    settings = PortalSettings(BILLING_ENV="test", **callers.ENV)
    with pytest.raises(ValueError, match="home.landing"):
        create_portal_app(BILLING_CENTER, settings, backend=OnlineBilling("127.0.0.1:1", 1.0, callers.BILLING_CENTER),
                          templates=tmp_path, blueprints=[Blueprint("elsewhere", __name__)])


def test_each_door_registers_its_own_areas_on_the_shared_pages():
    settings = PortalSettings(BILLING_ENV="test", **callers.ENV)
    shared = {"auth.sign_in", "auth.handoff", "auth.sign_out", "password.reset_request",
              "password.reset_password", "password.change_password", "help.help_page", "help.topic",
              "help.customer_care", "contacts.billing_contacts", "site.language", "site.healthz",
              "site.readyz", "home.landing", "static"}
    bc = set(create_billing_center_app(settings).view_functions)
    ebp = set(create_enterprise_app(settings).view_functions)
    assert bc - shared == {
        "member.contact_billing_admin", "subscription.subscription_page", "subscription.cancel",
        "subscription.undo_cancellation", "subscription.undo_scheduled_change", "subscription.reactivate",
        "plan_change.change_form", "plan_change.preview", "plan_change.confirm", "payment_methods.list_cards",
        "payment_methods.add_card", "payment_methods.make_default", "payment_methods.remove", "reauth.reauth_page",
        "invoices.list_invoices", "invoices.invoice_page", "invoices.invoice_pdf", "billing_profile.profile_page",
        "requests.ask", "requests.withdraw", "requests.list_requests", "requests.review", "requests.approve",
        "requests.decline"}
    # The invoicing pages twice: a contact's own account, and the rep console's (web.enterprise_portal).
    invoicing = {"list_invoices", "invoice_page", "invoice_pdf", "pay", "confirm_payment", "statement",
                 "statement_pdf", "purchase_orders", "new_purchase_order", "edit_purchase_order", "record_payment"}
    both = {*(f"billing.{v}" for v in invoicing), *(f"rep.{v}" for v in invoicing)}
    contacts = {"billing_contacts.contacts_page", "billing_contacts.account_contacts", "billing_contacts.add_contact",
                "billing_contacts.remove_contact", "billing_contacts.make_primary",
                "billing_contacts.propose_handover", "billing_contacts.decide_handover"}
    quotes = {"quotes.list_quotes", "quotes.quote_page", "quotes.quote_pdf", "quotes.comment", "quotes.accept",
              "quotes.decline", "rep_quotes.list_quotes", "rep_quotes.quote_page", "rep_quotes.quote_pdf",
              "rep_quotes.comment", "rep_quotes.send", "rep_quotes.edit"}
    assert ebp - shared == {"reauth.reauth_page", *both, *contacts, *quotes}
    assert shared <= bc and shared <= ebp
