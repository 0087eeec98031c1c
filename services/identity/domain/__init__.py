"""Identity's domain: plain Python objects and rules (no grpc, flask or sqlalchemy here)."""
