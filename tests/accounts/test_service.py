"""The accounts rules called directly (no GraphQL), on a real session: sign-up validation and
its order, invitations, the log-in limits, member roles, API key scopes. The black-box tests
beside this file cover the ordinary paths; these aim at the edges of each rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from shared.auth.principal import Principal
from shared.db import Database, new_id, utcnow
from shared.domain_events.models import OutboxEvent
from shared.errors import (
    BadUserInput,
    Conflict,
    ConsentRequired,
    DomainError,
    Forbidden,
    RateLimited,
    Unauthenticated,
)
from shared.runtime import SubgraphRuntime
from subgraphs.accounts import domain_events as de
from subgraphs.accounts import service
from subgraphs.accounts.models import ApiKey, Invitation, Tenant, User
from subgraphs.accounts.service import api_keys, members
from subgraphs.accounts.service.secrets import digest
from tests.support.graphql import PASSWORD, unique_email
from tests.support.hosting import runtime_of
from tests.support.secrets import remember_secret

CONSENTS = frozenset({"terms", "data_processing"})


def _data(**overrides: Any) -> service.SignUpData:
    fields: dict[str, Any] = {
        "email": "ada@example.com",
        "password": "x" * 10,
        "display_name": "Ada",
        "tenant_name": "Ada's label",
        "invitation_code": None,
        "consents": CONSENTS,
    }
    return service.SignUpData(**(fields | overrides))


def _refused(error: pytest.ExceptionInfo[DomainError]) -> dict[str, Any]:
    return error.value.to_graphql_extensions()


async def _count(database: Database, model: Any, *where: Any) -> int:
    async with database.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def _events(database: Database, type_: str) -> list[dict[str, Any]]:
    async with database.read() as session:
        rows = (await session.execute(select(OutboxEvent).where(col(OutboxEvent.type) == type_))).scalars()
        return [row.payload for row in rows]


async def _tenant(database: Database, *roles: str) -> tuple[str, list[str]]:
    """A tenant with one user per role (in order); returns the tenant id and the user ids."""
    tenant_id, ids = new_id("tnt"), []
    async with database.write() as session:
        session.add(Tenant(id=tenant_id, name="Label"))
        for role in roles:
            user = User(
                id=new_id("usr"),
                tenant_id=tenant_id,
                email=unique_email(),
                password_hash="unused",
                display_name=role.title(),
                role=role,
            )
            session.add(user)
            ids.append(user.id)
    return tenant_id, ids


def _as(tenant_id: str, user_id: str, role: str, kind: Any = "user") -> Principal:
    return Principal(kind=kind, user_id=user_id, tenant_id=tenant_id, roles=(role,))


@pytest.fixture
async def runtime(settings, redis_server, database) -> AsyncIterator[SubgraphRuntime]:
    runtime = runtime_of("accounts", settings, redis_server.url, database)
    await runtime.redis.flushall()
    try:
        yield runtime
    finally:
        await runtime.close_services()
        await runtime.redis.aclose()


# Sign-up validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consents": CONSENTS | {"telepathy"}}, "consents"),
        ({"email": "ada@example"}, "email"),
        ({"email": "a da@example.com"}, "email"),
        ({"email": "a" * 310 + "@example.com"}, "email"),  # 322 characters: over 320
        ({"password": "x" * 9}, "password"),
        ({"display_name": "   "}, "displayName"),
        ({"display_name": "x" * 121}, "displayName"),
        ({"tenant_name": None}, "tenantName"),  # neither a tenant nor an invitation
        ({"invitation_code": "inv_x"}, "tenantName"),  # both
        ({"tenant_name": "   "}, "tenantName"),
        ({"tenant_name": "x" * 121}, "tenantName"),
    ],
)
def test_sign_up_refuses_each_bad_field_by_name(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        service.validate_sign_up(_data(**overrides), min_password=10)
    assert _refused(refused)["field"] == field


def test_sign_up_limits_accept_their_boundaries() -> None:
    service.validate_sign_up(
        _data(
            email="a" * 308 + "@example.com",  # 320 characters
            password="x" * 10,
            display_name="x" * 120,
            tenant_name="x" * 120,
            consents=CONSENTS | {"marketing"},
        ),
        min_password=10,
    )
    service.validate_sign_up(_data(tenant_name=None, invitation_code="inv_x"), min_password=10)


def test_missing_consent_is_reported_before_any_other_fault() -> None:
    everything_wrong = _data(email="nope", password="", display_name="", consents=frozenset({"terms"}))
    with pytest.raises(ConsentRequired) as refused:
        service.validate_sign_up(everything_wrong, min_password=10)
    assert _refused(refused) == {"code": "CONSENT_REQUIRED", "missing": ["data_processing"]}


def test_the_password_minimum_comes_from_the_caller() -> None:
    service.validate_sign_up(_data(password="x" * 4), min_password=4)
    with pytest.raises(BadUserInput, match="at least 12 characters"):
        service.validate_sign_up(_data(password="x" * 11), min_password=12)


# Sign-up with invitations ----------------------------------------------------------------


async def _invitation(database: Database, tenant_id: str, by: str, **fields: Any) -> str:
    code = f"inv_{new_id('code')}"
    remember_secret(code)
    async with database.write() as session:
        values: dict[str, Any] = {"role": "member", "expires_at": utcnow() + timedelta(hours=1)} | fields
        session.add(
            Invitation(id=new_id("inv"), tenant_id=tenant_id, code_hash=digest(code), created_by=by, **values)
        )
    return code


async def test_an_invitation_bound_to_an_email_matches_it_in_any_case(database, runtime) -> None:
    tenant_id, (owner,) = await _tenant(database, "owner")
    address = unique_email()
    code = await _invitation(database, tenant_id, owner, email=address.upper(), role="admin")
    async with database.write() as session:
        joined = await service.sign_up(
            session, runtime, _data(email=address, tenant_name=None, invitation_code=code)
        )
    remember_secret(joined.access_token)
    remember_secret(joined.refresh_token)
    assert (joined.user.tenant_id, joined.user.role) == (tenant_id, "admin")
    async with database.read() as session:
        used = (
            await session.execute(select(Invitation).where(col(Invitation.tenant_id) == tenant_id))
        ).scalar_one()
    assert used.used_by == joined.user.id and used.used_at is not None
    # Joining an existing tenant creates no tenant and announces none.
    assert await _count(database, Tenant) == 1
    assert await _events(database, de.TenantCreated.TYPE) == []


@pytest.mark.parametrize(
    ("invitation", "email"),
    [
        ({"expires_at": utcnow() - timedelta(seconds=1)}, None),
        ({"used_at": utcnow(), "used_by": "usr_earlier"}, None),
        ({"email": "someone-else@example.com"}, None),
    ],
    ids=["expired", "used", "another-email"],
)
async def test_a_refused_invitation_writes_nothing(database, runtime, invitation, email) -> None:
    tenant_id, (owner,) = await _tenant(database, "owner")
    code = await _invitation(database, tenant_id, owner, **invitation)
    with pytest.raises(BadUserInput) as refused:
        async with database.write() as session:
            await service.sign_up(
                session, runtime, _data(email=email or unique_email(), tenant_name=None, invitation_code=code)
            )
    assert _refused(refused)["field"] == "invitationCode"
    assert await _count(database, User) == 1
    assert await _events(database, de.UserSignedUp.TYPE) == []


async def test_an_email_taken_in_another_case_is_refused(database, runtime) -> None:
    _, _ = await _tenant(database, "owner")
    async with database.read() as session:
        taken = (await session.execute(select(col(User.email)))).scalar_one()
    with pytest.raises(BadUserInput) as refused:
        async with database.write() as session:
            await service.sign_up(session, runtime, _data(email=taken.upper()))
    assert _refused(refused)["field"] == "email"
    assert await _count(database, Tenant) == 1


# Log-in limits ----------------------------------------------------------------------------


async def _signed_up(database: Database, runtime: SubgraphRuntime) -> str:
    address = unique_email()
    async with database.write() as session:
        started = await service.sign_up(session, runtime, _data(email=address, password=PASSWORD))
    remember_secret(started.access_token)
    remember_secret(started.refresh_token)
    return address


async def _log_in(database: Database, runtime: SubgraphRuntime, email: str, password: str, ip: str) -> Any:
    async with database.write() as session:
        started = await service.log_in(session, runtime, email, password, ip)
    remember_secret(started.access_token)
    remember_secret(started.refresh_token)
    return started


async def test_the_account_limit_holds_from_any_address_and_even_for_the_right_password(
    database, runtime
) -> None:
    runtime.config.login_attempts_per_account = 2
    email = await _signed_up(database, runtime)
    for address in ("198.51.100.1", "198.51.100.2"):
        with pytest.raises(Unauthenticated):
            await _log_in(database, runtime, email, "wrong password", address)
    with pytest.raises(RateLimited) as limited:
        await _log_in(database, runtime, email.upper(), PASSWORD, "198.51.100.3")
    assert 1 <= _refused(limited)["retryAfter"] <= runtime.config.login_window_seconds


async def test_the_address_limit_spans_accounts_and_unknown_emails_count(database, runtime) -> None:
    runtime.config.login_attempts_per_address = 3
    email = await _signed_up(database, runtime)
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await _log_in(database, runtime, unique_email(), PASSWORD, "198.51.100.9")
    with pytest.raises(RateLimited):
        await _log_in(database, runtime, email, PASSWORD, "198.51.100.9")
    # Another address is not limited for this account: it never failed.
    assert (await _log_in(database, runtime, email, PASSWORD, "198.51.100.10")).user.email == email


async def test_a_successful_log_in_does_not_count_as_a_failure(database, runtime) -> None:
    runtime.config.login_attempts_per_account = 1
    email = await _signed_up(database, runtime)
    for _ in range(3):
        await _log_in(database, runtime, email, PASSWORD, "198.51.100.20")
    with pytest.raises(Unauthenticated):
        await _log_in(database, runtime, email, "wrong password", "198.51.100.20")
    with pytest.raises(RateLimited):
        await _log_in(database, runtime, email, PASSWORD, "198.51.100.20")


# Member roles -------------------------------------------------------------------------------


async def _change_role(database: Database, by: Principal, user_id: str, role: str) -> User:
    async with database.write() as session:
        return await members.change_role(session, by, user_id, role, None)


async def _role_of(database: Database, user_id: str) -> str:
    async with database.read() as session:
        return str(
            (await session.execute(select(col(User.role)).where(col(User.id) == user_id))).scalar_one()
        )


async def test_only_an_owner_grants_or_takes_the_owner_role(database) -> None:
    tenant_id, (owner, admin, member) = await _tenant(database, "owner", "admin", "member")
    as_admin = _as(tenant_id, admin, "admin")
    with pytest.raises(Forbidden):
        await _change_role(database, as_admin, member, "owner")
    with pytest.raises(Forbidden):
        await _change_role(database, as_admin, owner, "admin")
    # Below the owner role an admin changes roles, itself included.
    assert (await _change_role(database, as_admin, member, "admin")).role == "admin"
    assert (await _change_role(database, as_admin, admin, "viewer")).role == "viewer"
    assert await _role_of(database, owner) == "owner"


async def test_the_last_owner_cannot_step_down_but_one_of_two_can(database) -> None:
    tenant_id, (first, second) = await _tenant(database, "owner", "member")
    as_first = _as(tenant_id, first, "owner")
    with pytest.raises(Conflict) as refused:
        await _change_role(database, as_first, first, "admin")
    assert _refused(refused)["code"] == "CONFLICT"
    await _change_role(database, as_first, second, "owner")
    assert (await _change_role(database, as_first, first, "admin")).role == "admin"
    changes = await _events(database, de.MemberRoleChanged.TYPE)
    assert [(c["user_id"], c["previous_role"], c["role"]) for c in changes] == [
        (second, "member", "owner"),
        (first, "owner", "admin"),
    ]


async def test_a_role_change_to_the_same_role_or_an_unknown_one_writes_nothing(database) -> None:
    tenant_id, (owner, member) = await _tenant(database, "owner", "member")
    as_owner = _as(tenant_id, owner, "owner")
    unchanged = await _change_role(database, as_owner, member, "member")
    assert unchanged.version == 1
    with pytest.raises(BadUserInput) as refused:
        await _change_role(database, as_owner, member, "superuser")
    assert sorted(_refused(refused)["allowed"]) == ["admin", "member", "owner", "viewer"]
    assert await _events(database, de.MemberRoleChanged.TYPE) == []


async def test_removing_owners_needs_an_owner_and_another_owner(database) -> None:
    tenant_id, (owner, admin) = await _tenant(database, "owner", "admin")
    with pytest.raises(Forbidden):
        async with database.write() as session:
            await members.remove_member(session, _as(tenant_id, admin, "admin"), owner)
    with pytest.raises(Conflict):
        async with database.write() as session:
            await members.remove_member(session, _as(tenant_id, owner, "owner"), owner)
    assert await _count(database, User, col(User.deleted_at).is_(None)) == 2


@pytest.mark.parametrize(("role", "ttl_hours"), [("admin", 24), ("member", 0), ("member", 24 * 30 + 1)])
async def test_an_invitation_grants_no_more_than_its_inviter_for_at_most_30_days(
    database, role, ttl_hours
) -> None:
    tenant_id, (member,) = await _tenant(database, "member")
    with pytest.raises(DomainError) as refused:
        async with database.write() as session:
            await members.create_invitation(session, _as(tenant_id, member, "member"), role, None, ttl_hours)
    expected = ("FORBIDDEN", None) if role == "admin" else ("BAD_USER_INPUT", "ttlHours")
    assert (_refused(refused)["code"], _refused(refused).get("field")) == expected
    assert await _count(database, Invitation) == 0


async def test_an_invitation_at_the_limits_stores_only_the_code_hash_and_a_lower_case_email(database) -> None:
    tenant_id, (member,) = await _tenant(database, "member")
    async with database.write() as session:
        issued = await members.create_invitation(
            session, _as(tenant_id, member, "member"), "member", " Bo@Example.COM ", 24 * 30
        )
    remember_secret(issued.code)
    assert issued.invitation.email == "bo@example.com"
    assert issued.invitation.code_hash == digest(issued.code) != issued.code


# API keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scopes", "days", "field"),
    [
        ("  ", ["accounts:read"], None, "name"),
        ("x" * 121, ["accounts:read"], None, "name"),
        ("ci", [], None, "scopes"),
        ("ci", ["accounts:read", "accounts:delete"], None, "scopes"),
        ("ci", ["Accounts:read"], None, "scopes"),
        ("ci", ["accounts:read"], 0, "expiresInDays"),
        ("ci", ["accounts:read"], 367, "expiresInDays"),
    ],
)
async def test_api_key_input_rules(database, name, scopes, days, field) -> None:
    tenant_id, (member,) = await _tenant(database, "member")
    with pytest.raises(BadUserInput) as refused:
        async with database.write() as session:
            await api_keys.create(session, _as(tenant_id, member, "member"), name, scopes, days)
    assert _refused(refused)["field"] == field
    if field == "scopes" and scopes:
        assert _refused(refused)["invalid"] == [s for s in scopes if s != "accounts:read"]
    assert await _count(database, ApiKey) == 0


async def test_an_api_key_keeps_its_creators_role_and_deduplicated_sorted_scopes(database) -> None:
    tenant_id, (admin,) = await _tenant(database, "admin")
    scopes = ["storage:write", "accounts:read", "storage:write", "registry:publish"]
    async with database.write() as session:
        issued = await api_keys.create(session, _as(tenant_id, admin, "admin"), " ci ", scopes, 366)
    remember_secret(issued.secret)
    assert issued.key.name == "ci" and issued.key.role == "admin"
    assert issued.key.scope_list == ["accounts:read", "registry:publish", "storage:write"]
    assert issued.key.secret_hash == digest(issued.secret)


async def test_revoking_someone_elses_key_needs_an_admin_and_happens_once(database) -> None:
    tenant_id, (admin, member, other) = await _tenant(database, "admin", "member", "member")
    async with database.write() as session:
        issued = await api_keys.create(
            session, _as(tenant_id, member, "member"), "ci", ["accounts:read"], None
        )
    remember_secret(issued.secret)
    with pytest.raises(BadUserInput) as refused:
        async with database.write() as session:
            await api_keys.revoke(session, _as(tenant_id, other, "member"), issued.key.id)
    assert _refused(refused)["field"] == "id"
    for _ in range(2):
        async with database.write() as session:
            revoked = await api_keys.revoke(session, _as(tenant_id, admin, "admin"), issued.key.id)
    assert revoked.revoked_at is not None
    assert len(await _events(database, de.ApiKeyRevoked.TYPE)) == 1
    with pytest.raises(Unauthenticated):
        await api_keys.ApiKeyAuthenticator(database)(issued.secret)


async def test_an_expired_or_malformed_api_key_authenticates_nobody(database) -> None:
    tenant_id, (member,) = await _tenant(database, "member")
    async with database.write() as session:
        issued = await api_keys.create(session, _as(tenant_id, member, "member"), "ci", ["accounts:read"], 1)
    remember_secret(issued.secret)
    authenticate = api_keys.ApiKeyAuthenticator(database)
    principal = await authenticate(issued.secret)
    assert (principal.kind, principal.user_id, principal.scopes) == ("api_key", member, {"accounts:read"})
    async with database.write() as session:
        key = await session.get(ApiKey, issued.key.id)
        assert key is not None
        key.expires_at = utcnow() - timedelta(seconds=1)
        session.add(key)
    for secret in (issued.secret, "sak_only-two", issued.secret[:-1] + "x"):
        with pytest.raises(Unauthenticated):
            await authenticate(secret)


async def test_a_service_principal_cannot_create_an_api_key(database) -> None:
    tenant_id, _ = await _tenant(database, "owner")
    service_principal = Principal(kind="service", service="registry", tenant_id=tenant_id)
    with pytest.raises(Forbidden):
        async with database.write() as session:
            await api_keys.create(session, service_principal, "ci", ["accounts:read"], None)
    assert await _count(database, ApiKey) == 0
