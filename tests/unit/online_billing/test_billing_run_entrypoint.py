"""The `renew` command's date rules and the billing run's settings."""
from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.billing_run import as_of_for

NOW = dt.datetime(2026, 12, 4, 15, 30, tzinfo=dt.UTC)


def test_without_a_date_or_with_today_the_run_is_as_of_now() -> None:
    assert as_of_for(None, NOW, "prod") == NOW
    assert as_of_for(NOW.date(), NOW, "prod") == NOW


def test_an_earlier_date_is_the_end_of_that_day_in_every_environment() -> None:
    assert as_of_for(dt.date(2026, 12, 1), NOW, "prod") == dt.datetime(2026, 12, 1, 23, 59, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize("env", ["dev", "test"])
def test_a_future_date_is_a_test_clock_in_dev_and_test(env: str) -> None:
    assert as_of_for(dt.date(2027, 1, 5), NOW, env) == dt.datetime(2027, 1, 5, 23, 59, 59, tzinfo=dt.UTC)


def test_a_future_date_is_refused_in_prod_naming_the_flag() -> None:
    with pytest.raises(ValueError, match="--date"):
        as_of_for(dt.date(2026, 12, 5), NOW, "prod")


def test_the_dunning_schedule_comes_from_the_environment_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONLINE_BILLING_DUNNING_RETRY_DAYS", "[2, 4, 7, 10]")
    assert OnlineBillingSettings().dunning_schedule().retry_days == (2, 4, 7, 10)


def test_a_dunning_schedule_that_does_not_increase_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="dunning_retry_days"):
        OnlineBillingSettings(dunning_retry_days=(3, 1))


def test_the_billing_run_settings_are_bounded() -> None:
    for bad in ({"renewal_batch_size": 0}, {"renewal_charge_concurrency": 0}, {"renewal_workers": 0},
                {"renewal_interval": -1}):
        with pytest.raises(ValidationError):
            OnlineBillingSettings(**bad)  # type: ignore[arg-type]
