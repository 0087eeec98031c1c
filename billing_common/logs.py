"""structlog set-up shared by every process: one line per event, secrets redacted (S25)."""
from __future__ import annotations

import itertools
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Ids that look like long random strings but are safe, and useful, to log.
_SAFE_KEYS = frozenset({"request_id", "message_id", "account_id", "user_id", "method", "service"})
# A key is secret when one of its words is one of these (singular or plural). Words, not
# substrings: `company`, `span` and `expansion` contain "pan" and are kept.
_SECRET_WORDS = frozenset({
    "pass", "password", "passwd", "passphrase", "pwd", "token", "ticket", "secret", "credential",
    "card", "pan", "cvc", "cvv", "pin", "authorization", "cookie", "link", "apikey", "privatekey",
    "cardnumber",
})
# Two words that are a secret together, though neither is alone.
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("signing", "key"), ("access", "key")})
# Long secret words still count at the end of a word run together in lower case (sessiontoken).
_SECRET_SUFFIXES = ("password", "passwd", "token", "ticket", "secret", "cookie", "authorization", "credential")
# snake_case, kebab-case, camelCase and UPPER_CASE words; digits apart (cvv2 -> cvv, 2).
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Long URL-safe strings in free text look like tokens; card-like digit runs like PANs.
_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{32,}")
_DIGITS = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def is_secret_key(key: str) -> bool:
    """Whether a log field named `key` holds a secret (S25): decided by its words."""
    words = [w.lower() for w in _WORD.findall(key)]
    for word in words:
        singular = word[:-1] if word.endswith("s") and len(word) > 3 else word
        if word in _SECRET_WORDS or singular in _SECRET_WORDS or singular.endswith(_SECRET_SUFFIXES):
            return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key in _SAFE_KEYS:
            continue
        if is_secret_key(key):
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = _DIGITS.sub("[redacted]", _TOKENISH.sub("[redacted]", value))
    return event


def configure(service: str, level: str = "INFO", fmt: str = "console") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    # The console renderer prints a logged exception's traceback itself; JSON has no such
    # step, and would print `"exc_info": true` instead, so the traceback becomes the text of
    # an "exception" field first (structlog's format_exc_info), before redact scrubs it.
    exceptions: list[Any] = [structlog.processors.format_exc_info] if fmt == "json" else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S" if fmt == "console" else "iso"),
            *exceptions,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(stream=sys.stdout, level=level.upper(), format=f"{service} %(levelname)s %(name)s: %(message)s")
