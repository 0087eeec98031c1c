"""The invoice PDF: it parses, reads in the reader's language with accents and R$ amounts
intact, embeds its font, and a long invoice runs over several pages."""
import datetime as dt
import io
import logging
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing_common.invoicing.pdf import (
    LABELS,
    InvoiceLine,
    InvoiceView,
    TaxLine,
    locale_of,
    render_invoice_pdf,
)
from billing_common.invoicing.profile import validate_billing_profile

VENDOR_BR = validate_billing_profile(
    company_name="Meetings Example Tecnologia Ltda.", address_line1="Av. Paulista, 1000", address_line2="10º andar",
    city="São Paulo", region="SP", postal_code="01310-100", country="BR", tax_id="11.222.333/0001-81")
PADARIA = validate_billing_profile(
    company_name="Padaria Pão Quente", address_line1="Rua Augusta, 1500", city="São Paulo", region="SP",
    postal_code="01304-001", country="BR", tax_id="12.ABC.345/01DE-35")
VENDOR_US = validate_billing_profile(
    company_name="Meetings Example, Inc.", address_line1="500 Market St", city="San Francisco", region="CA",
    postal_code="94105", country="US", tax_id="12-3456789")
GLOBEX = validate_billing_profile(
    company_name="Globex Corporation", address_line1="1 Globex Way", city="Cypress Creek", region="OR",
    postal_code="97001", country="US")


def padaria_invoice(**changes):
    fields = dict(
        number="BC-2026-000123", status="open", issue_date=dt.date(2026, 3, 15), due_date=dt.date(2026, 3, 25),
        currency="BRL", seller=VENDOR_BR, buyer=PADARIA,
        lines=(InvoiceLine("Plano Profissional — 5 licenças, mensal", 5, 24690, 123450),
               InvoiceLine("Crédito pelo tempo não usado do Plano Básico", 1, -12345, -12345)),
        taxes=(TaxLine("ISS 5%", 5555),), amount_paid_minor=10000, po_number="PO-7781")
    return InvoiceView(**{**fields, **changes})


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_brazilian_invoice_reads_in_portuguese_with_its_accents_and_real_amounts():
    pdf = render_invoice_pdf(padaria_invoice(), "pt-BR")
    assert pdf.startswith(b"%PDF-")
    [page] = text_of(pdf)
    for label in ("FATURA", "Número da fatura", "Data de emissão", "Vencimento", "Pedido de compra", "Situação",
                  "Cliente".upper(), "Descrição", "Qtd.", "Preço unitário", "Valor", "Subtotal", "Total",
                  "Valor pago", "Saldo a pagar", "Em aberto", "Página 1 de 1"):
        assert label in page, label
    for text in ("Padaria Pão Quente", "São Paulo - SP, 01304-001", "Brasil", "CNPJ: 12.ABC.345/01DE-35",
                 "CNPJ: 11.222.333/0001-81", "Plano Profissional — 5 licenças, mensal", "PO-7781",
                 "15/03/2026", "25/03/2026", "BC-2026-000123", "ISS 5%"):
        assert text in page, text
    # Lines, subtotal, tax, total, paid, balance: exactly as Babel writes them for pt-BR.
    for amount in ("R$ 246,90", "R$ 1.234,50", "-R$ 123,45", "R$ 1.111,05", "R$ 55,55", "R$ 1.166,60",
                   "R$ 100,00", "R$ 1.066,60"):
        assert amount in page, amount
    assert "Invoice" not in page


def test_the_same_invoice_reads_in_english_for_an_english_reader():
    [page] = text_of(render_invoice_pdf(padaria_invoice(), "en"))
    for label in ("INVOICE", "Invoice number", "Issue date", "Due date", "PO number", "BILL TO", "Unit price",
                  "Balance due", "Amount paid", "Open", "Mar 15, 2026", "Brazil", "Page 1 of 1"):
        assert label in page, label
    assert "Padaria Pão Quente" in page
    assert "R$1,234.50" in page


def test_a_dollar_invoice_in_english_shows_dollar_amounts():
    invoice = padaria_invoice(currency="USD", seller=VENDOR_US, buyer=GLOBEX, taxes=(), amount_paid_minor=123456,
                              status="paid", po_number=None,
                              lines=(InvoiceLine("Enterprise plan, 12 seats, annual", 12, 10288, 123456),))
    [page] = text_of(render_invoice_pdf(invoice, "en"))
    assert "$1,234.56" in page
    assert "$0.00" in page
    assert "Paid" in page
    assert "San Francisco, CA 94105" in page and "Tax ID: 12-3456789" in page
    assert "PO number" not in page


def test_every_status_has_its_label_in_both_languages():
    for locale, labels in LABELS.items():
        for status in ("draft", "open", "partially_paid", "paid", "overdue", "void"):
            [page] = text_of(render_invoice_pdf(padaria_invoice(status=status), locale))
            assert labels[f"status.{status}"] in page


def test_a_sixty_line_invoice_runs_over_several_pages_with_headings_on_each():
    lines = tuple(InvoiceLine(f"Licença adicional nº {i}", 1, 1000, 1000) for i in range(1, 61))
    pdf = render_invoice_pdf(padaria_invoice(lines=lines, taxes=()), "pt-BR")
    pages = text_of(pdf)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Página {number} de {len(pages)}" in page
        assert "Descrição" in page and "Preço unitário" in page
    everything = "\n".join(pages)
    for i in range(1, 61):
        assert f"Licença adicional nº {i}\n" in everything or f"Licença adicional nº {i} " in everything
    # The totals are printed once, together, after the last line.
    assert everything.count("Saldo a pagar") == 1
    assert "R$ 600,00" in pages[-1] and "Saldo a pagar R$ 500,00" in pages[-1]


def test_the_font_is_embedded_so_any_reader_shows_the_accents():
    reader = PdfReader(io.BytesIO(render_invoice_pdf(padaria_invoice(), "pt-BR")))
    fonts = reader.pages[0]["/Resources"]["/Font"].values()
    names = set()
    for font in fonts:
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert "/ToUnicode" in font
        names.add(str(font["/BaseFont"]).split("+", 1)[1])
    assert names == {"DejaVuSansBook", "DejaVuSansBold"}


def test_the_pdf_is_titled_and_dated_by_the_invoice_and_the_same_view_gives_the_same_bytes():
    invoice = padaria_invoice()
    pdf = render_invoice_pdf(invoice, "pt-BR")
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.title == "Fatura BC-2026-000123"
    assert metadata.author == "Meetings Example Tecnologia Ltda."
    assert metadata.creation_date == dt.datetime(2026, 3, 15, tzinfo=dt.UTC)
    assert render_invoice_pdf(invoice, "pt-BR") == pdf


def test_the_totals_are_derived_from_the_lines_so_the_pdf_cannot_contradict_itself():
    invoice = padaria_invoice()
    assert invoice.subtotal_minor == 123450 - 12345
    assert invoice.tax_minor == 5555
    assert invoice.total_minor == 123450 - 12345 + 5555
    assert invoice.balance_minor == invoice.total_minor - 10000


def test_a_void_invoice_shows_nothing_left_to_pay():
    invoice = padaria_invoice(status="void")
    assert invoice.balance_minor == 0
    page = text_of(render_invoice_pdf(invoice, "pt-BR"))[0]
    assert "Cancelada" in page and "Saldo a pagar R$ 0,00" in page


def test_quantities_may_be_fractions_written_the_readers_way():
    invoice = padaria_invoice(lines=(InvoiceLine("Horas de suporte", Decimal("2.5"), 20000, 50000),))
    assert "2,5" in text_of(render_invoice_pdf(invoice, "pt-BR"))[0]
    assert "2.5" in text_of(render_invoice_pdf(invoice, "en"))[0]


def test_long_names_and_descriptions_wrap_instead_of_running_off_the_page():
    long_name = "Padaria Pão Quente Comércio de Alimentos e Confeitaria Artesanal da Vila Madalena Ltda. - ME"
    buyer = validate_billing_profile(company_name=long_name, address_line1="Rua Augusta, 1500", city="São Paulo",
                                     postal_code="01304-001", country="BR")
    description = "Plano Profissional " + "com suporte prioritário " * 12
    [page] = text_of(render_invoice_pdf(padaria_invoice(buyer=buyer, lines=(InvoiceLine(description, 1, 1, 1),)),
                                        "pt-BR"))
    words = " ".join(page.split())
    assert long_name in words and "Saldo a pagar" in words
    assert words.count("suporte prioritário") == 12


def test_characters_the_font_lacks_do_not_stop_the_pdf(caplog):
    buyer = validate_billing_profile(company_name="株式会社 Example 🍞", address_line1="1-1 Chiyoda", city="Tokyo",
                                     country="JP")
    with caplog.at_level(logging.ERROR):
        pdf = render_invoice_pdf(padaria_invoice(buyer=buyer), "en")
    assert "Example" in text_of(pdf)[0]


def test_a_draft_may_have_no_number_yet_but_an_issued_invoice_must():
    [page] = text_of(render_invoice_pdf(padaria_invoice(number="", status="draft"), "pt-BR"))
    assert "Rascunho" in page
    with pytest.raises(ValueError):
        padaria_invoice(number="", status="open")


@pytest.mark.parametrize("changes", [{"status": "settled"}, {"currency": "XXY"}])
def test_a_view_with_an_unknown_status_or_currency_is_refused_before_rendering(changes):
    with pytest.raises(ValueError):
        padaria_invoice(**changes)


@pytest.mark.parametrize("language, locale", [("pt-BR", "pt_BR"), ("pt_BR", "pt_BR"), ("pt", "pt_BR"),
                                              ("en", "en"), ("en-US", "en"), ("de", "en"), ("", "en")])
def test_the_readers_language_picks_portuguese_or_english(language, locale):
    assert locale_of(language) == locale


def test_a_quote_prints_on_the_invoice_layout_with_its_own_title_validity_and_terms_and_no_balance():
    quote = padaria_invoice(number="QT-0042-2", status="superseded", document="quote", terms="NET 45",
                            due_date=dt.date(2026, 4, 14), amount_paid_minor=0, taxes=())
    [page] = text_of(render_invoice_pdf(quote, "pt-BR"))
    assert "COTAÇÃO" in page and "QT-0042-2" in page and "SUBSTITUÍDA" in page
    assert "Válida até" in page and "14/04/2026" in page and "NET 45" in page
    assert "Saldo a pagar" not in page and "Vencimento" not in page
    [page] = text_of(render_invoice_pdf(quote, "en"))
    assert "QUOTE" in page and "Valid until" in page and "Balance due" not in page
