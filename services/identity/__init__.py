"""The identity service: accounts, users, memberships, reps, sessions and single-use tokens.

`python -m services.identity` runs its gRPC server (see entrypoints/grpc_server.py); the
run supervisor and the tests build it in-process with `entrypoints.grpc_server.build`.
"""
