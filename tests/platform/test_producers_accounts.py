"""accounts emits its domain events through real mutations, with the payloads consumers
need and no secret (password, tokens, invitation codes, API key secrets)."""

from __future__ import annotations

from tests.support.domain_events import assert_no_secrets, domain_stream
from tests.support.graphql import PASSWORD, gql, sign_up, unique_email
from tests.support.secrets import remember_secret

INVITE = "mutation($i: CreateInvitationInput!) { createInvitation(input: $i) { code invitation { id } } }"
CHANGE_ROLE = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { user { id role } } }"
REMOVE = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { user { id } } }"
GRANT = "mutation($i: ConsentInput!) { grantConsent(input: $i) { user { id } } }"
REVOKE = "mutation($i: ConsentInput!) { revokeConsent(input: $i) { user { id } } }"
CREATE_KEY = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }"
REVOKE_KEY = "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { id } } }"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken user { id } } }"


async def _ok(client, query, variables, token=None):
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    return body["data"]


def _without_times(payload):
    return {key: value for key, value in payload.items() if key != "expires_at"}


async def test_account_mutations_emit_typed_events_without_secrets(accounts):
    runtime, client = accounts
    redis = runtime.redis
    owner = await sign_up(client, tenant_name="Night Owl Records", display_name="Ada")
    owner_id = owner["user"]["id"]
    signed_up = await domain_stream(redis, "accounts")
    assert [event.type for event in signed_up] == [
        "accounts.tenant.created",
        "accounts.user.signed_up",
        "accounts.member.added",
        "accounts.consent.granted",
        "accounts.consent.granted",
        "accounts.session.started",
    ]
    tenant_id = signed_up[0].tenant_id
    assert tenant_id and all(event.tenant_id == tenant_id for event in signed_up)
    assert signed_up[0].payload == {"name": "Night Owl Records", "owner_id": owner_id}
    assert signed_up[1].payload == {
        "user_id": owner_id,
        "display_name": "Ada",
        "role": "owner",
        "consents": ["data_processing", "terms"],
        "invitation_id": None,
    }
    assert signed_up[1].actor_id == owner_id and signed_up[1].version == 1
    assert signed_up[5].payload["method"] == "sign_up" and signed_up[5].payload["session_id"]

    invitee = unique_email("invitee")
    invited = await _ok(client, INVITE, {"i": {"role": "MEMBER", "email": invitee}}, owner["token"])
    code = invited["createInvitation"]["code"]
    remember_secret(code)
    member = await sign_up(client, email=invitee, invitation_code=code, display_name="Bob")
    member_id = member["user"]["id"]
    await _ok(client, CHANGE_ROLE, {"i": {"userId": member_id, "role": "ADMIN"}}, owner["token"])
    await _ok(client, GRANT, {"i": {"consent": "MARKETING"}}, owner["token"])
    await _ok(client, REVOKE, {"i": {"consent": "MARKETING"}}, owner["token"])
    key = (await _ok(client, CREATE_KEY, {"i": {"name": "ci", "scopes": ["accounts:read"]}}, owner["token"]))[
        "createApiKey"
    ]
    remember_secret(key["secret"])
    await _ok(client, REVOKE_KEY, {"i": {"id": key["apiKey"]["id"]}}, owner["token"])
    logged_in = (await _ok(client, LOG_IN, {"i": {"email": invitee, "password": PASSWORD}}))["logIn"]
    remember_secret(logged_in["accessToken"], logged_in["refreshToken"])
    await _ok(client, REMOVE, {"i": {"userId": member_id}}, owner["token"])

    later = (await domain_stream(redis, "accounts"))[len(signed_up) :]
    by_type = [(event.type, _without_times(event.payload)) for event in later]
    invitation_id = invited["createInvitation"]["invitation"]["id"]
    assert by_type[0] == (
        "accounts.invitation.created",
        {"invitation_id": invitation_id, "role": "member", "email": invitee.lower()},
    )
    assert later[0].payload["expires_at"]
    assert ("accounts.user.signed_up", {
        "user_id": member_id, "display_name": "Bob", "role": "member",
        "consents": ["data_processing", "terms"], "invitation_id": invitation_id,
    }) in by_type  # fmt: skip
    assert (
        "accounts.member.added",
        {"user_id": member_id, "role": "member", "invitation_id": invitation_id},
    ) in by_type
    assert "accounts.tenant.created" not in [kind for kind, _ in by_type]  # joined, not founded
    assert (
        "accounts.member.role_changed",
        {"user_id": member_id, "role": "admin", "previous_role": "member"},
    ) in by_type
    assert (
        "accounts.consent.granted",
        {"user_id": owner_id, "consent": "marketing", "at_sign_up": False},
    ) in by_type
    assert ("accounts.consent.revoked", {"user_id": owner_id, "consent": "marketing"}) in by_type
    assert (
        "accounts.api_key.created",
        {"api_key_id": key["apiKey"]["id"], "user_id": owner_id, "name": "ci", "scopes": ["accounts:read"]},
    ) in by_type
    assert ("accounts.api_key.revoked", {"api_key_id": key["apiKey"]["id"], "user_id": owner_id}) in by_type
    assert by_type[-2][0] == "accounts.session.started" and by_type[-2][1]["method"] == "log_in"
    assert by_type[-1] == ("accounts.member.removed", {"user_id": member_id, "role": "admin"})
    assert all(event.tenant_id == tenant_id for event in later)

    secrets = [PASSWORD, code, key["secret"], owner["token"], owner["refresh"], member["token"]]
    secrets += [member["refresh"], logged_in["accessToken"], logged_in["refreshToken"]]
    await assert_no_secrets(redis, "accounts", secrets)
