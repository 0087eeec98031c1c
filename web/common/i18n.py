"""Which language a page speaks: the `lang` cookie (the switcher), else the browser's choice.

The signed-in user's stored locale is deliberately not forced: a person reading in English
on a shared computer keeps English even if their profile says pt-BR.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel, format_date, get_locale

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


def format_day(value: datetime | None) -> str:
    return format_date(value, "long") if value is not None else ""


def init_i18n(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT_LOCALE)
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale,
                                 language_names=LANGUAGE_NAMES, locales=LOCALES)
