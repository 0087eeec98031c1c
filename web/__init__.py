"""The two front doors (Flask apps under gunicorn) and the package they share:
web/common, web/billing_center (online accounts), web/enterprise_portal (corporate accounts, reps)."""
