"""The store's layout is written once, in service_layer/keys.py."""
from __future__ import annotations

import re
from pathlib import Path

from services.identity.service_layer import keys

SERVICE_LAYER = Path(keys.__file__).parent


def test_no_use_case_spells_a_store_key_itself() -> None:
    spelled = re.compile(r"""f["'](session|user-sessions|handoff|reset|reset-current|rl):""")
    offenders = [path.name for path in SERVICE_LAYER.glob("*.py")
                 if path.name != "keys.py" and spelled.search(path.read_text())]
    assert offenders == []


def test_keys_of_different_kinds_never_collide_for_the_same_id() -> None:
    one_arg = [getattr(keys, name) for name in dir(keys)
               if not name.startswith("_") and callable(getattr(keys, name))]
    made = [make("x") for make in one_arg]
    assert len(made) == len(set(made)) == len(one_arg)


def test_sign_in_budgets_are_kept_per_user_per_device_token_and_per_address() -> None:
    assert keys.login_failures_of_user("u1") == "rl:login-fail:user:u1"
    assert keys.login_failures_of_device("d1") == "rl:login-fail:device:d1"
    assert keys.login_failures_of_address("2001:db8::/64") == "rl:login-fail:addr:2001:db8::/64"
    assert keys.customer_care_by_address("") == "rl:care:addr:unknown"
