from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.secrets import remember_secret

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { accessToken refreshToken expiresIn user { id displayName role } }
}
"""
PASSWORD = "correct-horse-battery"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    path: str = "/graphql",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    response = await client.post(path, json={"query": query, "variables": variables or {}}, headers=sent)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


def unique_email(label: str = "artist") -> str:
    email = f"{label}-{uuid.uuid4().hex[:10]}@example.com"
    remember_secret(email)
    return email


async def sign_up(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    tenant_name: str | None = "Night Owl Records",
    invitation_code: str | None = None,
    display_name: str = "Ada Lovelace",
    password: str = PASSWORD,
    path: str = "/graphql",
) -> dict[str, Any]:
    """Signs up and returns {token, refresh, user, email}."""
    email = email or unique_email()
    remember_secret(password, invitation_code)
    body = await gql(
        client,
        SIGN_UP,
        {
            "input": {
                "email": email,
                "password": password,
                "displayName": display_name,
                "tenantName": None if invitation_code else tenant_name,
                "invitationCode": invitation_code,
                "consents": {"terms": True, "dataProcessing": True, "marketing": False},
            }
        },
        path=path,
    )
    assert "errors" not in body, body
    payload = body["data"]["signUp"]
    remember_secret(payload["accessToken"], payload["refreshToken"])
    return {
        "token": payload["accessToken"],
        "refresh": payload["refreshToken"],
        "user": payload["user"],
        "email": email,
    }
