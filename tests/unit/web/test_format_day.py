"""web.common.i18n.format_day caches the request's locale and time zone: its text must stay
flask_babel's format_date(value, "long"), in both languages, across force_locale."""
import datetime as dt

import pytest
from flask import Flask
from flask_babel import force_locale, format_date

from web.common.i18n import format_day, init_i18n

DAYS = [dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
        dt.datetime(2026, 5, 3, 12, 0)]  # naive: read as UTC, as flask_babel does


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    init_i18n(app)
    return app


def test_dates_read_as_flask_babel_writes_them_in_each_language_and_after_a_switch(app: Flask) -> None:
    with app.test_request_context("/"):
        english = [format_day(d) for d in DAYS]  # the first call caches, the others use the cache
        with force_locale("pt_BR"):
            portuguese = [format_day(d) for d in DAYS]
            assert portuguese == [str(format_date(d, "long")) for d in DAYS]
        assert [format_day(d) for d in DAYS] == english == [str(format_date(d, "long")) for d in DAYS]
    assert english == ["December 31, 2026", "January 1, 2026", "May 3, 2026"]
    assert portuguese == ["31 de dezembro de 2026", "1 de janeiro de 2026", "3 de maio de 2026"]
    with app.test_request_context("/"):
        assert format_day(None) == ""


def test_a_calendar_date_is_written_as_it_is_in_each_language(app: Flask) -> None:
    """An enterprise invoice's due date is a date, not a moment: no time zone applies."""
    due = dt.date(2027, 1, 15)
    with app.test_request_context("/"):
        assert format_day(DAYS[0]) == "December 31, 2026"  # the locale is cached from here on
        assert format_day(due) == "January 15, 2027"
        with force_locale("pt_BR"):
            assert format_day(due) == "15 de janeiro de 2027"
            assert format_day(due) == "15 de janeiro de 2027"
