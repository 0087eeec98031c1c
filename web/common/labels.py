"""Translated names of enum values shown on pages."""
from __future__ import annotations

from flask_babel import gettext as _

from billing.identity.v1 import identity_pb2


def account_kind(kind: identity_pb2.AccountKind.ValueType) -> str:
    return {
        identity_pb2.ACCOUNT_KIND_ONLINE: _("Online"),
        identity_pb2.ACCOUNT_KIND_ENTERPRISE: _("Corporate"),
    }.get(kind, _("Unknown"))


def account_status(status: str) -> str:
    return {"active": _("Active"), "disabled": _("Disabled")}.get(status, status)


TEMPLATE_GLOBALS = {"account_kind": account_kind, "account_status": account_status}
