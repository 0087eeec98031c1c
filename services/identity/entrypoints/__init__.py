"""Identity's entrypoints: the gRPC servicer and server."""
