"""Code every service uses: settings, database, gRPC plumbing, money, mail outbox, logging.

One package instead of a copy per service (ARCHITECTURE.md, "Repository layout").
"""
