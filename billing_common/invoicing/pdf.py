"""An invoice as PDF bytes (fpdf2), in the reader's language: English or Brazilian Portuguese.

The text is set in DejaVu Sans, vendored beside this module (fonts/, with its licence and a
NOTICE) and embedded in every PDF (subset to the glyphs used), so "Padaria Pão Quente", "São
Paulo" and "R$ 1.234,56" print and can be searched and copied on any reader, with no font
installed on the server. Characters DejaVu Sans lacks (Chinese, Japanese, Korean) print as
blanks; a font that has them would have to be added as a fallback.

Labels live in `LABELS`, one small dict per language, rather than in the web tier's message
catalogue, which the services do not load. Amounts go through billing_common.money (Babel):
"R$ 1.234,56" in pt-BR, "$1,234.56" in en; Babel's no-break spaces become plain spaces, so a
reader's search for "R$ 1.234,56" finds the amount (cells never wrap an amount).

The view holds only what is printed, and derives its totals from its lines, so a PDF cannot
contradict itself: subtotal = the lines' amounts, total = subtotal + taxes, balance = total -
amount paid (none on a void invoice). Rendering the same view twice gives the same bytes (the PDF's creation date is the
invoice's issue date).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from billing_common.invoicing.countries import country_name
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money

FONTS = Path(__file__).resolve().parent / "fonts"

InvoiceStatus = Literal["draft", "open", "partially_paid", "paid", "overdue", "void",
                        # a quote's (same document, see InvoiceView.document)
                        "accepted", "declined", "expired", "superseded"]
Document = Literal["invoice", "quote"]
Locale = Literal["en", "pt_BR"]

LABELS: dict[Locale, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "number": "Invoice number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "po_number": "PO number",
        "status": "Status",
        "bill_to": "Bill to",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "total": "Total",
        "amount_paid": "Amount paid",
        "balance": "Balance due",
        "page": "Page {page} of {pages}",
        "tax_id.cpf": "CPF",
        "tax_id.cnpj": "CNPJ",
        "tax_id.vat": "VAT number",
        "tax_id.other": "Tax ID",
        "status.draft": "Draft",
        "status.open": "Open",
        "status.partially_paid": "Partially paid",
        "status.paid": "Paid",
        "status.overdue": "Overdue",
        "status.void": "Void",
        "status.accepted": "Accepted",
        "status.declined": "Declined",
        "status.expired": "Expired",
        "status.superseded": "Superseded",
        "terms": "Payment terms",
        "quote.invoice": "Quote",
        "quote.number": "Quote number",
        "quote.issue_date": "Date",
        "quote.due_date": "Valid until",
        "date_format": "MMM d, yyyy",
    },
    "pt_BR": {
        "invoice": "Fatura",
        "number": "Número da fatura",
        "issue_date": "Data de emissão",
        "due_date": "Vencimento",
        "po_number": "Pedido de compra",
        "status": "Situação",
        "bill_to": "Cliente",
        "description": "Descrição",
        "quantity": "Qtd.",
        "unit_price": "Preço unitário",
        "amount": "Valor",
        "subtotal": "Subtotal",
        "total": "Total",
        "amount_paid": "Valor pago",
        "balance": "Saldo a pagar",
        "page": "Página {page} de {pages}",
        "tax_id.cpf": "CPF",
        "tax_id.cnpj": "CNPJ",
        "tax_id.vat": "Nº de IVA",
        "tax_id.other": "Identificação fiscal",
        "status.draft": "Rascunho",
        "status.open": "Em aberto",
        "status.partially_paid": "Parcialmente paga",
        "status.paid": "Paga",
        "status.overdue": "Vencida",
        "status.void": "Cancelada",
        "status.accepted": "Aceita",
        "status.declined": "Recusada",
        "status.expired": "Expirada",
        "status.superseded": "Substituída",
        "terms": "Condições de pagamento",
        "quote.invoice": "Cotação",
        "quote.number": "Número da cotação",
        "quote.issue_date": "Data",
        "quote.due_date": "Válida até",
        "date_format": "dd/MM/yyyy",
    },
}

_STATUS_COLOUR = {"paid": (22, 120, 60), "overdue": (176, 32, 32), "void": (176, 32, 32)}
_GREY = (96, 96, 96)
_RULE = (200, 200, 200)
_SHADE = (238, 240, 243)
# Where each of the country's address lines puts the postal code, region and city.
_CITY_FIRST = frozenset({"US", "CA", "AU", "GB", "IE", "NZ"})


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: int | Decimal
    unit_price_minor: int
    # Given, not computed: a prorated line's amount is not quantity x unit price.
    amount_minor: int


@dataclass(frozen=True, slots=True)
class TaxLine:
    label: str  # as it should read, e.g. "ISS 5%" or "VAT 21%"
    amount_minor: int


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """What an invoice shows, built by the service that owns it. The seller is the vendor's
    own details from configuration, the buyer the account's billing profile as it was when
    the invoice was issued."""

    number: str  # "" only while a draft
    status: InvoiceStatus
    issue_date: dt.date
    due_date: dt.date
    currency: str
    seller: BillingProfile
    buyer: BillingProfile
    lines: tuple[InvoiceLine, ...]
    taxes: tuple[TaxLine, ...] = ()
    amount_paid_minor: int = 0
    po_number: str | None = None
    # A quote prints on the same page as an invoice (one layout to keep right, not two): its
    # title and number labels are the quote's, due_date is its validity date, and it has no
    # amount paid or balance.
    document: Document = "invoice"
    terms: str = ""

    def __post_init__(self) -> None:
        if f"status.{self.status}" not in LABELS["en"]:
            raise ValueError(f"unknown invoice status {self.status!r}")
        if not self.number and self.status != "draft":
            raise ValueError("only a draft invoice may have no number yet")
        Money.zero(self.currency)  # an unknown currency fails here, not half-way through a page

    @property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        return sum(tax.amount_minor for tax in self.taxes)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor

    @property
    def balance_minor(self) -> int:
        """What is still owed; nothing on a void invoice, whatever its lines said."""
        if self.status == "void":
            return 0
        return self.total_minor - self.amount_paid_minor


def locale_of(language: str) -> Locale:
    """The PDF's language for a reader's locale: Portuguese ("pt-BR", "pt_BR", "pt") or English."""
    return "pt_BR" if language.replace("-", "_").lower().startswith("pt") else "en"


def render_invoice_pdf(invoice: InvoiceView, language: str) -> bytes:
    """The invoice as a PDF document in `language` (see locale_of)."""
    return _InvoicePdf(invoice, locale_of(language)).render()


class _InvoicePdf(FPDF):
    def __init__(self, invoice: InvoiceView, locale: Locale) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.invoice = invoice
        self.locale = locale
        self.labels = LABELS[locale]
        if invoice.document == "quote":
            self.labels = {**self.labels, **{k.removeprefix("quote."): v for k, v in self.labels.items()
                                             if k.startswith("quote.")}}
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=20)
        title = f"{self.labels['invoice']} {invoice.number}".strip()
        self.set_title(title)
        self.set_author(invoice.seller.company_name)
        self.set_creator("billing_common.invoicing")
        self.set_lang("pt-BR" if locale == "pt_BR" else "en")
        self.set_creation_date(dt.datetime.combine(invoice.issue_date, dt.time(), tzinfo=dt.UTC))

    # --- formatting -----------------------------------------------------------------------

    def money(self, amount_minor: int) -> str:
        text = Money(amount_minor, self.invoice.currency).format(self.locale)
        return text.replace("\u00a0", " ").replace("\u202f", " ")

    def date(self, day: dt.date) -> str:
        return format_date(day, self.labels["date_format"], locale=self.locale)

    def quantity(self, quantity: int | Decimal) -> str:
        return format_decimal(quantity, locale=self.locale).replace("\u00a0", " ")

    def status(self) -> str:
        return self.labels[f"status.{self.invoice.status}"]

    def address(self, party: BillingProfile) -> list[str]:
        lines = [party.address_line1]
        if party.address_line2:
            lines.append(party.address_line2)
        if party.country == "BR":
            place = " - ".join(p for p in (party.city, party.region) if p)
            lines.append(f"{place}, {party.postal_code}" if party.postal_code else place)
        elif party.country in _CITY_FIRST:
            lines.append(" ".join(p for p in (", ".join(p for p in (party.city, party.region) if p),
                                              party.postal_code) if p))
        else:
            lines.append(" ".join(p for p in (party.postal_code, party.city) if p))
            if party.region:
                lines.append(party.region)
        lines.append(country_name(party.country, self.locale))
        if party.tax_id is not None:
            lines.append(f"{self.labels['tax_id.' + party.tax_id.kind]}: {party.tax_id.formatted()}")
        return lines

    # --- pages ----------------------------------------------------------------------------

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*_GREY)
        page = self.labels["page"].format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, f"{self.invoice.seller.company_name} · {self.labels['invoice']} "
                        f"{self.invoice.number} · {page}".replace("  ", " "), align="C")

    def render(self) -> bytes:
        self.add_page()
        self.header_block()
        self.parties_block()
        self.lines_table()
        self.totals_block()
        return bytes(self.output())

    def header_block(self) -> None:
        seller = self.invoice.seller
        top = self.get_y()
        half = self.epw / 2
        self.set_text_color(0, 0, 0)
        self.set_font("DejaVu", "B", 15)
        self.multi_cell(half + 10, 7, seller.company_name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 8.5)
        self.set_text_color(*_GREY)
        for line in self.address(seller):
            self.multi_cell(half + 10, 4.2, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottom = self.get_y()

        self.set_xy(self.l_margin + half, top)
        self.set_font("DejaVu", "B", 22)
        self.set_text_color(0, 0, 0)
        self.cell(half, 10, self.labels["invoice"].upper(), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 11)
        self.cell(half, 6, self.invoice.number, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font("DejaVu", "B", 10)
        self.set_text_color(*_STATUS_COLOUR.get(self.invoice.status, _GREY))
        self.cell(half, 6, self.status().upper(), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(bottom, self.get_y()) + 6)
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
        self.ln(5)

    def parties_block(self) -> None:
        invoice = self.invoice
        top = self.get_y()
        left_width = self.epw * 0.55
        self.set_text_color(*_GREY)
        self.set_font("DejaVu", "B", 8)
        self.cell(left_width, 5, self.labels["bill_to"].upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.set_font("DejaVu", "B", 10.5)
        self.multi_cell(left_width - 4, 5.5, invoice.buyer.company_name, align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 9)
        for line in self.address(invoice.buyer):
            self.multi_cell(left_width - 4, 4.6, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottom = self.get_y()

        facts = [(self.labels["number"], invoice.number), (self.labels["issue_date"], self.date(invoice.issue_date)),
                 (self.labels["due_date"], self.date(invoice.due_date))]
        if invoice.po_number:
            facts.append((self.labels["po_number"], invoice.po_number))
        if invoice.terms:
            facts.append((self.labels["terms"], invoice.terms))
        facts.append((self.labels["status"], self.status()))
        right_x = self.l_margin + left_width
        right_width = self.epw - left_width
        self.set_xy(right_x, top)
        for label, value in facts:
            self.set_x(right_x)
            self.set_font("DejaVu", "", 9)
            self.set_text_color(*_GREY)
            self.cell(right_width * 0.5, 5.5, label)
            self.set_font("DejaVu", "B", 9)
            self.set_text_color(0, 0, 0)
            self.multi_cell(right_width * 0.5, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(bottom, self.get_y()) + 8)

    def lines_table(self) -> None:
        self.set_font("DejaVu", "", 9)
        self.set_text_color(0, 0, 0)
        self.set_draw_color(*_RULE)
        headings = FontFace(family="DejaVu", emphasis="BOLD", size_pt=8.5, fill_color=_SHADE)
        with self.table(
            col_widths=(52, 10, 19, 19),
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=headings,
            line_height=5,
            padding=(1.6, 1.5),
            repeat_headings=1,
            v_align="TOP",
        ) as table:
            heading = table.row()
            for key in ("description", "quantity", "unit_price", "amount"):
                heading.cell(self.labels[key])
            for line in self.invoice.lines:
                row = table.row()
                row.cell(line.description)
                row.cell(self.quantity(line.quantity))
                row.cell(self.money(line.unit_price_minor))
                row.cell(self.money(line.amount_minor))
        self.ln(4)

    def totals_block(self) -> None:
        invoice = self.invoice
        rows: list[tuple[str, int, bool]] = [(self.labels["subtotal"], invoice.subtotal_minor, False)]
        rows += [(tax.label, tax.amount_minor, False) for tax in invoice.taxes]
        rows += [(self.labels["total"], invoice.total_minor, True)]
        if invoice.document == "invoice":
            rows += [(self.labels["amount_paid"], invoice.amount_paid_minor, False),
                     (self.labels["balance"], invoice.balance_minor, True)]
        height = 6.5
        # The totals stay together on one page, under the last lines or at the top of the next.
        if self.will_page_break(height * len(rows) + 4):
            self.add_page()
        label_width = self.epw * 0.28
        value_width = self.epw * 0.2
        x = self.l_margin + self.epw - label_width - value_width
        for label, amount, strong in rows:
            if label == self.labels["balance"]:
                self.set_fill_color(*_SHADE)
            self.set_x(x)
            self.set_font("DejaVu", "B" if strong else "", 10 if strong else 9)
            fill = label == self.labels["balance"]
            self.cell(label_width, height, label, fill=fill)
            self.cell(value_width, height, self.money(amount), align="R", fill=fill,
                      new_x=XPos.LMARGIN, new_y=YPos.NEXT)
