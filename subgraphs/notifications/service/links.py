"""Signed links in mail: one-click unsubscribe (per recipient and category), the open pixel and
click redirects (per message; a click link names its target, so only links the platform put in
a mail redirect anywhere). A token is `payload.signature`, both base64url: the payload a small
JSON object with an expiry, the signature an HMAC-SHA256 under a key derived for this purpose
from the platform's key ring. And the keyed hash that stands for an address in the tables."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from shared.config import Settings
from shared.crypto import derive_key
from shared.errors import BadUserInput

UNSUBSCRIBE_SECONDS = 180 * 24 * 3600
TRACKING_SECONDS = 90 * 24 * 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class LinkSigner:
    key: bytes
    address_key: bytes
    base_url: str
    """This subgraph's public HTTP address (`.../notifications`)."""

    @classmethod
    def from_settings(cls, platform: Settings, base_url: str) -> LinkSigner:
        return cls(
            derive_key(platform, "notifications-links"),
            derive_key(platform, "notifications-address"),
            base_url,
        )

    def sign(self, purpose: str, claims: dict[str, Any], lifetime: int) -> str:
        payload = _b64(
            json.dumps(
                {**claims, "p": purpose, "x": int(time.time()) + lifetime}, separators=(",", ":")
            ).encode()
        )
        return f"{payload}.{_b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest())}"

    def verify(self, purpose: str, token: str) -> dict[str, Any]:
        """The token's claims; BAD_USER_INPUT for a forged, altered, expired or misused token."""
        payload, _, signature = token.partition(".")
        try:
            expected = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
            if not signature or not hmac.compare_digest(expected, _unb64(signature)):
                raise ValueError("signature")
            claims: dict[str, Any] = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            raise BadUserInput("This link is not valid", field="t") from None
        if claims.get("p") != purpose:
            raise BadUserInput("This link is not valid", field="t")
        if int(claims.get("x", 0)) < time.time():
            raise BadUserInput("This link has expired", field="t")
        return claims

    def unsubscribe_url(self, tenant_id: str, user_id: str, category: str) -> str:
        token = self.sign("unsubscribe", {"t": tenant_id, "u": user_id, "c": category}, UNSUBSCRIBE_SECONDS)
        return f"{self.base_url}/unsubscribe?{urlencode({'t': token})}"

    def pixel_url(self, email_id: str) -> str:
        return (
            f"{self.base_url}/open?{urlencode({'t': self.sign('open', {'e': email_id}, TRACKING_SECONDS)})}"
        )

    def click_url(self, email_id: str, target: str) -> str:
        token = self.sign("click", {"e": email_id, "u": target}, TRACKING_SECONDS)
        return f"{self.base_url}/click?{urlencode({'t': token})}"

    def address_hash(self, address: str) -> str:
        """Stands for an address (suppression, deliveries) without storing it."""
        return hmac.new(self.address_key, address.strip().lower().encode(), hashlib.sha256).hexdigest()
