"""What both billing services need to issue invoices: gapless numbers (`numbering`), the
customer's billing profile and tax-ID rules (`profile`, `taxid`) and the PDF (`pdf`).

Plain Python and SQLAlchemy Core only: no web framework, no gRPC. Each service keeps its own
invoices; these pieces are shared so the Billing Center and the Enterprise portal number,
validate and print them the same way.
"""
