"""The English messages of every card refusal and decline, under stable codes (one place).

The codes are what a gateway adapter returns and what callers compare and store; the messages
are for people. The web tier shows `message(code)` through its gettext, so each message here is a
msgid of the portals' catalogue (web/common/translations, extracted from this module too: the
N_ marker below is what pybabel looks for). Changing a message's English text changes its
msgid: translate it again in messages.po.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction into the catalogue; translated later, where it is shown."""
    return message


# Declines: the gateway's answer about a real attempt (adding a card, or a charge).
CARD_DECLINED = "card_declined"
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED_CARD = "expired_card"
INCORRECT_CVC = "incorrect_cvc"
PROCESSING_ERROR = "processing_error"

# Refusals of what was typed into the card form, before anything is charged.
INVALID_NUMBER = "invalid_number"
LIVE_CARD = "live_card"
INVALID_EXPIRY_MONTH = "invalid_expiry_month"
INVALID_EXPIRY_YEAR = "invalid_expiry_year"
EXPIRY_IN_PAST = "expiry_in_past"
INVALID_CVC = "invalid_cvc"
HOLDER_NAME_REQUIRED = "holder_name_required"
INVALID_HOLDER_NAME = "invalid_holder_name"

# A stored token the gateway no longer accepts (tampered with, or from another gateway).
INVALID_TOKEN = "invalid_token"
# A charge whose answer never came back (S20): neither paid nor failed until reconciled.
OUTCOME_UNKNOWN = "outcome_unknown"

MESSAGES: dict[str, str] = {
    CARD_DECLINED: N_("Your card was declined."),
    INSUFFICIENT_FUNDS: N_("Your card has insufficient funds."),
    EXPIRED_CARD: N_("Your card has expired."),
    INCORRECT_CVC: N_("Your card's security code is incorrect."),
    PROCESSING_ERROR: N_("An error occurred while processing your card. Try again in a little bit."),
    INVALID_NUMBER: N_("Your card number is invalid."),
    LIVE_CARD: N_("This is a test system, so real cards are refused. Use one of the test card numbers."),
    INVALID_EXPIRY_MONTH: N_("Your card's expiration month is invalid."),
    INVALID_EXPIRY_YEAR: N_("Your card's expiration year is invalid."),
    EXPIRY_IN_PAST: N_("Your card's expiration date is in the past."),
    INVALID_CVC: N_("Your card's security code is invalid."),
    HOLDER_NAME_REQUIRED: N_("Enter the name on the card."),
    INVALID_HOLDER_NAME: N_("The name on the card is too long or has characters that are not allowed."),
    INVALID_TOKEN: N_("This card can no longer be used. Please add it again."),
    OUTCOME_UNKNOWN: N_(
        "We could not confirm this payment yet. You will not be charged twice; we will let you know the outcome."
    ),
}

DECLINE_CODES = frozenset({CARD_DECLINED, INSUFFICIENT_FUNDS, EXPIRED_CARD, INCORRECT_CVC, PROCESSING_ERROR})


def message(code: str) -> str:
    """The English message of `code`; a code this table does not know reads as a plain decline
    (a real gateway has more decline codes than we name)."""
    return MESSAGES.get(code, MESSAGES[CARD_DECLINED])
