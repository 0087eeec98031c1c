"""Production refuses the local fallbacks and the public dev key; dev keeps its defaults."""
from __future__ import annotations

import pytest

from billing_common.config import DEV_SECRET_KEY, ConfigurationError, settings_or_exit
from services.enterprise_portal.config import EnterprisePortalSettings
from services.identity.config import IdentitySettings
from services.online_billing.config import OnlineBillingSettings
from web.common.settings import PortalSettings

SERVICES = [(IdentitySettings, "IDENTITY"), (OnlineBillingSettings, "ONLINE_BILLING"),
            (EnterprisePortalSettings, "ENTERPRISE_PORTAL")]
VARIABLES = ["BILLING_ENV", "SMTP_URL", "SECRET_KEY", "REDIS_URL", "IDENTITY_DEVICE_SECRET",
             *(f"{prefix}_DATABASE_URL" for _, prefix in SERVICES)]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("settings_type", "prefix"), SERVICES)
def test_a_service_in_prod_without_its_database_url_refuses_to_start_naming_it(
    settings_type, prefix, monkeypatch, capsys
):
    monkeypatch.setenv("BILLING_ENV", "prod")
    with pytest.raises(SystemExit) as stopped:
        settings_or_exit(prefix.lower(), settings_type)
    message = str(stopped.value.code)
    assert f"{prefix}_DATABASE_URL must be set when BILLING_ENV=prod" in message
    assert message.startswith(f"{prefix.lower()}: refusing to start: ") and "\n" not in message


@pytest.mark.parametrize(("settings_type", "prefix"), SERVICES)
def test_a_service_in_prod_without_smtp_url_refuses_to_serve_but_may_migrate(settings_type, prefix, monkeypatch):
    monkeypatch.setenv("BILLING_ENV", "prod")
    monkeypatch.setenv(f"{prefix}_DATABASE_URL", "postgresql://db.internal/x")
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    monkeypatch.setenv("IDENTITY_DEVICE_SECRET", "d" * 40)
    settings = settings_type()  # enough to migrate: the migrate job has no mail relay
    with pytest.raises(ConfigurationError, match="SMTP_URL must be set when BILLING_ENV=prod"):
        settings.check_can_serve()
    monkeypatch.setenv("SMTP_URL", "smtp://mail.internal:587")
    settings_type().check_can_serve()


def test_identity_in_prod_without_redis_url_refuses_to_serve(monkeypatch):
    monkeypatch.setenv("BILLING_ENV", "prod")
    monkeypatch.setenv("IDENTITY_DATABASE_URL", "postgresql://db.internal/identity")
    monkeypatch.setenv("SMTP_URL", "smtp://mail.internal:587")
    with pytest.raises(ConfigurationError, match="REDIS_URL must be set when BILLING_ENV=prod"):
        IdentitySettings().check_can_serve()


@pytest.mark.parametrize(("settings_type", "prefix"), SERVICES)
def test_an_unset_environment_is_dev_and_keeps_the_local_defaults(settings_type, prefix):
    settings = settings_type()
    assert settings.env == "dev"
    assert settings.database_url.startswith("sqlite:///") and settings.smtp_url is None
    settings.check_can_serve()


def test_a_portal_in_prod_with_the_public_dev_secret_refuses_to_start_naming_secret_key(monkeypatch):
    monkeypatch.setenv("BILLING_ENV", "prod")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(SystemExit) as stopped:
        settings_or_exit("billing-center-web", PortalSettings)
    message = str(stopped.value.code)
    assert message.startswith("billing-center-web: refusing to start: SECRET_KEY")
    assert "\n" not in message and DEV_SECRET_KEY not in message


def test_an_invalid_value_is_named_by_its_environment_variable(monkeypatch):
    monkeypatch.setenv("IDENTITY_GRPC_WORKERS", "many")
    with pytest.raises(SystemExit) as stopped:
        settings_or_exit("identity", IdentitySettings)
    message = str(stopped.value.code)
    assert message.startswith("identity: refusing to start: IDENTITY_GRPC_WORKERS: ") and "many" not in message
