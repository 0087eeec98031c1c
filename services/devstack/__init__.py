"""The developer's stack: `make run`'s supervisor, the demo data and `make mail`. Nothing in
production runs it (compose and Kubernetes run each service and `services.migrate`).

Like `services.migrate`, it knows every service; the services themselves never import each other.
"""
