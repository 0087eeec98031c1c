"""The password policy (S1): length only, any Unicode, never truncated, common ones refused.

No composition rules (NIST SP 800-63B). Passwords are compared and hashed in Unicode NFKC
form, as 800-63B recommends, so the same password typed on two keyboards matches.
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from billing_common import limits
from billing_common.errors import InvalidArgument

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower-cased; read once, on first use."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password_policy(password: str, field: str = "password") -> str:
    """The normalised password, or InvalidArgument naming `field`."""
    if len(password) > limits.MAX_PASSWORD:
        # web/common/remote_messages.py lists this message with the number written out.
        raise InvalidArgument(f"A password can have at most {limits.MAX_PASSWORD} characters.", field=field)
    normalized = normalize_password(password)
    # Limits from billing_common.limits, which the portals' forms share: accepted in full, never
    # truncated (argon2 hashes any length); the upper bound only stops abuse.
    if len(normalized) < limits.MIN_PASSWORD:
        raise InvalidArgument(f"A password needs at least {limits.MIN_PASSWORD} characters.", field=field)
    if normalized.lower() in common_passwords():
        raise InvalidArgument(
            "This password is one of the most common ones, so it is easy to guess. Choose another.",
            field=field,
        )
    return normalized
