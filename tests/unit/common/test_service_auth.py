"""The gate of service-to-service calls (billing_common.service_auth), its settings, and the
dev stack's own secrets."""
from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError

from billing_common.config import CallerSecretSettings, ServiceSettings
from billing_common.service import caller_gate
from billing_common.service_auth import (
    BILLING_CENTER_WEB,
    CALLERS,
    ENTERPRISE_PORTAL_WEB,
    OPERATOR,
    CallerCredentials,
    Gatekeeper,
    Refused,
    acting_person,
    allow_list,
    secret_variable,
)
from services.devstack import caller_secrets
from services.devstack.run import operator_credentials
from services.identity.entrypoints.grpc_server import ALLOWED_CALLERS as IDENTITY
from tests import callers

METHOD = "/billing.x.v1.X/Read"
GATE = Gatekeeper.build(callers.SECRETS, {METHOD: {BILLING_CENTER_WEB}})


def _refusal(metadata) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused) as refused:
        GATE.admit(METHOD, metadata)
    return refused.value.code


def test_the_gate_admits_an_allowed_caller_with_its_secret_and_names_it():
    assert GATE.admit(METHOD, callers.BILLING_CENTER.metadata()) == BILLING_CENTER_WEB


def test_the_gate_refuses_missing_wrong_or_unknown_credentials_as_unauthenticated():
    secret = callers.SECRETS[BILLING_CENTER_WEB]
    for metadata in ((), (("authorization", ""),), (("authorization", f"Bearer {BILLING_CENTER_WEB}:"),),
                     (("authorization", f"Bearer {BILLING_CENTER_WEB}:{secret}x"),),
                     (("authorization", f"Bearer {BILLING_CENTER_WEB}:{secret[:-1]}"),),
                     (("authorization", f"Bearer nobody:{secret}"),),
                     (("authorization", f"Basic {BILLING_CENTER_WEB}:{secret}"),),
                     (("authorization", secret),), (("x-caller", BILLING_CENTER_WEB),)):
        assert _refusal(metadata) == "UNAUTHENTICATED", metadata


def test_the_gate_refuses_a_known_caller_outside_the_allow_list_as_permission_denied():
    assert _refusal(callers.OPERATOR_TESTS.metadata()) == "PERMISSION_DENIED"
    # A method nobody listed admits nobody.
    with pytest.raises(Refused) as refused:
        GATE.admit("/billing.x.v1.X/Forgotten", callers.BILLING_CENTER.metadata())
    assert refused.value.code == "PERMISSION_DENIED"


def test_health_checks_are_open_and_nothing_else_is():
    assert Gatekeeper.is_open("/grpc.health.v1.Health/Check")
    assert Gatekeeper.is_open("/grpc.health.v1.Health/Watch")
    assert not Gatekeeper.is_open(METHOD)
    assert not Gatekeeper.is_open("/grpc.health.v1.HealthX/Check")


def test_the_gate_keeps_digests_not_secrets():
    assert not any(secret.encode() in digest for secret in callers.SECRETS.values() for digest in GATE.digests.values())
    assert all(len(digest) == 32 for digest in GATE.digests.values())


def test_credentials_hide_their_secret_and_carry_the_acting_person():
    credentials = CallerCredentials(OPERATOR, "s" * 40, acting_person="alice")
    assert "s" * 40 not in repr(credentials)
    assert dict(credentials.metadata()) == {"authorization": f"Bearer operator:{'s' * 40}", "x-acting-person": "alice"}


def test_the_acting_person_is_printable_and_bounded():
    assert acting_person([("x-acting-person", "  alice\x00\n ")]) == "alice"
    assert acting_person([("x-acting-person", "a" * 100)]) == "a" * 64
    assert acting_person([("x-acting-person-bin", b"x")]) == ""
    assert acting_person([]) == ""


def test_one_variable_per_caller():
    assert [secret_variable(c) for c in CALLERS] == [
        "CALLER_SECRET_BILLING_CENTER_WEB", "CALLER_SECRET_ENTERPRISE_PORTAL_WEB", "CALLER_SECRET_OPERATOR",
        "CALLER_SECRET_ONLINE_BILLING", "CALLER_SECRET_ENTERPRISE_PORTAL"]


def test_a_service_in_prod_refuses_to_start_while_a_caller_it_admits_has_no_secret(monkeypatch):
    for variable in callers.ENV:
        monkeypatch.delenv(variable, raising=False)
    partial = {secret_variable(BILLING_CENTER_WEB): "b" * 40}
    prod = ServiceSettings(BILLING_ENV="test", **partial)
    prod.env = "prod"  # without the rest a prod service needs (database, SMTP): only this is at stake
    with pytest.raises(ValueError, match="CALLER_SECRET_ENTERPRISE_PORTAL, CALLER_SECRET_ENTERPRISE_PORTAL_WEB, "
                                         "CALLER_SECRET_ONLINE_BILLING, "
                                         "CALLER_SECRET_OPERATOR"):
        caller_gate(prod, IDENTITY)
    # Outside prod it starts, and the callers without a secret are refused like strangers.
    gate = caller_gate(ServiceSettings(BILLING_ENV="test", **partial), IDENTITY)
    assert set(gate.digests) == {BILLING_CENTER_WEB}


def test_a_service_holds_only_the_secrets_of_the_callers_it_admits():
    gate = caller_gate(ServiceSettings(BILLING_ENV="test", **callers.ENV),
                       allow_list("billing.x.v1.X", {"Read": {ENTERPRISE_PORTAL_WEB}}))
    assert set(gate.digests) == {ENTERPRISE_PORTAL_WEB}


def test_prod_refuses_short_caller_secrets_naming_the_variable():
    with pytest.raises(ValidationError, match="CALLER_SECRET_OPERATOR"):
        CallerSecretSettings(BILLING_ENV="prod", CALLER_SECRET_OPERATOR="too-short")
    assert CallerSecretSettings(BILLING_ENV="prod", CALLER_SECRET_OPERATOR="x" * 32).caller_secrets() == {
        OPERATOR: "x" * 32}


def test_the_dev_stack_makes_its_secrets_once_in_a_file_only_its_owner_can_read(tmp_path):
    made = caller_secrets.load_or_create(tmp_path / "var")
    path = tmp_path / "var" / caller_secrets.FILE_NAME
    assert set(made) == {secret_variable(c) for c in CALLERS}
    assert all(len(secret) >= 32 for secret in made.values())
    assert len(set(made.values())) == len(CALLERS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert caller_secrets.load_or_create(tmp_path / "var") == made  # the same at the next start
    # Valid for prod's rules too.
    CallerSecretSettings(BILLING_ENV="prod", **made)


def test_the_demo_loader_calls_as_an_operator_naming_who_ran_it():
    credentials = operator_credentials({secret_variable(OPERATOR): "o" * 40})
    assert credentials.caller == OPERATOR and credentials.secret == "o" * 40
    assert credentials.acting_person
