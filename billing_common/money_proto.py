"""billing.common.v1.Money <-> billing_common.money.Money, kept out of the plain-Python domain."""
from __future__ import annotations

from billing.common.v1 import money_pb2
from billing_common.money import Money


def to_proto(money: Money) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=money.amount_minor, currency=money.currency)


def from_proto(message: money_pb2.Money) -> Money:
    return Money(message.amount_minor, message.currency)
