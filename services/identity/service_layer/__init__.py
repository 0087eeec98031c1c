"""Identity's use cases, one function per command (services.py), and the ports they use."""
