"""Both portals built in-process against fake identity/backends served over real gRPC."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from billing_common.grpc_server import GrpcServer
from tests import callers
from tests.unit.web import fakes
from web.billing_center import create_app as create_billing_center_app
from web.common.settings import PortalSettings
from web.enterprise_portal import create_app as create_enterprise_app

BC_URL = "http://bc.localtest:8080"
EBP_URL = "http://ebp.localtest:8081"


@dataclass
class World:
    identity: fakes.FakeIdentity
    online: fakes.FakeOnlineBilling
    enterprise: fakes.FakeEnterprisePortal
    identity_server: GrpcServer
    online_server: GrpcServer
    enterprise_server: GrpcServer

    def settings(self, **overrides: Any) -> PortalSettings:
        values: dict[str, Any] = {
            "BILLING_ENV": "test",
            "SECRET_KEY": "test-secret-key-for-the-portal-unit-tests",
            "IDENTITY_TARGET": f"127.0.0.1:{self.identity_server.port}",
            "ONLINE_BILLING_TARGET": f"127.0.0.1:{self.online_server.port}",
            "ENTERPRISE_PORTAL_TARGET": f"127.0.0.1:{self.enterprise_server.port}",
            "BILLING_CENTER_URL": BC_URL,
            "ENTERPRISE_PORTAL_URL": EBP_URL,
            "COOKIE_SECURE": False,
            "RPC_TIMEOUT": 1.0,
            **callers.ENV,
        }
        values.update(overrides)
        return PortalSettings(**values)


@pytest.fixture
def world() -> Iterator[World]:
    identity, online, enterprise = fakes.demo_identity(), fakes.demo_online_billing(), fakes.demo_enterprise_portal()
    servers = (fakes.serve_identity(identity), fakes.serve_online_billing(online),
               fakes.serve_enterprise_portal(enterprise))
    yield World(identity, online, enterprise, *servers)
    for server in servers:
        server.stop()


def _build(factory: Callable[[PortalSettings], Flask], settings: PortalSettings) -> Flask:
    app = factory(settings)
    # CSRF stays ON in these tests (S16): every POST goes through a real token.
    assert app.config.get("WTF_CSRF_ENABLED", True)
    return app


@pytest.fixture
def make_app(world: World) -> Iterator[Callable[..., Flask]]:
    built: list[Flask] = []

    def make(portal: str, **overrides: Any) -> Flask:
        factory = create_billing_center_app if portal == "bc" else create_enterprise_app
        app = _build(factory, world.settings(**overrides))
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["portal"].close()


@pytest.fixture
def bc_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app("bc")


@pytest.fixture
def ebp_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app("ebp")


@pytest.fixture
def bc(bc_app: Flask) -> Any:
    return bc_app.test_client()


@pytest.fixture
def ebp(ebp_app: Flask) -> Any:
    return ebp_app.test_client()
