"""Which language a page speaks: the `lang` cookie (the switcher), else the browser's choice.

The signed-in user's stored locale is deliberately not forced: a person reading in English
on a shared computer keeps English even if their profile says pt-BR.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from babel import dates
from flask import Flask, current_app, g, request
from flask_babel import Babel, format_date, get_locale, get_timezone, get_translations, support
from pytz import UTC

from billing_common.money import Money

LOCALES = ("en", "pt_BR")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "lang"
LANGUAGE_NAMES = {"en": "English", "pt_BR": "Português (Brasil)"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def _from_tag(tag: str) -> str | None:
    primary = tag.replace("_", "-").split("-")[0].lower()
    # Brazilian Portuguese is the only Portuguese we have: pt and pt-PT readers get it too.
    return {"pt": "pt_BR", "en": "en"}.get(primary)


def select_locale() -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    for tag, _quality in request.accept_languages:  # already sorted by quality
        locale = _from_tag(tag)
        if locale:
            return locale
    return DEFAULT_LOCALE


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def html_lang() -> str:
    return current_locale().replace("_", "-")


def format_money(value: Money | None) -> str:
    return value.format(current_locale()) if value is not None else ""


def format_day(value: date | None) -> str:
    """flask_babel's format_date(value, "long"), with the request's locale and time zone looked
    up once per request: flask_babel looks both up, and the format, for every date (four fifths
    of a date's cost; an invoice history has a date per row). A datetime is shown in the
    request's time zone; a calendar date (an enterprise invoice's due date) as it is."""
    if value is None:
        return ""
    ns = g.get("_flask_babel")
    cached = getattr(ns, "portal_day", None)
    if cached is None or cached[0] is not getattr(ns, "babel_locale", None):
        return _day_and_cache(value)
    if not isinstance(value, datetime):
        return str(dates.format_date(value, "long", locale=cached[0]))
    _, zone = cached
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(dates.format_date(zone.normalize(value.astimezone(zone)), "long", locale=cached[0]))


def _day_and_cache(value: date) -> str:
    formatted = str(format_date(value, "long"))  # flask_babel's own way, which sets the request's locale
    ns = g.get("_flask_babel")
    if ns is not None and getattr(ns, "babel_locale", None) is not None and \
            current_app.extensions["babel"].instance.date_formats["date.long"] is None:
        ns.portal_day = (ns.babel_locale, get_timezone())
    return formatted


def request_translations() -> support.NullTranslations:
    """flask_babel.get_translations(), looked up once per request and locale.

    flask_babel looks the catalogue up again for every string (a dozen attribute look-ups
    through Flask's context proxies, about 10 µs); a page has dozens of strings, and py-spy
    showed them as a fifth of the web tier's Python time on the landing page. The cache sits
    in flask_babel's own per-request namespace, next to the locale it was made for, so
    force_locale() and refresh() still take effect.
    """
    ns = g.get("_flask_babel")
    locale = getattr(ns, "babel_locale", None)
    cached = getattr(ns, "portal_translations", None)
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    ns = g.get("_flask_babel")
    if ns is not None:
        ns.portal_translations = (getattr(ns, "babel_locale", None), translations)
    return translations


def gettext(msgid: str) -> str:
    """flask_babel's gettext for a string without variables, through `request_translations`:
    for Python code that translates per row (an invoice history's statuses and kinds)."""
    return str(request_translations().ugettext(msgid))


def init_i18n(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT_LOCALE)
    # The same callables flask_babel installs, with the catalogue looked up once per request.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    # `_` straight to that gettext: Jinja's alias resolves "gettext" in the template context
    # on every call (so a template could rebind it; none does), one more call per string.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"]
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale,
                                 language_names=LANGUAGE_NAMES, locales=LOCALES)
