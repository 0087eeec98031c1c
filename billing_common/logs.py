"""structlog set-up shared by every process: one line per event, secrets redacted (S25)."""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Ids that look like long random strings but are safe, and useful, to log.
_SAFE_KEYS = frozenset({"request_id", "message_id", "account_id", "user_id", "method", "service"})
_SECRET_KEYS = re.compile(r"pass|token|ticket|secret|card|cvc|pan|authorization|cookie|link", re.I)
# Long URL-safe strings in free text look like tokens; card-like digit runs like PANs.
_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{32,}")
_DIGITS = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key in _SAFE_KEYS:
            continue
        if _SECRET_KEYS.search(key):
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = _DIGITS.sub("[redacted]", _TOKENISH.sub("[redacted]", value))
    return event


def configure(service: str, level: str = "INFO", fmt: str = "console") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S" if fmt == "console" else "iso"),
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(stream=sys.stdout, level=level.upper(), format=f"{service} %(levelname)s %(name)s: %(message)s")
