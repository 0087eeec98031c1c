"""The card form both portals use to pay, and the gateway's tokenizer (S18).

The number, expiry, CVC and name go to the tokenizer here, in the web tier, and only the token
goes to a service: nothing logs the form, puts it in the session or sends the number or CVC
back into a page.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from billing_common.limits import MAX_NAME
from billing_common.payments.cards import card_problems
from billing_common.payments.gateway import CardDetails, CardTokenizer, InvalidCard
from billing_common.payments.settings import GatewaySettings, build_tokenizer
from web.common.forms import PortalForm


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _int(value: object) -> int:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4 else 0


class CardForm(PortalForm):
    """The card as typed: it goes to the gateway's tokenizer and nowhere else (S18). The number
    and CVC are never rendered back into the page."""

    holder_name = StringField(_l("Name on the card"), filters=[_strip])
    number = StringField(_l("Card number"), filters=[_strip])
    exp_month = StringField(_l("Expiration month (MM)"), filters=[_strip])
    exp_year = StringField(_l("Expiration year (YYYY)"), filters=[_strip])
    cvc = StringField(_l("Security code (CVC)"), filters=[_strip])

    def validate_card(self, today: dt.date) -> bool:
        """Every field's problem (the payment package's card_problems, translated)."""
        ok = self.validate()
        for f in (self.holder_name, self.number, self.exp_month, self.exp_year, self.cvc):
            if not isinstance(f.data, str) or len(f.data) > MAX_NAME:
                f.data = ""
        problems = card_problems(self.number.data, _int(self.exp_month.data), _int(self.exp_year.data),
                                 self.cvc.data, self.holder_name.data, today)
        for problem in problems:
            self[problem.field].errors = [*list(self[problem.field].errors or ()), _(problem.message)]
        return ok and not problems

    def card_token(self, today: dt.date) -> str | None:
        """The gateway's token for the card typed, or None with every problem on its field (the
        form's checks, then the tokenizer's refusal) for the page to be shown again (400). Either
        way the number and CVC are gone from the form, and the card itself never leaves this
        method (S18)."""
        if not self.validate_card(today):
            self.forget_secrets()
            return None
        card = CardDetails(self.number.data, int(self.exp_month.data), int(self.exp_year.data), self.cvc.data,
                           self.holder_name.data)
        self.forget_secrets()
        try:
            return tokenizer().tokenize(card).token
        except InvalidCard as refused:
            for problem in refused.problems:
                self[problem.field].errors = [*list(self[problem.field].errors or ()), _(problem.message)]
            return None

    def forget_secrets(self) -> None:
        """Before the form is shown again: the number and CVC are not sent back (S18)."""
        self.number.data = ""
        self.number.raw_data = []
        self.cvc.data = ""
        self.cvc.raw_data = []


def tokenizer() -> CardTokenizer:
    """The gateway's tokenizer of this app (built once, from GatewaySettings in create_app)."""
    built: CardTokenizer = current_app.extensions["card_tokenizer"]
    return built


def install_tokenizer(app: Flask, settings: GatewaySettings | None = None) -> None:
    app.extensions["card_tokenizer"] = build_tokenizer(settings or GatewaySettings())
