"""Checks on identifiers that arrive from other processes (S24: bad input names its field).

The backends receive identity's account ids over gRPC; they are opaque strings to them, so
the check is about shape only: present, bounded, printable.
"""
from __future__ import annotations

from billing_common.errors import InvalidArgument
from billing_common.limits import MAX_ID


def require_id(value: str, field: str, max_length: int = MAX_ID) -> str:
    """Returns `value` when it is a usable id, else raises InvalidArgument naming `field`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{field} is required", field=field)
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is longer than {max_length} characters", field=field)
    # Control characters (and other unprintables) are never part of an id; they would end
    # up in SQL parameters and log lines.
    if not value.isprintable() or value != value.strip():
        raise InvalidArgument(f"{field} contains characters an id cannot have", field=field)
    return value
