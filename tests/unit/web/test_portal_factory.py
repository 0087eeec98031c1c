"""Settings, the app factory (no connection before the fork) and the gunicorn configuration."""
from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from billing_common.web import PortalSettings
from billing_common.web.gunicorn_config import RedactingLogger, redact_url
from services.enterprise_portal.web import create_app as create_enterprise_app
from services.online_billing.web import create_app as create_billing_center_app
from tests.unit.web.helpers import sign_in

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


def test_building_the_apps_opens_no_grpc_channel():
    # Targets that do not exist: building must not even try to connect.
    settings = PortalSettings(BILLING_ENV="test", IDENTITY_TARGET="127.0.0.1:1",
                              ONLINE_BILLING_TARGET="127.0.0.1:1", ENTERPRISE_PORTAL_TARGET="127.0.0.1:1")
    for factory in (create_billing_center_app, create_enterprise_app):
        app = factory(settings)
        runtime = app.extensions["portal"]
        assert not runtime.identity_channel.opened and not runtime.backend_channel.opened
        # The sign-in page and healthz need no backend either.
        client = app.test_client()
        assert client.get("/sign-in").status_code == 200
        assert client.get("/healthz").status_code == 200
        assert not runtime.identity_channel.opened


def test_channels_open_on_first_use_and_again_in_a_forked_child(bc_app, monkeypatch):
    runtime = bc_app.extensions["portal"]
    client = bc_app.test_client()
    sign_in(client, "olivia@acme.test", "Online-demo-2026!")
    first = runtime.identity_channel.get()
    assert runtime.identity_channel.opened and runtime.identity_channel.get() is first
    import os

    parent = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent + 1)
    assert not runtime.identity_channel.opened
    assert runtime.identity_channel.get() is not first
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("conf", ["services/online_billing/web/gunicorn.conf.py",
                                  "services/enterprise_portal/web/gunicorn.conf.py"])
def test_a_gunicorn_worker_closes_its_grpc_channels_as_it_exits(bc_app, conf, monkeypatch):
    runtime = bc_app.extensions["portal"]
    sign_in(bc_app.test_client(), "olivia@acme.test", "Online-demo-2026!")
    channel = runtime.identity_channel.get()
    closed: list[bool] = []
    real_close = channel.close
    monkeypatch.setattr(channel, "close", lambda: (closed.append(True), real_close()))
    worker_exit = runpy.run_path(str(ROOT / conf))["worker_exit"]
    worker_exit(None, SimpleNamespace(wsgi=bc_app))
    assert closed == [True]
    assert not runtime.identity_channel.opened and not runtime.backend_channel.opened
    # The master may run the hook for a worker that is already gone: it has no app there.
    worker_exit(None, SimpleNamespace())


def test_gunicorn_configuration_reads_bind_workers_and_threads(monkeypatch):
    monkeypatch.setenv("BILLING_CENTER_BIND", "127.0.0.1:18080")
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "5")
    bc = runpy.run_path(str(ROOT / "services/online_billing/web/gunicorn.conf.py"))
    assert bc["bind"] == ["127.0.0.1:18080"] and bc["workers"] == 3 and bc["threads"] == 5
    assert bc["worker_class"] == "gthread" and bc["preload_app"] is False
    assert bc["max_requests"] == 50000 and bc["max_requests_jitter"] == 5000
    assert bc["accesslog"] == "-" and bc["errorlog"] == "-"
    monkeypatch.delenv("WEB_WORKERS")
    monkeypatch.delenv("WEB_THREADS")
    ebp = runpy.run_path(str(ROOT / "services/enterprise_portal/web/gunicorn.conf.py"))
    assert ebp["bind"] == ["127.0.0.1:8081"] and ebp["workers"] == 2 and ebp["threads"] == 4
    assert ebp["logger_class"] is RedactingLogger


def test_reset_tokens_are_redacted_from_access_log_urls():
    assert redact_url("GET /reset/abcDEF123_-xyz HTTP/1.1") == "GET /reset/[redacted] HTTP/1.1"
    assert redact_url("GET /reset HTTP/1.1") == "GET /reset HTTP/1.1"
    assert redact_url("https://x/reset/tok?x=1") == "https://x/reset/[redacted]?x=1"
