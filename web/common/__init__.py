"""What both front doors share: sessions and sign-in, CSRF, security headers, error pages,
i18n, base templates, and the sign-in, reset, help, billing-contacts and change-password pages.
web/billing_center and web/enterprise_portal build their apps on `app.create_portal_app`.

Importing this package imports nothing else, so tools (the catalogue) can run without the app.
"""
