"""Messages enterprise_portal puts in its quote errors, listed here so the portals' catalogue
translates them (as web/common/remote_messages.py does for identity's): the web tier shows
them next to the field they name."""
from flask_babel import lazy_gettext as _l

QUOTE_MESSAGES = (
    _l("a quote is valid until today or later"),
    _l("a quote's terms are NET 30, NET 45, NET 60 or EOM"),
    _l("a quote needs at least one line to be sent"),
    _l("the draft's validity date has passed; change it first"),
    _l("a reason is 1 to 1000 characters"),
    _l("a comment is 1 to 2000 characters"),
)
