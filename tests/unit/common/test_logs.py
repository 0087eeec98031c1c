import json

import pytest
import structlog

from billing_common import logs
from billing_common.logs import redact


def test_secrets_never_reach_the_log_line():
    event = redact(None, "info", {
        "event": "reset requested",
        "password": "Online-demo-2026!",
        "session_token": "abc",
        "reset_link": "http://x/reset/abc",
        "note": "card 4111 1111 1111 1111 and token " + "A" * 43,
        "login": "olivia@acme.test",
    })
    assert event["password"] == event["session_token"] == event["reset_link"] == "[redacted]"
    assert "4111" not in event["note"] and "A" * 43 not in event["note"]
    assert event["login"] == "olivia@acme.test"


@pytest.mark.parametrize("key", ["company", "span", "expansion", "company_name", "spanish_locale", "panel",
                                 "passenger_count", "cardinality", "linkedin_url", "tokenizer"])
def test_keys_that_merely_contain_a_secret_word_are_kept(key):
    assert redact(None, "info", {"event": "x", key: "Acme Online"})[key] == "Acme Online"


@pytest.mark.parametrize("key", ["password", "new_password", "pass", "passwd", "card_pan", "pan", "PAN", "cvc",
                                 "card_cvc", "cvv", "token", "csrf_token", "sessionToken", "access_tokens",
                                 "secret", "SECRET_KEY", "client_secret", "ticket", "handoff_ticket", "cookie",
                                 "set-cookie", "authorization", "HTTP_AUTHORIZATION", "reset_link", "card",
                                 "card_number", "cardNumber", "api_key", "apikey", "private_key", "credentials"])
def test_keys_named_after_a_secret_are_masked(key):
    assert redact(None, "info", {"event": "x", key: "value"})[key] == "[redacted]"


def _json_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_json_log_line_carries_the_traceback_of_a_logged_exception(capsys):
    logs.configure("test-json", "INFO", "json")  # the conftest puts structlog back afterwards
    try:
        {}["missing"]
    except KeyError:
        structlog.get_logger().exception("unhandled error", account_id="acct-1")
    [line] = _json_lines(capsys)
    assert line["event"] == "unhandled error" and line["level"] == "error"
    assert "exc_info" not in line
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in line["exception"]
    assert "test_logs.py" in line["exception"]


def test_a_secret_in_an_exception_message_is_redacted_in_the_json_traceback(capsys):
    token = "Zx9" * 15
    logs.configure("test-json", "INFO", "json")
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        structlog.get_logger().exception("unhandled error")
    [line] = _json_lines(capsys)
    assert "ValueError: bad token [redacted]" in line["exception"] and token not in line["exception"]
