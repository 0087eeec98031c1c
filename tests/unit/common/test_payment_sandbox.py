"""The sandbox gateway with its in-memory store: every test number, idempotency (S19), lost
answers (S20), signed tokens. The SQL store, several processes and the S18 scan of stored rows
are in tests/integration/common/test_sandbox_gateway_store.py."""
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_common.clock import FakeClock
from billing_common.errors import InvalidArgument
from billing_common.money import Money
from billing_common.payments import messages
from billing_common.payments.gateway import (
    CardDetails,
    ChargeStatus,
    IdempotencyKeyReused,
    InvalidCard,
    InvalidToken,
)
from billing_common.payments.sandbox import (
    TEST_CARDS,
    InMemoryChargeStore,
    SandboxGateway,
    SandboxTokenizer,
    TokenContents,
    _b64,
    _unb64,
    parse_latency,
)

SECRET = "unit-test-sandbox-secret"
USD = Money(1999, "USD")

# What the README's table says, written out again so the code's table is checked against it:
# number -> (brand, decline when added, decline when charged).
EXPECTED = {
    "4242424242424242": ("visa", None, None),
    "5555555555554444": ("mastercard", None, None),
    "378282246310005": ("amex", None, None),
    "4000000000000002": ("visa", "card_declined", "card_declined"),
    "4000000000009995": ("visa", "insufficient_funds", "insufficient_funds"),
    "4000000000000069": ("visa", "expired_card", "expired_card"),
    "4000000000000127": ("visa", "incorrect_cvc", "incorrect_cvc"),
    "4000000000000119": ("visa", "processing_error", "processing_error"),
    "4000000000000341": ("visa", None, "card_declined"),
    "4000000000000408": ("visa", None, None),  # charged, but the answer is lost
}


@pytest.fixture
def clock():
    return FakeClock()  # 2027-01-15


@pytest.fixture
def tokenizer(clock):
    return SandboxTokenizer(SECRET, clock=clock)


@pytest.fixture
def gateway(clock):
    return SandboxGateway(SECRET, InMemoryChargeStore(), clock=clock)


def details(number="4242424242424242", month=12, year=2030, cvc=None):
    return CardDetails(number, month, year, cvc or ("1234" if number.startswith("37") else "123"), "Olivia Souza")


def test_the_test_numbers_are_those_the_readme_lists():
    assert set(TEST_CARDS) == set(EXPECTED)


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_each_test_number_is_tokenized_with_its_brand_last_4_and_expiry_and_never_its_number(tokenizer, number):
    card = tokenizer.tokenize(details(number))
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (EXPECTED[number][0], number[-4:], 12, 2030)
    assert card.token.startswith("tok_sandbox_")
    assert number not in card.token and number not in _unb64(card.token[12:].split(".")[0]).decode()


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_each_test_number_does_what_the_readme_says_when_added_and_when_charged(tokenizer, gateway, number, unique):
    _brand, on_add, on_charge = EXPECTED[number]
    card = tokenizer.tokenize(details(number))
    verification = gateway.verify(card.token)
    assert verification.card.token == card.token
    assert (verification.decline.code if verification.decline else None) == on_add
    result = gateway.charge(token=card.token, amount=USD, idempotency_key=unique("k"))
    if number == "4000000000000408":
        assert result.status is ChargeStatus.UNKNOWN
    elif on_charge is None:
        assert result.status is ChargeStatus.SUCCEEDED and result.charge_id.startswith("ch_sandbox_")
    else:
        assert result.status is ChargeStatus.DECLINED
        assert result.decline.code == on_charge
        assert result.decline.message == messages.MESSAGES[on_charge]


def test_every_decline_has_its_own_clear_message():
    codes = {code for _b, add, charge in EXPECTED.values() for code in (add, charge) if code}
    assert len({messages.message(code) for code in codes}) == len(codes)


def test_a_number_that_fails_the_luhn_check_is_refused_before_any_call_naming_the_number(tokenizer):
    with pytest.raises(InvalidCard) as refused:
        tokenizer.tokenize(details("4242424242424241"))
    assert (refused.value.field, refused.value.reason) == ("number", messages.INVALID_NUMBER)
    assert refused.value.code == "INVALID_ARGUMENT"
    assert tokenizer.calls["tokenize"] == 0


@pytest.mark.parametrize("number", ["4111111111111111", "5105105105105100", "4012888888881881"])
def test_any_other_valid_number_is_refused_as_a_real_card(tokenizer, number):
    with pytest.raises(InvalidCard) as refused:
        tokenizer.tokenize(details(number))
    assert (refused.value.field, refused.value.reason) == ("number", messages.LIVE_CARD)
    assert tokenizer.calls["tokenize"] == 1


def test_an_expiry_in_the_past_or_a_bad_cvc_is_refused_naming_the_field_before_any_call(tokenizer):
    with pytest.raises(InvalidCard) as past:
        tokenizer.tokenize(details(month=12, year=2026))
    assert (past.value.field, past.value.reason) == ("exp_year", messages.EXPIRY_IN_PAST)
    with pytest.raises(InvalidCard) as cvc:
        tokenizer.tokenize(details("378282246310005", cvc="123"))
    assert (cvc.value.field, cvc.value.reason) == ("cvc", messages.INVALID_CVC)
    assert tokenizer.calls["tokenize"] == 0


def test_the_card_details_never_show_their_number_or_cvc_in_a_repr():
    text = repr(details(cvc="987"))
    assert "4242424242424242" not in text and "987" not in text and "Olivia Souza" in text


def test_a_token_made_by_another_tokenizer_with_the_same_secret_is_charged(clock, unique):
    card = SandboxTokenizer(SECRET, clock=clock).tokenize(details())
    other = SandboxGateway(SECRET, InMemoryChargeStore(), clock=clock)
    assert other.charge(token=card.token, amount=USD, idempotency_key=unique("k")).succeeded


def test_a_token_tampered_with_or_signed_with_another_secret_is_refused_and_nothing_is_charged(
    tokenizer, gateway, unique
):
    token = tokenizer.tokenize(details("4000000000000341")).token  # declined at every charge
    payload, signature = token[len("tok_sandbox_"):].split(".")
    fields = _unb64(payload).decode().split("|")
    fields[5] = "ok"  # make it a card that pays
    forged = "tok_sandbox_" + _b64("|".join(fields).encode()) + "." + signature
    stranger = SandboxTokenizer("another-secret").tokenize(details()).token
    for bad in (forged, stranger, token[:-2], token + "x", "tok_sandbox_", "pm_card_visa", token[:-1] + "é",
                "tok_sandbox_é.é"):
        with pytest.raises(InvalidToken) as refused:
            gateway.charge(token=bad, amount=USD, idempotency_key=unique("k"))
        assert refused.value.field == "token"
        with pytest.raises(InvalidToken):
            gateway.verify(bad)
    assert gateway.store.records == {}


def test_the_same_key_and_parameters_charge_once_and_answer_the_first_result(tokenizer, gateway, unique):
    token, key = tokenizer.tokenize(details()).token, unique("k")
    first = gateway.charge(token=token, amount=USD, idempotency_key=key, description="Invoice 7",
                           metadata={"invoice": "7"})
    again = gateway.charge(token=token, amount=USD, idempotency_key=key, description="Invoice 7",
                           metadata={"invoice": "7"})
    assert first.succeeded and not first.replayed
    assert (again.status, again.charge_id, again.replayed) == (first.status, first.charge_id, True)
    assert len(gateway.store.records) == 1


def test_a_declined_charge_is_answered_again_under_its_key(tokenizer, gateway, unique):
    token, key = tokenizer.tokenize(details("4000000000009995")).token, unique("k")
    first = gateway.charge(token=token, amount=USD, idempotency_key=key)
    again = gateway.charge(token=token, amount=USD, idempotency_key=key)
    assert first.declined and again.declined and again.charge_id == first.charge_id and again.replayed


@pytest.mark.parametrize("change", [
    {"amount": Money(2000, "USD")}, {"amount": Money(1999, "EUR")}, {"description": "other"},
    {"metadata": {"invoice": "8"}}, {"token": "other card"},
])
def test_the_same_key_with_other_parameters_is_an_error_and_charges_nothing_more(tokenizer, gateway, unique, change):
    token, key = tokenizer.tokenize(details()).token, unique("k")
    params = {"token": token, "amount": USD, "idempotency_key": key, "description": "", "metadata": {"invoice": "7"}}
    first = gateway.charge(**params)
    if change.get("token") == "other card":
        change = {"token": tokenizer.tokenize(details("5555555555554444")).token}
    with pytest.raises(IdempotencyKeyReused) as refused:
        gateway.charge(**{**params, **change})
    assert refused.value.field == "idempotency_key"
    assert list(gateway.store.records.values())[0].charge_id == first.charge_id
    assert len(gateway.store.records) == 1


def test_twenty_identical_charges_at_once_charge_once(tokenizer, gateway, unique):
    token, key = tokenizer.tokenize(details()).token, unique("k")
    start, results = threading.Barrier(20), []

    def pay():
        start.wait()
        results.append(gateway.charge(token=token, amount=USD, idempotency_key=key))

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 20 and len(gateway.store.records) == 1
    assert {r.charge_id for r in results} == {gateway.store.records[key].charge_id}
    assert sum(not r.replayed for r in results) == 1


def test_a_lost_answer_is_unknown_then_retrieve_shows_the_charge_and_a_retry_does_not_charge_again(
    tokenizer, gateway, unique
):
    token, key = tokenizer.tokenize(details("4000000000000408")).token, unique("k")
    lost = gateway.charge(token=token, amount=USD, idempotency_key=key)
    assert (lost.status, lost.charge_id) == (ChargeStatus.UNKNOWN, None)
    found = gateway.retrieve(key)
    assert found.succeeded and found.amount == USD and found.charge_id
    retry = gateway.charge(token=token, amount=USD, idempotency_key=key)
    assert retry.succeeded and retry.replayed and retry.charge_id == found.charge_id
    assert len(gateway.store.records) == 1


def test_retrieve_answers_none_for_a_key_that_never_reached_the_gateway(gateway, unique):
    assert gateway.retrieve(unique("never")) is None


def test_a_card_that_expired_after_it_was_added_is_declined_as_expired(tokenizer, gateway, clock, unique):
    token = tokenizer.tokenize(details(month=2, year=2027)).token  # the clock reads January 2027
    assert gateway.verify(token).succeeded
    clock.advance(60 * 86400)  # March 2027
    assert gateway.verify(token).decline.code == messages.EXPIRED_CARD
    assert gateway.charge(token=token, amount=USD, idempotency_key=unique("k")).decline.code == messages.EXPIRED_CARD


@pytest.mark.parametrize("change, field", [
    ({"amount": Money(0, "USD")}, "amount"),
    ({"amount": Money(-5, "USD")}, "amount"),
    ({"amount": Money(100_000_000, "USD")}, "amount"),
    ({"amount": 1999}, "amount"),
    ({"idempotency_key": ""}, "idempotency_key"),
    ({"idempotency_key": "has space"}, "idempotency_key"),
    ({"idempotency_key": "k" * 256}, "idempotency_key"),
    ({"description": "card 4242 4242 4242 4242"}, "description"),
    ({"description": "x" * 501}, "description"),
    ({"metadata": {"card": "4242424242424242"}}, "metadata"),
    ({"metadata": {"n": 7}}, "metadata"),
    ({"metadata": [("invoice", "7")]}, "metadata"),
    ({"description": None}, "description"),
    ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
    ({"token": ""}, "token"),
    ({"token": "t" * 513}, "token"),
])
def test_bad_charge_parameters_are_refused_naming_the_field_before_any_call(tokenizer, gateway, unique, change, field):
    params = {"token": tokenizer.tokenize(details()).token, "amount": USD, "idempotency_key": unique("k")}
    with pytest.raises(InvalidArgument) as refused:
        gateway.charge(**{**params, **change})
    assert refused.value.field == field
    assert gateway.calls["charge"] == 0 and gateway.store.records == {}


def test_each_call_takes_the_configured_latency(clock, unique):
    slept = []
    tokenizer = SandboxTokenizer(SECRET, clock=clock, latency_ms=parse_latency("50-200"), sleep=slept.append)
    gateway = SandboxGateway(SECRET, InMemoryChargeStore(), clock=clock, latency_ms=(80, 80), sleep=slept.append)
    token = tokenizer.tokenize(details()).token
    gateway.charge(token=token, amount=USD, idempotency_key=unique("k"))
    assert 0.05 <= slept[0] <= 0.2 and slept[1] == 0.08


@pytest.mark.parametrize("text, bounds", [("0", (0, 0)), ("80", (80, 80)), ("50-200", (50, 200)), (" 5 ", (5, 5))])
def test_latency_is_a_number_or_a_range_of_milliseconds(text, bounds):
    assert parse_latency(text) == bounds


@pytest.mark.parametrize("text", ["", "fast", "200-50", "-5", "1-2-3", "70000"])
def test_a_latency_that_is_not_a_range_of_milliseconds_is_refused(text):
    with pytest.raises(ValueError):
        parse_latency(text)


def test_token_contents_hold_brand_last_4_expiry_and_behaviour_only():
    assert set(TokenContents.__dataclass_fields__) == {"brand", "last4", "exp_month", "exp_year", "behaviour"}


def test_the_web_tier_builds_the_tokenizer_without_loading_any_database_or_redis_client():
    # The front doors hold no database connection (test_package_boundaries); the tokenizer is
    # their half of the gateway, so building and using it must not need one.
    code = (
        "import sys\n"
        "from billing_common.payments.gateway import CardDetails\n"
        "from billing_common.payments.settings import GatewaySettings, build_tokenizer\n"
        "build_tokenizer(GatewaySettings()).tokenize(CardDetails('4242424242424242', 12, 2031, '123', 'O'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'psycopg', 'redis', 'alembic'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@settings(max_examples=300, deadline=None)
@given(number=st.one_of(st.text(max_size=25), st.sampled_from(sorted(EXPECTED)),
                        st.from_regex(r"[0-9]{12,19}", fullmatch=True)),
       month=st.one_of(st.integers(-5, 20), st.none(), st.text(max_size=3)),
       year=st.one_of(st.integers(1990, 2200), st.none()),
       cvc=st.one_of(st.text(max_size=6), st.from_regex(r"[0-9]{3,4}", fullmatch=True), st.none()),
       holder=st.one_of(st.text(max_size=120), st.none()))
def test_any_card_form_input_is_tokenized_or_refused_naming_a_field_never_a_crash(number, month, year, cvc, holder):
    tokenizer = SandboxTokenizer(SECRET, clock=FakeClock())
    try:
        card = tokenizer.tokenize(CardDetails(number, month, year, cvc, holder))
    except InvalidCard as refused:
        assert refused.field in {"number", "exp_month", "exp_year", "cvc", "holder_name"}
        assert refused.message == messages.message(refused.reason)
    else:
        assert card.token.startswith("tok_sandbox_")


@settings(max_examples=200, deadline=None)
@given(key=st.text(max_size=300), description=st.one_of(st.text(max_size=600), st.none()),
       metadata=st.one_of(st.dictionaries(st.text(max_size=50), st.text(max_size=20), max_size=3), st.none()),
       token=st.text(max_size=40))
def test_any_charge_input_is_answered_or_refused_naming_a_field_never_a_crash(key, description, metadata, token):
    gateway = SandboxGateway(SECRET, InMemoryChargeStore(), clock=FakeClock())
    try:
        gateway.charge(token=token, amount=USD, idempotency_key=key, description=description, metadata=metadata)
    except InvalidArgument as refused:
        assert refused.field in {"token", "idempotency_key", "description", "metadata"}
