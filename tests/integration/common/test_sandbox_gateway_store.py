"""The sandbox gateway as the processes of a deployment use it: built from settings, its charges
in a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL), shared by several
processes at once (S19, S20), and no card number in any token, row or log line (S18)."""
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import structlog
from sqlalchemy import select

from billing_common.config import DEV_SECRET_KEY, ConfigurationError
from billing_common.db import make_engine
from billing_common.money import Money
from billing_common.payments.cards import card_numbers_in
from billing_common.payments.gateway import (
    CardDetails,
    ChargeStatus,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidCard,
)
from billing_common.payments.sandbox import TEST_CARDS, SandboxGateway
from billing_common.payments.sandbox_sql import SqlChargeStore, charges
from billing_common.payments.settings import GatewaySettings, build_gateway, build_tokenizer

SECRET = "integration-sandbox-secret-0123456789"
USD = Money(4900, "USD")


def card(number="4242424242424242"):
    return CardDetails(number, 12, 2031, "1234" if number.startswith("37") else "123", "Olivia Souza")


@pytest.fixture(scope="module")
def store_url(database_url):
    return database_url("sandbox_gateway")


@pytest.fixture
def settings(store_url):
    return GatewaySettings(BILLING_ENV="test", SANDBOX_GATEWAY_SECRET=SECRET, SANDBOX_GATEWAY_DATABASE_URL=store_url)


@pytest.fixture
def gateway(settings):
    gateway = build_gateway(settings)
    yield gateway
    gateway.close()


def rows(url, key=None):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = select(charges) if key is None else select(charges).where(charges.c.idempotency_key == key)
            return [dict(row) for row in connection.execute(query).mappings()]
    finally:
        engine.dispose()


def run_python(code, env, *args):
    """A separate Python process with the same configuration in its environment only."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=60):
    """The process's answer: its last line (structlog's default writes log lines before it)."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    assert card_numbers_in(out + err) == []  # its log lines hold no card number either (S18)
    return out.strip().splitlines()[-1]


def env_of(url):
    return {"BILLING_ENV": "test", "SANDBOX_GATEWAY_SECRET": SECRET, "SANDBOX_GATEWAY_DATABASE_URL": url}


TOKENIZE = """
    import sys
    from billing_common.payments.gateway import CardDetails
    from billing_common.payments.settings import GatewaySettings, build_tokenizer
    card = build_tokenizer(GatewaySettings()).tokenize(CardDetails(sys.argv[1], 12, 2031, "123", "Olivia"))
    print(card.token)
"""

CHARGE_AT_ONCE = """
    import json, sys, threading, time
    from billing_common.money import Money
    from billing_common.payments.settings import GatewaySettings, build_gateway
    token, key, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    gateway = build_gateway(GatewaySettings())  # every process makes the table if missing, at once
    results = []
    def pay():
        results.append(gateway.charge(token=token, amount=Money(4900, "USD"), idempotency_key=key))
    threads = [threading.Thread(target=pay) for _ in range(5)]
    time.sleep(max(0.0, start - time.time()))
    for t in threads: t.start()
    for t in threads: t.join(30)
    print(json.dumps([[r.status.value, r.charge_id, r.replayed] for r in results]))
"""

RETRIEVE = """
    import sys
    from billing_common.payments.settings import GatewaySettings, build_gateway
    result = build_gateway(GatewaySettings()).retrieve(sys.argv[1])
    print(result.status.value, result.charge_id)
"""


def test_a_token_made_in_one_process_is_charged_by_another_and_retrieved_by_a_third(gateway, store_url, unique):
    token = finish(run_python(TOKENIZE, env_of(store_url), "5555555555554444"))
    assert token.startswith("tok_sandbox_")
    key = unique("invoice-1")
    result = gateway.charge(token=token, amount=USD, idempotency_key=key, description="Invoice 1")
    assert result.succeeded
    assert finish(run_python(RETRIEVE, env_of(store_url), key)).split() == ["succeeded", result.charge_id]


def test_several_processes_charging_the_same_key_at_once_charge_once(database_url, unique):
    url = database_url("sandbox_gateway_processes")  # empty: the processes race to make the table too
    token = build_tokenizer(GatewaySettings(**{k: v for k, v in env_of(url).items()})).tokenize(card()).token
    key, start = unique("renewal"), time.time() + 3
    processes = [run_python(CHARGE_AT_ONCE, env_of(url), token, key, str(start)) for _ in range(3)]
    results = [r for p in processes for r in json.loads(finish(p))]
    assert len(results) == 15
    assert {status for status, _id, _replayed in results} == {"succeeded"}
    assert len({charge_id for _status, charge_id, _replayed in results}) == 1
    assert sum(not replayed for _s, _id, replayed in results) == 1
    assert len(rows(url)) == 1


def test_twenty_identical_charges_at_once_in_threads_charge_once(gateway, settings, store_url, unique):
    token, key = build_tokenizer(settings).tokenize(card()).token, unique("k")
    start, results = threading.Barrier(20), []

    def pay():
        start.wait()
        results.append(gateway.charge(token=token, amount=USD, idempotency_key=key))

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 20
    assert {r.status for r in results} == {ChargeStatus.SUCCEEDED}
    assert len({r.charge_id for r in results}) == 1
    assert len(rows(store_url, key)) == 1


def test_the_same_key_with_other_parameters_is_an_error_from_another_process_too(gateway, settings, store_url,
                                                                                 unique):
    token, key = build_tokenizer(settings).tokenize(card()).token, unique("k")
    first = gateway.charge(token=token, amount=USD, idempotency_key=key)
    other = build_gateway(settings)  # built apart: shares only the configuration and the store
    try:
        assert other.charge(token=token, amount=USD, idempotency_key=key).charge_id == first.charge_id
        with pytest.raises(IdempotencyKeyReused):
            other.charge(token=token, amount=Money(4901, "USD"), idempotency_key=key)
    finally:
        other.close()
    assert [row["amount_minor"] for row in rows(store_url, key)] == [4900]


def test_a_lost_answer_is_unknown_and_another_process_retrieves_the_charge(gateway, settings, store_url, unique):
    token, key = build_tokenizer(settings).tokenize(card("4000000000000408")).token, unique("k")
    lost = gateway.charge(token=token, amount=USD, idempotency_key=key)
    assert lost.status is ChargeStatus.UNKNOWN
    status, charge_id = finish(run_python(RETRIEVE, env_of(store_url), key)).split()
    assert status == "succeeded"
    retry = gateway.charge(token=token, amount=USD, idempotency_key=key)
    assert (retry.status, retry.charge_id, retry.replayed) == (ChargeStatus.SUCCEEDED, charge_id, True)
    assert len(rows(store_url, key)) == 1


def test_a_declined_charge_is_stored_and_answered_again(gateway, settings, store_url, unique):
    token, key = build_tokenizer(settings).tokenize(card("4000000000000341")).token, unique("k")
    assert gateway.verify(token).succeeded  # accepted when added
    first = gateway.charge(token=token, amount=USD, idempotency_key=key)
    assert first.declined and first.decline.code == "card_declined"
    assert gateway.retrieve(key) == first
    assert [(row["status"], row["decline_code"]) for row in rows(store_url, key)] == [("declined", "card_declined")]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_when_the_gateways_store_does_not_answer_a_charge_is_unknown_and_retrieve_is_unavailable(settings, unique):
    # A PostgreSQL URL where nothing listens: the gateway is down, as far as a caller can tell.
    down = SqlChargeStore(make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/none"))
    gateway = SandboxGateway(SECRET, down)
    token = build_tokenizer(settings).tokenize(card()).token
    try:
        result = gateway.charge(token=token, amount=USD, idempotency_key=unique("k"))
        assert (result.status, result.charge_id) == (ChargeStatus.UNKNOWN, None)
        with pytest.raises(GatewayUnavailable):
            gateway.retrieve(unique("k"))
    finally:
        gateway.close()


def test_no_token_stored_row_or_log_line_holds_a_card_number(settings, store_url, unique):
    with structlog.testing.capture_logs() as logs:
        tokenizer, gateway = build_tokenizer(settings), build_gateway(settings)
        tokens = []
        for number in TEST_CARDS:
            made = tokenizer.tokenize(card(number))
            tokens.append(made.token)
            gateway.verify(made.token)
            key = unique("s18")
            gateway.charge(token=made.token, amount=USD, idempotency_key=key, metadata={"last4": made.last4})
            gateway.charge(token=made.token, amount=USD, idempotency_key=key, metadata={"last4": made.last4})
            gateway.retrieve(key)
        for refused in ("4111111111111111", "4242424242424241"):  # a real card, a typo
            with pytest.raises(InvalidCard):
                tokenizer.tokenize(card(refused))
        gateway.close()
    stored = rows(store_url)
    assert len(stored) >= len(TEST_CARDS) and logs
    texts = tokens + [json.dumps(row, default=str) for row in stored] + [json.dumps(e, default=str) for e in logs]
    assert [found for text in texts for found in card_numbers_in(text)] == []
    everything = "\n".join(texts)
    assert [n for n in [*TEST_CARDS, "4111111111111111", "4242424242424241"] if n in everything] == []


def test_settings_refuse_a_missing_or_weak_secret_in_prod_and_read_the_latency(monkeypatch):
    with pytest.raises(ValueError, match="SANDBOX_GATEWAY_SECRET"):
        GatewaySettings(BILLING_ENV="prod")
    for weak in ("short", DEV_SECRET_KEY):
        with pytest.raises(ValueError, match="at least 32"):
            GatewaySettings(BILLING_ENV="prod", SANDBOX_GATEWAY_SECRET=weak)
    prod = GatewaySettings(BILLING_ENV="prod", SANDBOX_GATEWAY_SECRET="s" * 40)
    assert prod.secret == "s" * 40
    assert build_tokenizer(prod)  # the web tier needs no store
    with pytest.raises(ConfigurationError, match="SANDBOX_GATEWAY_DATABASE_URL"):
        build_gateway(prod)  # a service would record charges in its own local file
    assert GatewaySettings(BILLING_ENV="dev").secret == DEV_SECRET_KEY  # the public development default
    for text, bounds in (("50-200", (50, 200)), ("80", (80, 80))):
        monkeypatch.setenv("SANDBOX_GATEWAY_LATENCY_MS", text)  # as the processes read it
        assert GatewaySettings().sandbox_gateway_latency_ms == bounds
    monkeypatch.setenv("SANDBOX_GATEWAY_LATENCY_MS", "fast")
    with pytest.raises(ValueError, match="latency"):
        GatewaySettings()
