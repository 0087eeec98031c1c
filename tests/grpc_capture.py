"""Every gRPC message an in-process server receives and answers, captured for the S18 scan.

`capturing(monkeypatch)` makes every server built from then on (billing_common.grpc_server
builds them with `grpc.server`) record, per call, the method, the request and the response in
protobuf text format (every field, strings as they travel) and the call's metadata. The
fixtures of the card flows' tests scan what online_billing received and answered: no run of 13
to 19 digits passing the Luhn check (billing_common.payments.cards.card_numbers_in) may be in
it, since the web tier hands card numbers to the gateway and sends online_billing only tokens.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf import text_format
from google.protobuf.message import Message

from billing_common.payments.cards import card_numbers_in


@dataclass(frozen=True)
class Captured:
    method: str
    kind: str  # "request", "response" or "metadata"
    text: str


def _text(message: Any) -> str:
    if isinstance(message, Message):
        return text_format.MessageToString(message, as_utf8=True)
    return repr(message)


@dataclass
class GrpcCapture(grpc.ServerInterceptor):
    messages: list[Captured] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, kind: str, text: str) -> None:
        with self._lock:
            self.messages.append(Captured(method, kind, text))

    def of(self, prefix: str) -> list[Captured]:
        with self._lock:
            return [m for m in self.messages if m.method.startswith(prefix)]

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        method, behaviour = details.method, handler.unary_unary
        self.record(method, "metadata", repr(tuple(details.invocation_metadata or ())))

        def capture(request: Any, context: grpc.ServicerContext) -> Any:
            self.record(method, "request", _text(request))
            response = behaviour(request, context)
            self.record(method, "response", _text(response))
            return response

        return grpc.unary_unary_rpc_method_handler(capture, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


def capturing(monkeypatch: pytest.MonkeyPatch) -> GrpcCapture:
    """A capture every gRPC server built in this test from now on feeds."""
    capture = GrpcCapture()
    real = grpc.server

    def server(*args: Any, **kwargs: Any) -> grpc.Server:
        kwargs["interceptors"] = [*(kwargs.get("interceptors") or ()), capture]
        return real(*args, **kwargs)

    monkeypatch.setattr(grpc, "server", server)
    return capture


def assert_no_card_numbers(capture: GrpcCapture) -> None:
    """S18: nothing online_billing received or answered holds a card number (a 13 to 19 digit
    run passing the Luhn check); the web tier sends it only the gateway's token."""
    seen = capture.of("/billing.online_billing.")
    found = [(m.method, m.kind, number) for m in seen for number in card_numbers_in(m.text)]
    assert found == [], f"card numbers in online_billing's gRPC messages: {found}"
