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
