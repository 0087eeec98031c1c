"""Card payments: the gateway port (gateway.py), card checks (cards.py), the people-facing
messages with their stable codes (messages.py), and the sandbox adapter that stands in for a
real gateway's test mode (sandbox.py, its SQL store in sandbox_sql.py, built from settings.py).
"""
