"""What a request of either front door reaches through the app: its portal, settings, and
the typed clients of identity and of the door's own backend (app.extensions["portal"])."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app

from billing.identity.v1 import identity_pb2
from web.common.clients import GrpcClient, Identity
from web.common.portals import PORTALS, PortalInfo, other
from web.common.settings import PortalSettings

# Every door has a blueprint "home" whose `landing` view is "/": where sign-in, the brand link
# and the error pages send people.
LANDING = "home.landing"


@dataclass
class PortalRuntime:
    """Built once per app by create_portal_app; the clients open their channels on first use."""

    portal: identity_pb2.Portal.ValueType
    settings: PortalSettings
    identity: Identity
    backend: GrpcClient[Any]
    session_cookie: str
    csrf_cookie: str
    # The device token of OWASP's device cookies (S4), kept across sign-outs.
    device_cookie: str

    @property
    def info(self) -> PortalInfo:
        return PORTALS[self.portal]

    @property
    def other(self) -> PortalInfo:
        return other(self.portal)

    def url_of(self, info: PortalInfo) -> str:
        return str(getattr(self.settings, info.url_setting))

    def readiness(self) -> dict[str, bool]:
        return {"identity": self.identity.ready(), "backend": self.backend.ready()}

    def close(self) -> None:
        """This process's channels; gunicorn_config.worker_exit calls it as a worker exits."""
        self.identity.close()
        self.backend.close()


def portal() -> PortalRuntime:
    """The current app's portal (inside a request or app context)."""
    runtime: PortalRuntime = current_app.extensions["portal"]
    return runtime


def identity() -> Identity:
    return portal().identity


ClientT = TypeVar("ClientT", bound=GrpcClient[Any])


def backend_as(kind: type[ClientT]) -> ClientT:
    """This door's backend client, as the type the door built it with."""
    client = portal().backend
    if not isinstance(client, kind):
        raise TypeError(f"this app's backend is a {type(client).__name__}, not a {kind.__name__}")
    return client
