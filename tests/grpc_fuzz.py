"""S24 for every RPC of a service at once: Hypothesis strategies built from the proto
descriptors (so an RPC added later is fuzzed without anyone remembering to), a channel that
calls each method as a caller its server admits, and the one assertion every fuzz test makes."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from billing_common.grpc_client import error_field, make_channel
from tests import callers

# Every status a servicer answers on purpose. INTERNAL, UNKNOWN and a crash are what S24 forbids.
EXPECTED = frozenset({
    grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.OUT_OF_RANGE,
})

_ODD_TEXT = ["", " ", "\x00", "a\x00b", "-1", "0", "9" * 30, "2026-02-30", "2026-12-04",
             "9999-12-31", "0001-01-01", "1900-01-01", "1-2-3",
             "USD", "BRL", "EUR", "XXX", "usd", "en", "pt-BR", "zz", "4242424242424242", "' OR 1=1 --",
             "a" * 250 + "@x.y", "\u0130" * 300, "QT-0001-1", "INV-0001", "starter", "business"]


def text(known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Short and long Unicode, odd values and ids that exist in the seeded world."""
    chars = st.characters(blacklist_categories=("Cs",))
    return st.one_of(st.text(chars, max_size=40), st.text(chars, min_size=190, max_size=1100),
                     st.sampled_from([*_ODD_TEXT, *known]))


_INTS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1), FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1), FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _repeated(field: FieldDescriptor) -> bool:
    # protobuf 6 has is_repeated; older releases only the label.
    if hasattr(field, "is_repeated"):
        return bool(field.is_repeated)
    return bool(field.label == FieldDescriptor.LABEL_REPEATED)


Overrides = Mapping[str, st.SearchStrategy[Any]]
_NONE: Overrides = MappingProxyType({})


def _scalar(field: FieldDescriptor, strings: st.SearchStrategy[str], depth: int, overrides: Overrides
            ) -> st.SearchStrategy[Any]:
    if field.name in overrides and field.type != FieldDescriptor.TYPE_MESSAGE:
        return overrides[field.name]
    if field.type == FieldDescriptor.TYPE_STRING:
        return strings
    if field.type in _INTS:
        low, high = _INTS[field.type]
        return st.one_of(st.integers(-3, 100), st.sampled_from([low, high, low + 1, high - 1, 10**9]),
                         st.integers(low, high))
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.integers(-1, max(numbers) + 3))
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    assert field.type == FieldDescriptor.TYPE_MESSAGE
    return message(GetMessageClass(field.message_type), strings, depth + 1, overrides)


def message(cls: type[Message], strings: st.SearchStrategy[str], depth: int = 0, overrides: Overrides = _NONE
            ) -> st.SearchStrategy[Message]:
    """Any message of this class: each field set or left at its default. `overrides` draws the
    fields of those names (at any depth) from its strategies instead, to reach past the
    first checks (an existing account, subscription or invoice id)."""
    if depth > 2:
        return st.just(cls())
    fields = [f for f in cls.DESCRIPTOR.fields
              if not (f.type == FieldDescriptor.TYPE_MESSAGE and f.message_type.GetOptions().map_entry)]
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for f in fields:
        one = _scalar(f, strings, depth, overrides)
        parts[f.name] = st.lists(one, max_size=3) if _repeated(f) else one

    def build(values: dict[str, Any]) -> Message:
        m = cls()
        for name, value in values.items():
            f = cls.DESCRIPTOR.fields_by_name[name]
            if _repeated(f):
                target = getattr(m, name)
                if f.type == FieldDescriptor.TYPE_MESSAGE:
                    for v in value:
                        target.add().CopyFrom(v)
                else:
                    target.extend(value)
            elif f.type == FieldDescriptor.TYPE_MESSAGE:
                getattr(m, name).CopyFrom(value)
            else:
                setattr(m, name, value)
        return m

    return st.fixed_dictionaries({}, optional=parts).map(build)


def requests(service: ServiceDescriptor, strings: st.SearchStrategy[str],
             only: Callable[[MethodDescriptor], bool] = lambda m: True, overrides: Overrides = _NONE
             ) -> st.SearchStrategy[tuple[str, Message]]:
    """(method name, request) over every method of the service (or those `only` keeps)."""
    methods = [m for m in service.methods if only(m)]
    assert methods
    return st.sampled_from(methods).flatmap(
        lambda m: message(GetMessageClass(m.input_type), strings, 0, overrides).map(lambda r, name=m.name: (name, r)))


class _AsAnAdmittedCaller(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, allowed: Mapping[str, frozenset[str]]) -> None:
        self.allowed = allowed

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        who = callers.credentials(sorted(self.allowed[details.method])[0], acting_person="fuzz")
        metadata = [*(details.metadata or ()), *who.metadata()]
        return continuation(details._replace(metadata=metadata), request)


def channel_as_admitted_callers(target: str, allowed: Mapping[str, frozenset[str]], **options: Any) -> grpc.Channel:
    """Each call as a caller the server admits for that method (who may call what is tested
    elsewhere: here the input is what is under test)."""
    return grpc.intercept_channel(make_channel(target, **options), _AsAnAdmittedCaller(allowed))


def call(stub: Any, method: str, request: Message) -> None:
    """The assertion of S24: a status the servicer chose, INVALID_ARGUMENT naming its field."""
    try:
        getattr(stub, method)(request)
    except grpc.RpcError as err:
        assert err.code() in EXPECTED, (method, request, err.code(), err.details())
        if err.code() == grpc.StatusCode.INVALID_ARGUMENT:
            assert error_field(err), (method, request, err.details())
