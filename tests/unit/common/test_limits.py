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


@pytest.mark.parametrize("text", ["Ana Silva", "José\u00adMaria", "Ana\u200bSilva",
                                  "team \U0001f468\u200d\U0001f469\u200d\U0001f467"])
def test_what_people_type_is_allowed_soft_hyphens_and_emoji_joiners_included(text: str) -> None:
    assert not limits.has_disallowed_characters(text)


@pytest.mark.parametrize("text", ["bell\x07", "nul\x00", "line\nbreak", "not utf-8 \ufffd", "evil\u202etxt.exe",
                                  "lone \ud800 surrogate"])
def test_control_replacement_bidi_and_surrogate_characters_are_refused(text: str) -> None:
    assert limits.has_disallowed_characters(text)


def test_multiline_text_keeps_its_line_breaks_and_tabs_only() -> None:
    assert not limits.has_disallowed_characters("one\r\ntwo\tthree", multiline=True)
    assert limits.has_disallowed_characters("one\x0btwo", multiline=True)


@pytest.mark.parametrize("value, valid", [("ana@example.test", True), ("ana\u200b@example.test", False),
                                          ("ana@localhost", False), ("x" * 64 + "@" + "d" * 186 + ".test", False)])
def test_an_email_address_has_its_shape_its_length_and_no_invisible_character(value: str, valid: bool) -> None:
    assert limits.is_valid_email(value) is valid
