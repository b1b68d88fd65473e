"""A fresh session's payload resolves as its new user: signUp, logIn and refreshSession answer
the user's own e-mail and tenant, while other users' private fields stay protected."""

from __future__ import annotations

from tests.support.graphql import PASSWORD, codes, gql, sign_up, unique_email
from tests.support.secrets import remember_secret

SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { accessToken refreshToken user { id email consents tenant { name } } }
}"""
LOG_IN = """mutation($input: LogInInput!) {
  logIn(input: $input) { accessToken refreshToken user { email tenant { name } } }
}"""
REFRESH = """mutation($t: String!) {
  refreshSession(input: {refreshToken: $t}) { accessToken refreshToken user { email tenant { name } } }
}"""
INVITE = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code } }"
MEMBERS_AT_SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) {
    accessToken refreshToken
    user { id email tenant { name members { edges { node { id displayName email consents } } } } }
  }
}"""


def _sign_up_input(email: str, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": email,
        "password": PASSWORD,
        "displayName": "Nina",
        "tenantName": "Blue Note Collective",
        "consents": {"terms": True, "dataProcessing": True, "marketing": False},
    }
    data.update(overrides)
    return {"input": data}


def _remember(payload: dict[str, str]) -> None:
    remember_secret(payload["accessToken"], payload["refreshToken"])


async def test_sign_up_payload_answers_the_new_users_email_and_tenant(accounts):
    _, client = accounts
    email = unique_email()
    body = await gql(client, SIGN_UP, _sign_up_input(email))
    assert "errors" not in body, body
    payload = body["data"]["signUp"]
    _remember(payload)
    assert payload["user"]["email"] == email
    assert payload["user"]["tenant"] == {"name": "Blue Note Collective"}
    assert payload["user"]["consents"] == ["DATA_PROCESSING", "TERMS"]

    # The switch lasts the operation only: the next anonymous request is anonymous.
    anonymous = await gql(client, "{ me { id email } }")
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_log_in_and_refresh_payloads_answer_as_the_user(accounts):
    _, client = accounts
    account = await sign_up(client, tenant_name="Night Owl Records")
    logged = await gql(client, LOG_IN, {"input": {"email": account["email"], "password": PASSWORD}})
    assert "errors" not in logged, logged
    _remember(logged["data"]["logIn"])
    assert logged["data"]["logIn"]["user"] == {
        "email": account["email"],
        "tenant": {"name": "Night Owl Records"},
    }
    refreshed = await gql(client, REFRESH, {"t": logged["data"]["logIn"]["refreshToken"]})
    assert "errors" not in refreshed, refreshed
    _remember(refreshed["data"]["refreshSession"])
    assert refreshed["data"]["refreshSession"]["user"]["email"] == account["email"]


async def test_sign_up_by_invitation_keeps_other_members_private(accounts):
    _, client = accounts
    owner = await sign_up(client, tenant_name="Night Owl Records")
    invite = await gql(client, INVITE, {"input": {"role": "MEMBER"}}, token=owner["token"])
    code = invite["data"]["createInvitation"]["code"]
    remember_secret(code)
    email = unique_email("member")
    body = await gql(
        client,
        MEMBERS_AT_SIGN_UP,
        _sign_up_input(email, tenantName=None, invitationCode=code),
    )
    _remember(body["data"]["signUp"])
    user = body["data"]["signUp"]["user"]
    assert user["email"] == email and user["tenant"]["name"] == "Night Owl Records"
    nodes = {edge["node"]["id"]: edge["node"] for edge in user["tenant"]["members"]["edges"]}
    assert set(nodes) == {owner["user"]["id"], user["id"]}
    # A member sees the owner's name, not their e-mail or consents; their own, yes.
    assert nodes[owner["user"]["id"]]["displayName"] == owner["user"]["displayName"]
    assert nodes[owner["user"]["id"]]["email"] is None
    assert nodes[owner["user"]["id"]]["consents"] is None
    assert nodes[user["id"]]["email"] == email
    assert codes(body) == ["FORBIDDEN", "FORBIDDEN"]
    refused = {tuple(error["path"][-1:]) for error in body["errors"]}
    assert refused == {("email",), ("consents",)}


async def test_a_refused_sign_up_switches_nothing(accounts):
    _, client = accounts
    account = await sign_up(client)
    body = await gql(client, SIGN_UP, _sign_up_input(account["email"]))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None
