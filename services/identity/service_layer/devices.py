"""Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies"), for S4.

A browser that signed in successfully as a user gets a token naming that user, signed by
identity (HMAC-SHA256 with IDENTITY_DEVICE_SECRET), and sends it back with later sign-ins. A
valid token for the user signing in makes the attempt count against that token's own budget
instead of the budget every other client of the user shares, so an attacker's failures cannot
hold the owner's own browser back. Nothing is stored: a token is valid when its signature,
user and expiry are; a new one is issued at every successful sign-in.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from services.identity.service_layer import keys
from services.identity.service_layer.common import digest
from services.identity.service_layer.dependencies import Dependencies

_VERSION = "d1"


@dataclass(frozen=True)
class DeviceToken:
    token: str
    expires_at: float  # epoch seconds of the injected clock


def _signature(key: bytes, body: str) -> str:
    mac = hmac.new(key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def issue_device_token(deps: Dependencies, user_id: str) -> DeviceToken:
    """A new token for the browser that just signed in as `user_id`."""
    expires_at = int(deps.clock.now() + deps.settings.device_token_lifetime)
    body = f"{_VERSION}.{user_id}.{expires_at}.{secrets.token_urlsafe(16)}"
    return DeviceToken(f"{body}.{_signature(deps.settings.device_key(), body)}", float(expires_at))


def device_budget(deps: Dependencies, token: str, user_id: str | None) -> str | None:
    """The failure budget of `token` when it is a valid, unexpired device token of `user_id`;
    None when it is anything else (missing, forged, expired, another user's): no device."""
    if not token or user_id is None:
        return None
    body, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature.encode("ascii", "replace"),
                               _signature(deps.settings.device_key(), body).encode("ascii")):
        return None
    version, _, rest = body.partition(".")
    user_and_expiry, _, _nonce = rest.rpartition(".")
    named_user, _, expiry = user_and_expiry.rpartition(".")
    if version != _VERSION or named_user != user_id or not expiry.isdigit():
        return None
    if float(expiry) <= deps.clock.now():
        return None
    return keys.login_failures_of_device(digest(token))
