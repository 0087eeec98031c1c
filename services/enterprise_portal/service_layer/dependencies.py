"""What every enterprise_portal use case is given, built by services.enterprise_portal.bootstrap from settings."""
from __future__ import annotations

from dataclasses import dataclass

from billing_common import dependencies
from services.enterprise_portal.service_layer.ports import UnitOfWork


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers). The payment gateway and mail join here
    with the first use cases that need them, so no use case's signature changes then."""
