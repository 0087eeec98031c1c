"""Payment terms of enterprise invoices and quotes, and the due date they give (plain Python).

Terms are written the way they print on an invoice and are stored as that text:

- ``NET n``: due n calendar days after the issue date (``NET 0`` is "due on receipt").
  ``NET 30`` is the default; ``NET 45`` and ``NET 60`` are the other standard choices.
- ``EOM``: due on the last day of the month the invoice is issued in (an invoice of
  14 March is due 31 March; one issued on 31 March is due that same day).
- ``EOM+n``: due n days after the last day of the issue month (``EOM+15`` on 14 March is
  due 15 April), the usual way to give late-month invoices more time.

n is 0 to 365 for NET and 1 to 365 for EOM+n. The text is upper-case with no other spelling
("net 30", "NET 30 days" are refused), so one set of terms has exactly one way to be written.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from billing_common.errors import InvalidArgument

MAX_DAYS = 365

_NET = re.compile(r"NET (0|[1-9]\d{0,2})")
_EOM = re.compile(r"EOM(?:\+([1-9]\d{0,2}))?")


class InvalidTerms(InvalidArgument, ValueError):
    """Payment terms that are not NET n or EOM[+n]; names the field `terms`."""

    def __init__(self, text: object) -> None:
        super().__init__(f"unsupported payment terms {text!r}: use NET n, EOM or EOM+n", field="terms")


class TermsKind(StrEnum):
    NET = "net"
    END_OF_MONTH = "eom"


def last_day_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    kind: TermsKind
    days: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int) or not 0 <= self.days <= MAX_DAYS:
            raise InvalidTerms(self.days)

    @classmethod
    def net(cls, days: int) -> PaymentTerms:
        return cls(TermsKind.NET, days)

    @classmethod
    def end_of_month(cls, plus_days: int = 0) -> PaymentTerms:
        return cls(TermsKind.END_OF_MONTH, plus_days)

    @classmethod
    def parse(cls, text: str) -> PaymentTerms:
        """"NET 45" -> net 45 days, "EOM" -> end of month, "EOM+15"; anything else is refused."""
        if not isinstance(text, str):
            raise InvalidTerms(text)
        if (net := _NET.fullmatch(text)) is not None and int(net.group(1)) <= MAX_DAYS:
            return cls.net(int(net.group(1)))
        if (eom := _EOM.fullmatch(text)) is not None and int(eom.group(1) or 0) <= MAX_DAYS:
            return cls.end_of_month(int(eom.group(1) or 0))
        raise InvalidTerms(text)

    def __str__(self) -> str:
        if self.kind is TermsKind.NET:
            return f"NET {self.days}"
        return f"EOM+{self.days}" if self.days else "EOM"

    def due_on(self, issued_on: dt.date) -> dt.date:
        """The last day to pay an invoice issued on `issued_on` (paying on it is on time)."""
        if self.kind is TermsKind.NET:
            return issued_on + dt.timedelta(days=self.days)
        return last_day_of_month(issued_on) + dt.timedelta(days=self.days)


NET_30 = PaymentTerms.net(30)
NET_45 = PaymentTerms.net(45)
NET_60 = PaymentTerms.net(60)
END_OF_MONTH = PaymentTerms.end_of_month()
DEFAULT_TERMS = NET_30
# What a rep chooses from on a quote (the four); other NET/EOM+n terms are accepted
# on invoices so an agreed exception can be recorded as written.
STANDARD_TERMS = (NET_30, NET_45, NET_60, END_OF_MONTH)
