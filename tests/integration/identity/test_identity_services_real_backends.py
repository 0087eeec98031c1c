"""The use cases on the real SQL unit of work and the real Redis, with a FakeClock.

Expiry and rate-limit windows follow the injected clock even against a real Redis: the
values carry their timestamps and Redis TTLs only clean up.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from billing_common.errors import FailedPrecondition, RateLimited, Unauthenticated
from services.identity.adapters import orm
from services.identity.domain.model import DISABLED, AccountKind, Portal, Role
from services.identity.service_layer import authentication, keys, passwords, provisioning, sessions

BC, ENT = Portal.BILLING_CENTER, Portal.ENTERPRISE


@pytest.fixture
def olivia(deps, unique):
    account = provisioning.create_account(deps, unique("Acme"), AccountKind.ONLINE, "USD", "en", by="tests")
    login = unique("olivia") + "@acme.test"
    user = provisioning.create_user(deps, login, login, "Olivia", "en", "Online-demo-2026!", by="tests")
    provisioning.add_membership(deps, user.id, account.id, Role.BILLING_CONTACT, by="tests")
    return login, user.id


def _outbox_bodies(deps, to):
    with deps.engine.connect() as conn:
        return [r.body for r in conn.execute(select(orm.outbox).where(orm.outbox.c.to_addrs == to)
                                             .order_by(orm.outbox.c.id))]


def test_a_session_idles_out_by_the_injected_clock_against_real_redis(deps, clock, olivia):
    token = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    clock.advance(29 * 60)
    sessions.validate_session(deps, token, BC)
    clock.advance(30 * 60)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_session_in_use_ends_after_twelve_hours_and_only_works_at_its_portal_against_real_redis(
        deps, clock, olivia):
    token = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, ENT)
    for _ in range(12 * 2 - 1):
        clock.advance(30 * 60 - 1)
        assert sessions.validate_session(deps, token, BC).session.idle_expires_at == clock.now() + 30 * 60
    clock.advance(30 * 60)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_reset_ends_sessions_redis_no_longer_indexes_on_real_backends(deps, olivia):
    # The user's index of sessions lost (as when Redis failed between the reset's commit and
    # its clean-up): the session generation in the database refuses the old session anyway.
    token = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    deps.store.delete(keys.user_sessions(olivia[1]))
    passwords.request_password_reset(deps, olivia[0], BC)
    link = _outbox_bodies(deps, olivia[0])[-1].split("/reset/")[1].split()[0]
    passwords.complete_password_reset(deps, link, "Brand-new-2026!")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_an_account_that_changed_kind_in_the_database_ends_its_sessions_on_real_backends(deps, olivia):
    token = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    account_id = sessions.validate_session(deps, token, BC).principal.account.id
    with deps.engine.begin() as conn:
        conn.execute(update(orm.accounts).where(orm.accounts.c.id == account_id).values(kind="enterprise"))
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_password_change_keeps_its_own_session_and_ends_the_others_on_real_backends(deps, olivia):
    other = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    this = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    deps.store.delete(keys.user_sessions(olivia[1]))
    passwords.change_password(deps, this, BC, "Online-demo-2026!", "Brand-new-2026!")
    assert sessions.validate_session(deps, this, BC)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, other, BC)


def test_disabling_a_user_ends_their_session_at_once_on_real_backends(deps, olivia):
    token = authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC).session.token
    with deps.engine.begin() as conn:
        conn.execute(update(orm.users).where(orm.users.c.id == olivia[1]).values(status=DISABLED))
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_the_eleventh_attempt_waits_and_then_succeeds_against_real_redis(deps, clock, olivia):
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            authentication.authenticate(deps, olivia[0], "Wrong-password-1", BC, "192.0.2.1")
    with pytest.raises(RateLimited) as err:
        authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC, "192.0.2.1")
    clock.advance(err.value.retry_after)
    assert authentication.authenticate(deps, olivia[0], "Online-demo-2026!", BC, "192.0.2.1").session


def test_reset_links_expire_are_single_use_and_end_sessions_on_real_backends(deps, clock, olivia):
    login, user_id = olivia
    old_session = authentication.authenticate(deps, login, "Online-demo-2026!", BC).session.token
    passwords.request_password_reset(deps, login, BC, "192.0.2.2")
    first = _outbox_bodies(deps, login)[-1].split("/reset/")[1].split()[0]
    clock.advance(31 * 60)
    assert not passwords.check_password_reset_token(deps, first)
    passwords.request_password_reset(deps, login, BC, "192.0.2.2")
    token = _outbox_bodies(deps, login)[-1].split("/reset/")[1].split()[0]
    passwords.complete_password_reset(deps, token, "Brand-new-2026!")
    with pytest.raises(FailedPrecondition):
        passwords.complete_password_reset(deps, token, "Brand-new-2026!")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, old_session, BC)
    assert "was just changed" in _outbox_bodies(deps, login)[-1]
    with deps.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(orm.audit_log).where(orm.audit_log.c.user_id == user_id))]
    assert "password.reset" in actions


def test_a_handoff_ticket_expires_by_the_injected_clock(deps, clock, unique):
    account = provisioning.create_account(deps, unique("Globex"), AccountKind.ENTERPRISE, "USD", "en", by="tests")
    login = unique("globex-billing")
    user = provisioning.create_user(deps, login, f"{login}@globex.test", "AP", "en", "Enterprise-demo-2026!",
                                    by="tests")
    provisioning.add_membership(deps, user.id, account.id, Role.BILLING_CONTACT, by="tests")
    ticket = authentication.authenticate(deps, login, "Enterprise-demo-2026!", BC).handoff_ticket
    clock.advance(61)
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, ENT)
