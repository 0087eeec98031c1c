"""Settings of the two web front doors (Billing Center, Enterprise Billing Portal).

Both portals read the same variables: each needs the other's public URL (hand-off form,
Content-Security-Policy form-action) and the gRPC targets of identity and its own backend.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, model_validator

from billing_common.config import CallerSecretSettings, secret_key_for


class PortalSettings(CallerSecretSettings):
    """Each door sends its own caller secret on its gRPC calls (CALLER_SECRET_BILLING_CENTER_WEB
    or CALLER_SECRET_ENTERPRISE_PORTAL_WEB) and will not be built without it."""

    # Unset in dev and test: the public dev key; in prod required, and never that key.
    secret_key: str | None = Field(None, validation_alias="SECRET_KEY")
    identity_target: str = Field("127.0.0.1:50051", validation_alias="IDENTITY_TARGET")
    online_billing_target: str = Field("127.0.0.1:50052", validation_alias="ONLINE_BILLING_TARGET")
    enterprise_portal_target: str = Field("127.0.0.1:50053", validation_alias="ENTERPRISE_PORTAL_TARGET")
    billing_center_url: str = Field("http://127.0.0.1:8080", validation_alias="BILLING_CENTER_URL")
    enterprise_portal_url: str = Field("http://127.0.0.1:8081", validation_alias="ENTERPRISE_PORTAL_URL")
    # None: Secure cookies everywhere except local development and tests (S10).
    cookie_secure: bool | None = Field(None, validation_alias="COOKIE_SECURE")
    # Deadline in seconds of every gRPC call the web tier makes (S22).
    rpc_timeout: float = Field(2.0, validation_alias="RPC_TIMEOUT", gt=0, le=60)
    # How many reverse proxies (an Ingress, a load balancer) stand in front of the web tier and
    # append to X-Forwarded-For/-Proto. 0: the peer address is the visitor's (ports published
    # directly). Per-address rate limits need the visitor's, not the proxy's, address.
    trusted_proxies: int = Field(0, validation_alias="TRUSTED_PROXIES", ge=0, le=10)

    @model_validator(mode="after")
    def _defaults_by_environment(self) -> PortalSettings:
        self.secret_key = secret_key_for(self.env, self.secret_key)
        if self.cookie_secure is None:
            self.cookie_secure = self.env not in ("dev", "test")
        for name in ("billing_center_url", "enterprise_portal_url"):
            url = getattr(self, name)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{name} must be an absolute http(s) URL, got {url!r}")
            setattr(self, name, url.rstrip("/"))
        return self


def origin(url: str) -> str:
    """scheme://host[:port] of a base URL, as CSP and browsers compare origins."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalized_origin(url: str) -> str | None:
    """scheme://host[:port] as a browser serializes it in an Origin header: lower case, no
    default port, no user info. None when `url` has no http(s) origin (e.g. "null")."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}")
