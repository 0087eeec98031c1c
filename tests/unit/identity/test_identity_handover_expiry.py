"""A pending handover is judged expired when read (nothing runs at its expiry): every list
of handovers, the contact's (one account) and the rep's (every account served), shows it up to
the last second of its 7 days and never after; an expired one cannot be approved, and does not
count as the contact's pending proposal any more."""
from __future__ import annotations

import pytest

from billing_common.errors import FailedPrecondition
from services.identity.domain.contacts import HANDOVER_TTL, HandoverStatus
from services.identity.domain.model import Portal
from services.identity.service_layer import billing_contacts as bc

ENT = Portal.ENTERPRISE


@pytest.fixture
def session(sign_in):  # type: ignore[no-untyped-def]
    def session(login: str) -> str:
        return sign_in(login, ENT).session.token

    return session


def _propose(deps, token, world, login="hana@globex.test"):  # type: ignore[no-untyped-def]
    return bc.propose_handover(deps, token, ENT, world.enterprise_id, world.carlos, login, login, "Hana Handover", "")


def _listed(deps, session, world):  # type: ignore[no-untyped-def]
    """(the contact's list of the account, the rep's list of every account served), as ids and statuses."""
    contact = bc.list_handovers(deps, session("globex-billing"), ENT, world.enterprise_id)
    rep = bc.list_handovers(deps, session("rita.rep"), ENT, "")
    return ([(v.handover.id, v.status) for v in contact], [(v.handover.id, v.status) for v in rep])


def test_listed_as_pending_until_the_last_second_and_never_after(deps, world, session, clock) -> None:  # type: ignore[no-untyped-def]
    h = _propose(deps, session("globex-billing"), world)
    clock.advance(HANDOVER_TTL.total_seconds() - 1)
    pending = [(h.id, HandoverStatus.PENDING)]
    assert _listed(deps, session, world) == (pending, pending)
    clock.advance(1)
    assert _listed(deps, session, world) == ([], [])
    clock.advance(30 * 24 * 3600)  # and long after
    assert _listed(deps, session, world) == ([], [])


def test_an_expired_handover_cannot_be_approved_and_a_new_one_may_be_proposed(deps, world, session, clock,  # type: ignore[no-untyped-def]
                                                                               data) -> None:
    old = _propose(deps, session("globex-billing"), world)
    clock.advance(HANDOVER_TTL.total_seconds())
    with pytest.raises(FailedPrecondition) as err:
        bc.decide_handover(deps, session("rita.rep"), ENT, world.enterprise_id, old.id, approve=True)
    assert err.value.field == "handover_id"
    new = _propose(deps, session("globex-billing"), world, login="ivo@globex.test")
    assert _listed(deps, session, world) == ([(new.id, HandoverStatus.PENDING)], [(new.id, HandoverStatus.PENDING)])
    assert data.handovers[old.id].status is HandoverStatus.PENDING  # stored as it was: judged when read
