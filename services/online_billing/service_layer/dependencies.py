"""What every online_billing use case is given, built by services.online_billing.bootstrap from settings."""
from __future__ import annotations

from dataclasses import dataclass

from billing_common import dependencies
from services.online_billing.service_layer.ports import UnitOfWork


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers). The payment gateway and mail join here
    with the first use cases that need them, so no use case's signature changes then."""
