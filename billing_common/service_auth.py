"""Who may call which gRPC method: per-caller secrets sent in call metadata.

Every call to a service (identity, online_billing, enterprise_portal) names its caller and proves
it with that caller's secret, `authorization: Bearer <caller>:<secret>`; each service declares
beside its servicer which callers each method admits. Reaching the port is not enough: any pod
of the cluster (or process of the machine) can, and identity's provisioning calls would let it
make itself a rep of any account.

- No, unknown or wrong credentials: UNAUTHENTICATED. A known caller calling a method it is not
  allowed: PERMISSION_DENIED. Methods a service forgot to list admit nobody. A service holds
  the secrets only of the callers it admits to some method (online_billing does not know the
  Enterprise portal's), so to it any other caller is unknown.
- grpc.health.v1 answers anyone: the kubelet's probes and the healthchecks carry no secret.
- Secrets come from the environment, one variable per caller (`CALLER_SECRET_<CALLER>`, read
  through the typed settings); the server keeps only their SHA-256 digests and compares digests
  in constant time, so neither a secret's content nor its length shows in the timing. They are
  never logged (S25): `CallerCredentials` hides its secret from repr.

mTLS would prove the same with certificates; a secret per caller needs no CA to run and rotate,
and is the same in `make run`, compose and Kubernetes. The secrets travel in clear on the
private network, as do the calls themselves (deploy/README.md: NetworkPolicies keep others off).
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

# The callers. Each is one kind of process, whatever its replicas.
BILLING_CENTER_WEB = "billing-center-web"
ENTERPRISE_PORTAL_WEB = "enterprise-portal-web"
# Operator commands and `make run`'s demo loader: provisioning.
OPERATOR = "operator"
# The online_billing service itself, asking identity whom to mail (an account's billing contacts).
ONLINE_BILLING = "online-billing"
# The enterprise_portal service itself, asking identity whom to mail (contacts and reps).
ENTERPRISE_PORTAL = "enterprise-portal"
CALLERS = (BILLING_CENTER_WEB, ENTERPRISE_PORTAL_WEB, OPERATOR, ONLINE_BILLING, ENTERPRISE_PORTAL)
PORTALS = frozenset({BILLING_CENTER_WEB, ENTERPRISE_PORTAL_WEB})

AUTHORIZATION_HEADER = "authorization"
# Who the operator is, for the audit log (identity's provisioning): sent by operator commands
# and the demo loader; the portals' calls name the signed-in person in the request itself.
ACTING_PERSON_HEADER = "x-acting-person"

HEALTH_SERVICE_PREFIX = "/grpc.health.v1.Health/"
# Trailing metadata of a call the gate refused (value: the status name), so that a client can
# tell "your service credentials were refused" (a deployment fault) from the same status
# answered by the method itself (identity's UNAUTHENTICATED for an ended session).
REFUSED_HEADER = "x-service-auth-refused"

# The calling service of the call in progress (set by billing_common.grpc_server.observed, like
# the request id), for the audit log.
caller_var: ContextVar[str] = ContextVar("caller", default="")

MIN_SECRET_LENGTH = 32


def secret_variable(caller: str) -> str:
    """The environment variable holding `caller`'s secret: CALLER_SECRET_BILLING_CENTER_WEB..."""
    return "CALLER_SECRET_" + caller.upper().replace("-", "_")


def check_secret(caller: str, secret: str, *, strict: bool) -> None:
    """A secret must be printable ASCII without spaces (it travels in a metadata value), and in
    prod (`strict`) at least 32 characters long. Raises ValueError naming the variable."""
    name = secret_variable(caller)
    if not secret or not all("!" <= ch <= "~" for ch in secret):
        raise ValueError(f"{name} must be printable ASCII without spaces")
    if strict and len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{name} must be a random value of at least {MIN_SECRET_LENGTH} characters in prod")


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class CallerCredentials:
    """What a client process sends on every call: its caller name and secret, and, for operator
    commands, the person acting (for identity's audit log)."""

    caller: str
    secret: str = field(repr=False)
    acting_person: str = ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = [(AUTHORIZATION_HEADER, f"Bearer {self.caller}:{self.secret}")]
        if self.acting_person:
            pairs.append((ACTING_PERSON_HEADER, self.acting_person))
        return tuple(pairs)


class Refused(Exception):
    """A call the gatekeeper does not let through: `code` is the gRPC status name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Gatekeeper:
    """The server's side: the callers it knows (name -> SHA-256 of the secret) and, per full
    method name ("/package.Service/Method"), the callers it admits."""

    digests: Mapping[str, bytes]
    allowed: Mapping[str, frozenset[str]]

    @classmethod
    def build(cls, secrets: Mapping[str, str], allowed: Mapping[str, Collection[str]]) -> Gatekeeper:
        return cls({c: _digest(s) for c, s in secrets.items() if s},
                   {m: frozenset(c) for m, c in allowed.items()})

    @staticmethod
    def is_open(method: str) -> bool:
        """Health checks answer anyone (probes carry no secret)."""
        return method.startswith(HEALTH_SERVICE_PREFIX)

    def admit(self, method: str, metadata: Iterable[tuple[str, str | bytes]]) -> str:
        """The caller of a call to `method` with this metadata, or Refused."""
        value = next((v for k, v in metadata if k == AUTHORIZATION_HEADER), None)
        caller, secret = _parse(value)
        expected = self.digests.get(caller) if caller else None
        # Compare a digest even for an unknown caller, so its timing says nothing either.
        matches = hmac.compare_digest(_digest(secret or ""), expected or b"\0" * 32)
        if not (expected and matches):
            raise Refused("UNAUTHENTICATED", "This call needs valid service credentials.")
        if caller not in self.allowed.get(method, ()):
            raise Refused("PERMISSION_DENIED", f"The caller {caller} may not call this method.")
        return caller


def _parse(value: str | bytes | None) -> tuple[str, str]:
    if not isinstance(value, str) or not value.startswith("Bearer "):
        return "", ""
    caller, _, secret = value[len("Bearer "):].partition(":")
    return caller, secret


def acting_person(metadata: Iterable[tuple[str, str | bytes]]) -> str:
    """The person an (admitted) operator command says is acting, for the audit log: printable
    characters only, at most 64 of them; "" when the call names nobody."""
    value = next((v for k, v in metadata if k == ACTING_PERSON_HEADER), "")
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch.isprintable()).strip()[:64]


def allow_list(service: str, methods: Mapping[str, Collection[str]]) -> dict[str, frozenset[str]]:
    """Full method names from a service's name and {method: callers}."""
    return {f"/{service}/{name}": frozenset(callers) for name, callers in methods.items()}
