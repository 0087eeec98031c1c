"""The folders show the five processes: what each package may import is checked, not hoped for."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from billing_common.config import ROOT


def imported_modules(package: Path) -> dict[str, set[str]]:
    """{file: top-level names of the modules it imports} for every .py below `package`."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path, names in imported_modules(ROOT / package).items():
        hits = sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        if hits:
            bad[path] = hits
    return bad


def test_the_backends_shared_package_imports_no_web_framework():
    assert offenders("billing_common", ("flask", "flask_babel", "flask_wtf", "werkzeug", "jinja2",
                                        "wtforms", "gunicorn", "web")) == {}


def test_the_web_tier_holds_no_database_connection_and_no_service_code():
    # The front doors talk gRPC only (ARCHITECTURE.md): no SQL, no Redis, no backend internals.
    assert offenders("web", ("sqlalchemy", "alembic", "psycopg", "redis", "services")) == {}


@pytest.mark.parametrize("door, other", [("billing_center", "enterprise_portal"),
                                         ("enterprise_portal", "billing_center")])
def test_a_front_door_does_not_reach_into_the_other(door, other):
    assert offenders(f"web/{door}", (f"web.{other}",)) == {}


def test_the_shared_web_package_knows_neither_door():
    assert offenders("web/common", ("web.billing_center", "web.enterprise_portal")) == {}


@pytest.mark.parametrize("service", ["identity", "online_billing", "enterprise_portal"])
def test_a_domain_is_plain_python(service):
    assert offenders(f"services/{service}/domain", ("grpc", "flask", "sqlalchemy", "redis", "web")) == {}
