"""The decline and refusal messages: one table, stable codes, every message translated."""
from babel.messages.pofile import read_po

from billing_common.payments import messages
from web.common.catalogue import CATALOGUE, SOURCES


def test_every_code_has_a_message_and_an_unknown_decline_code_reads_as_a_plain_decline():
    assert all(messages.message(code) for code in messages.MESSAGES)
    assert set(messages.MESSAGES) >= messages.DECLINE_CODES
    assert messages.message("do_not_honor") == "Your card was declined."


def test_every_payment_message_has_a_pt_br_translation_in_the_portals_catalogue():
    with (CATALOGUE / "pt_BR" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    assert {text: catalogue.get(text) for text in messages.MESSAGES.values() if not catalogue.get(text)} == {}


def test_the_catalogues_extraction_reads_the_payment_messages_so_an_update_keeps_them():
    # `python -m web.common.catalogue extract` drops msgids it does not find in SOURCES.
    assert any(messages.__file__.startswith(str(source)) for source in SOURCES)
