"""billing_common.limits: the one definition of what people may type, shared by forms and identity."""
from __future__ import annotations

import pytest

from billing_common import limits


@pytest.mark.parametrize("value", ["rita.rep", "globex-billing", "a_b", "x" * 64, "ap@globex.test",
                                   "o'brien+billing@example.co.uk"])
def test_user_names_and_email_addresses_are_possible_user_ids(value: str) -> None:
    assert limits.is_possible_user_id(value)


@pytest.mark.parametrize("value", ["", "ab", "x" * 65, "has space", "olivia@", "@acme.test", "a@b",
                                   "a@b.c d", "x" * 60 + "@" + "d" * 190 + ".test"])
def test_anything_else_cannot_be_a_user_id(value: str) -> None:
    assert not limits.is_possible_user_id(value)


def test_the_limits_are_the_forms_values_where_identity_used_to_differ() -> None:
    assert (limits.MAX_NAME, limits.MAX_SUBJECT, limits.MAX_MESSAGE, limits.MAX_NOTE) == (100, 150, 5000, 500)
    assert (limits.MIN_PASSWORD, limits.MAX_PASSWORD) == (8, 1024)
    assert limits.MAX_EMAIL == limits.MAX_USER_ID == 254
