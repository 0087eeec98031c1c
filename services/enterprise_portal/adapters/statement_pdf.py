"""The statement of account as a PDF (fpdf2, the fonts billing_common's invoice PDF uses).

billing_common.invoicing.pdf renders invoices only; a statement is enterprise_portal's own
document, so it is drawn here, in the same typeface and money format, in English or pt-BR.
"""
from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from billing_common.invoicing.pdf import FONTS, locale_of
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money
from services.enterprise_portal.domain.statement import Statement

LABELS = {
    "en": {
        "title": "Statement of account", "period": "Period", "to": "to", "account": "Account",
        "opening": "Opening balance", "closing": "Closing balance", "date": "Date", "entry": "Entry",
        "reference": "Reference", "amount": "Amount", "balance": "Balance", "aging": "Aging",
        "current": "Not yet due", "d30": "1-30 days", "d60": "31-60 days", "d90": "61-90 days", "over": "Over 90 days",
        "credit_left": "Unapplied credit", "invoice": "Invoice", "payment": "Payment", "credit": "Credit",
        "credit_applied": "Credit applied", "date_format": "MMM d, y",
    },
    "pt_BR": {
        "title": "Extrato da conta", "period": "Período", "to": "a", "account": "Conta",
        "opening": "Saldo inicial", "closing": "Saldo final", "date": "Data", "entry": "Lançamento",
        "reference": "Referência", "amount": "Valor", "balance": "Saldo", "aging": "Vencimentos",
        "current": "A vencer", "d30": "1-30 dias", "d60": "31-60 dias", "d90": "61-90 dias", "over": "Mais de 90 dias",
        "credit_left": "Crédito não aplicado", "invoice": "Fatura", "payment": "Pagamento", "credit": "Crédito",
        "credit_applied": "Crédito aplicado", "date_format": "dd/MM/yyyy",
    },
}


def render_statement_pdf(statement: Statement, seller: BillingProfile, buyer_name: str, language: str) -> bytes:
    locale = locale_of(language)
    labels = LABELS[locale]

    def money(value: Money) -> str:
        return value.format(locale).replace("\u00a0", " ").replace("\u202f", " ")

    def day(value: dt.date) -> str:
        return format_date(value, labels["date_format"], locale=locale)

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(labels["title"])
    pdf.set_creation_date(dt.datetime.combine(statement.end, dt.time(), tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 8, seller.company_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, labels["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 5, f"{labels['account']}: {buyer_name}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"{labels['period']}: {day(statement.start)} {labels['to']} {day(statement.end)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"{labels['opening']}: {money(statement.opening_balance)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    widths = (26, 34, 50, 32, 32)
    pdf.set_font("DejaVu", "B", 8.5)
    for width, key in zip(widths, ("date", "entry", "reference", "amount", "balance"), strict=True):
        pdf.cell(width, 6, labels[key], border="B", align="R" if key in ("amount", "balance") else "L")
    pdf.ln()
    pdf.set_font("DejaVu", "", 8.5)
    for entry in statement.entries:
        reference = entry.reference if entry.invoice_number is None else f"{entry.reference} → {entry.invoice_number}"
        cells = (day(entry.on), labels[entry.kind.value], reference[:40], money(entry.amount), money(entry.balance))
        for width, text, right in zip(widths, cells, (False, False, False, True, True), strict=True):
            pdf.cell(width, 5.5, text, align="R" if right else "L")
        pdf.ln()
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(0, 6, f"{labels['closing']}: {money(statement.closing_balance)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.cell(0, 6, labels["aging"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 8.5)
    aging = statement.aging
    for key, value in (("current", aging.current), ("d30", aging.days_1_30), ("d60", aging.days_31_60),
                       ("d90", aging.days_61_90), ("over", aging.over_90), ("credit_left", statement.unapplied_credit)):
        pdf.cell(50, 5.5, labels[key])
        pdf.cell(32, 5.5, money(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
