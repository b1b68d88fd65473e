"""Roles, invitations, field-level access to personal data, tenant isolation."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from shared.audit.models import AuditRecord
from tests.support.domain_events import domain_stream
from tests.support.graphql import PASSWORD, SIGN_UP, codes, gql, sign_up, unique_email
from tests.support.secrets import remember_secret
from tests.support.waiting import wait_until

INVITE = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code invitation { id role } } }"
CHANGE_ROLE = (
    "mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { user { id role } } }"
)
USER = "query($id: ID!) { user(id: $id) { id displayName email role } }"


async def _tenant_with_member(client, role: str = "MEMBER"):
    owner = await sign_up(client)
    invite = await gql(client, INVITE, {"input": {"role": role}}, token=owner["token"])
    code = invite["data"]["createInvitation"]["code"]
    remember_secret(code)
    member = await sign_up(client, invitation_code=code, display_name="Bob")
    return owner, member, code


async def test_invitation_joins_the_inviters_tenant_with_the_role(accounts):
    _, client = accounts
    owner, member, _ = await _tenant_with_member(client, role="ADMIN")
    body = await gql(client, "{ me { role tenant { id } } }", token=member["token"])
    owner_tenant = await gql(client, "{ me { tenant { id } } }", token=owner["token"])
    assert body["data"]["me"]["role"] == "ADMIN"
    assert body["data"]["me"]["tenant"]["id"] == owner_tenant["data"]["me"]["tenant"]["id"]


async def test_invitation_code_is_single_use(accounts):
    _, client = accounts
    _, _, code = await _tenant_with_member(client)
    from tests.support.graphql import SIGN_UP

    body = await gql(
        client,
        SIGN_UP,
        {
            "input": {
                "email": unique_email(),
                "password": "another-long-pass",
                "displayName": "Eve",
                "invitationCode": code,
                "consents": {"terms": True, "dataProcessing": True},
            }
        },
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "invitationCode"


async def test_inviter_cannot_grant_more_than_their_role(accounts):
    _, client = accounts
    _, admin, _ = await _tenant_with_member(client, role="ADMIN")
    body = await gql(client, INVITE, {"input": {"role": "OWNER"}}, token=admin["token"])
    assert codes(body) == ["FORBIDDEN"]


async def test_member_cannot_invite_or_change_roles_and_refusals_are_audited(accounts, database):
    _, client = accounts
    owner, member, _ = await _tenant_with_member(client)
    refused = await gql(client, INVITE, {"input": {"role": "VIEWER"}}, token=member["token"])
    assert codes(refused) == ["FORBIDDEN"]
    async with database.read() as session:
        record = (
            await session.execute(
                select(AuditRecord).where(
                    AuditRecord.operation == "createInvitation", AuditRecord.outcome == "FORBIDDEN"
                )
            )
        ).scalar_one()
    assert record.principal_id == member["user"]["id"]
    body = await gql(
        client,
        CHANGE_ROLE,
        {"input": {"userId": owner["user"]["id"], "role": "VIEWER"}},
        token=member["token"],
    )
    assert codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


async def test_owner_changes_roles_but_the_last_owner_stays(accounts):
    _, client = accounts
    owner, member, _ = await _tenant_with_member(client)
    promoted = await gql(
        client,
        CHANGE_ROLE,
        {"input": {"userId": member["user"]["id"], "role": "ADMIN"}},
        token=owner["token"],
    )
    assert promoted["data"]["changeMemberRole"]["user"]["role"] == "ADMIN"
    demote_self = await gql(
        client,
        CHANGE_ROLE,
        {"input": {"userId": owner["user"]["id"], "role": "ADMIN"}},
        token=owner["token"],
    )
    assert codes(demote_self) == ["CONFLICT"]
    remove = await gql(
        client,
        "mutation($id: ID!) { removeMember(input: {userId: $id}) { user { id } } }",
        {"id": owner["user"]["id"]},
        token=owner["token"],
    )
    assert codes(remove) == ["CONFLICT"]


async def test_admin_cannot_touch_owners(accounts):
    _, client = accounts
    owner, admin, _ = await _tenant_with_member(client, role="ADMIN")
    body = await gql(
        client,
        CHANGE_ROLE,
        {"input": {"userId": owner["user"]["id"], "role": "MEMBER"}},
        token=admin["token"],
    )
    assert codes(body) == ["FORBIDDEN"]


async def test_stale_role_change_gets_conflict(accounts):
    _, client = accounts
    owner, member, _ = await _tenant_with_member(client)
    first = await gql(
        client,
        CHANGE_ROLE,
        {"input": {"userId": member["user"]["id"], "role": "VIEWER", "version": 1}},
        token=owner["token"],
    )
    assert "errors" not in first
    stale = await gql(
        client,
        CHANGE_ROLE,
        {"input": {"userId": member["user"]["id"], "role": "ADMIN", "version": 1}},
        token=owner["token"],
    )
    assert codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["extensions"]["currentVersion"] == 2


async def test_email_is_visible_to_self_and_admins_only(accounts):
    _, client = accounts
    owner, member, _ = await _tenant_with_member(client)
    # A member reading the owner: null e-mail with FORBIDDEN at its path, the rest intact.
    seen_by_member = await gql(client, USER, {"id": owner["user"]["id"]}, token=member["token"])
    assert seen_by_member["data"]["user"]["email"] is None
    assert seen_by_member["data"]["user"]["displayName"] == "Ada Lovelace"
    assert codes(seen_by_member) == ["FORBIDDEN"]
    assert seen_by_member["errors"][0]["path"] == ["user", "email"]
    # The owner (an admin) reads the member's e-mail; the member reads their own.
    seen_by_owner = await gql(client, USER, {"id": member["user"]["id"]}, token=owner["token"])
    assert seen_by_owner["data"]["user"]["email"] == member["email"]
    own = await gql(client, "{ me { email } }", token=member["token"])
    assert own["data"]["me"]["email"] == member["email"]


async def test_members_list_is_a_connection_with_field_level_rules(accounts):
    _, client = accounts
    owner, member, _ = await _tenant_with_member(client)
    query = "query($after: String) { tenant { members(first: 1, after: $after) { edges { node { id email } } pageInfo { hasNextPage endCursor } } } }"
    page1 = await gql(client, query, token=member["token"])
    members = page1["data"]["tenant"]["members"]
    assert members["pageInfo"]["hasNextPage"] is True
    page2 = await gql(client, query, {"after": members["pageInfo"]["endCursor"]}, token=member["token"])
    ids = {
        members["edges"][0]["node"]["id"],
        page2["data"]["tenant"]["members"]["edges"][0]["node"]["id"],
    }
    assert ids == {owner["user"]["id"], member["user"]["id"]}
    bad = await gql(client, query, {"after": "not-a-cursor"}, token=member["token"])
    assert codes(bad) == ["BAD_USER_INPUT"]


async def test_other_tenants_are_invisible(accounts):
    _, client = accounts
    alice = await sign_up(client, tenant_name="Alice Music")
    mallory = await sign_up(client, tenant_name="Mallory Music")
    body = await gql(client, USER, {"id": alice["user"]["id"]}, token=mallory["token"])
    assert body["data"]["user"] is None
    entities = await gql(
        client,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }",
        {"r": [{"__typename": "User", "id": alice["user"]["id"]}]},
        token=mallory["token"],
    )
    assert entities["data"]["_entities"] == [None]


async def test_consent_revocation_withholds_personal_data(accounts):
    _, client = accounts
    account = await sign_up(client)
    revoke = await gql(
        client,
        "mutation { revokeConsent(input: {consent: DATA_PROCESSING}) { user { consents } } }",
        token=account["token"],
    )
    assert revoke["data"]["revokeConsent"]["user"]["consents"] == ["TERMS"]
    me = await gql(
        client,
        "{ me { displayName email consentHistory { consent granted } } }",
        token=account["token"],
    )
    assert me["data"]["me"]["email"] is None
    assert codes(me) == ["CONSENT_REQUIRED"]
    history = [(c["consent"], c["granted"]) for c in me["data"]["me"]["consentHistory"]]
    assert ("DATA_PROCESSING", True) in history and history[-1] == ("DATA_PROCESSING", False)
    await gql(
        client,
        "mutation { grantConsent(input: {consent: DATA_PROCESSING}) { user { id } } }",
        token=account["token"],
    )
    again = await gql(client, "{ me { email } }", token=account["token"])
    assert again["data"]["me"]["email"] == account["email"]


async def test_personalization_is_an_optional_consent_given_at_sign_up_or_later(accounts):
    runtime, client = accounts
    consents = {"terms": True, "dataProcessing": True, "marketing": False, "personalization": True}
    email = unique_email("personal")
    body = await gql(
        client,
        SIGN_UP,
        {"input": {"email": email, "password": PASSWORD, "displayName": "Pia", "tenantName": "Pia Music",
                   "consents": consents}},
    )  # fmt: skip
    assert "errors" not in body, body
    token = body["data"]["signUp"]["accessToken"]
    remember_secret(token, body["data"]["signUp"]["refreshToken"])
    me = await gql(client, "{ me { consents } }", token=token)
    assert sorted(me["data"]["me"]["consents"]) == ["DATA_PROCESSING", "PERSONALIZATION", "TERMS"]
    revoked = await gql(
        client,
        "mutation { revokeConsent(input: {consent: PERSONALIZATION}) { user { consents } } }",
        token=token,
    )
    assert "PERSONALIZATION" not in revoked["data"]["revokeConsent"]["user"]["consents"]
    events = [event for event in await domain_stream(runtime.redis, "accounts") if "consent" in event.type]
    personal = [
        (event.type, event.payload["consent"])
        for event in events
        if event.payload["consent"] == "personalization"
    ]
    assert personal[-2:] == [
        ("accounts.consent.granted", "personalization"),
        ("accounts.consent.revoked", "personalization"),
    ]

    plain = await sign_up(client)  # the default: not given
    assert (
        "PERSONALIZATION"
        not in (await gql(client, "{ me { consents } }", token=plain["token"]))["data"]["me"]["consents"]
    )


async def test_tenant_policy_stored_in_the_database_applies_to_that_tenant_only(accounts):
    from casbin_async_sqlalchemy_adapter import Adapter

    from shared.permissions.watcher import CHANNEL, announce_policy_change

    runtime, client = accounts
    _, member, _ = await _tenant_with_member(client)
    _, other_member, _ = await _tenant_with_member(client)
    tenant_id = (await gql(client, "{ me { tenant { id } } }", token=member["token"]))["data"]["me"][
        "tenant"
    ]["id"]
    assert codes(await gql(client, INVITE, {"input": {"role": "VIEWER"}}, token=member["token"])) == [
        "FORBIDDEN"
    ]

    revision = runtime.policies.revision
    adapter = Adapter(runtime.db.engine)
    for obj, act in (
        ("Mutation.createInvitation", "write"),
        ("CreateInvitationPayload.*", "read"),
        ("Invitation.*", "read"),
    ):
        await adapter.add_policy("p", "p", ["role:member", tenant_id, obj, act, "allow"])
    for _ in range(500):  # the watcher subscribes at startup: make sure it is listening
        if (await runtime.redis.pubsub_numsub(CHANNEL))[0][1] > 0:
            break
        await asyncio.sleep(0.02)
    await announce_policy_change(runtime.redis)
    await wait_until(lambda: runtime.policies.revision > revision)

    allowed = await gql(client, INVITE, {"input": {"role": "VIEWER"}}, token=member["token"])
    assert "errors" not in allowed, allowed
    remember_secret(allowed["data"]["createInvitation"]["code"])
    assert codes(await gql(client, INVITE, {"input": {"role": "VIEWER"}}, token=other_member["token"])) == [
        "FORBIDDEN"
    ]
