"""What the notifications subgraph runs with beyond the platform: where mail goes (`SMTP_*`),
the public address links in mail point to, and the streams its subscribers follow."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from arq.connections import ArqRedis
from pydantic import SecretStr

from shared.config import Settings, SubgraphSettings
from shared.events import EventStreams, StreamHub
from shared.runtime import SubgraphRuntime


class SmtpSecurity(enum.StrEnum):
    NONE = "none"
    """Plain SMTP (a local relay or the dev sink)."""
    STARTTLS = "starttls"
    """Upgrade a plain connection (port 587)."""
    SSL = "ssl"
    """Implicit TLS (port 465)."""


class NotificationsSettings(SubgraphSettings):
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    """Default: the SMTP sink `make dev` starts (its captured mail at http://127.0.0.1:8025)."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: SmtpSecurity = SmtpSecurity.NONE
    smtp_timeout_seconds: float = 10.0
    smtp_connections: int = 2
    """Connections kept open to the SMTP server by each worker (messages are sent over them in turn)."""
    mail_from: str = "Spotify Agent <notifications@spotify-agent.local>"
    mail_unsubscribe_mailbox: str = "unsubscribe@spotify-agent.local"
    """The `mailto:` of `List-Unsubscribe` (RFC 2369); the HTTPS one-click link comes first."""
    notifications_public_url: str | None = None
    """Where this subgraph's HTTP routes are reached from a mail client (one-click unsubscribe,
    the open pixel, click redirects); default: the subgraph host's `/notifications`."""
    notifications_app_url: str | None = None
    """The web app the links of a notification open; default: GraphiQL on the router."""
    notifications_default_language: str = "en"

    notifications_graph_url: str | None = None
    """Where the mail job looks up a recipient's address (the accounts subgraph's `User.email`,
    with a service token); default: the router on this host."""
    notifications_invitation_url: str | None = None
    """The accept link of a workspace invitation mail, with `{code}` where the code goes (the
    web app's page); default: GraphiQL on the router with `acceptWorkspaceInvitation` filled in."""
    notifications_email_max_attempts: int = 8
    """Temporary SMTP failures retried with backoff this many times, then the mail is FAILED."""

    def public_url(self, platform: Settings) -> str:
        return (self.notifications_public_url or f"{platform.subgraph_base_url}/notifications").rstrip("/")

    def app_url(self, platform: Settings) -> str:
        return (self.notifications_app_url or f"http://127.0.0.1:{platform.router_port}").rstrip("/")

    def invitation_url(self, platform: Settings, code: str) -> str:
        if self.notifications_invitation_url:
            return self.notifications_invitation_url.replace("{code}", quote(code, safe=""))
        mutation = (
            f'mutation {{ acceptWorkspaceInvitation(input: {{code: "{code}"}}) '
            "{ workspace { id name } } }"
        )
        return f"http://127.0.0.1:{platform.router_port}/graphql?{urlencode({'query': mutation})}"

    def graph_url(self, platform: Settings) -> str:
        return self.notifications_graph_url or f"http://127.0.0.1:{platform.router_port}/graphql"


@dataclass
class NotificationsServices:
    event_streams: EventStreams
    stream_hub: StreamHub
    job_queue: ArqRedis | None = None
    """Connected when the app starts (arq binds to the running loop)."""


def build_services(runtime: SubgraphRuntime[NotificationsSettings, None]) -> NotificationsServices:
    streams = EventStreams(runtime.redis)
    return NotificationsServices(event_streams=streams, stream_hub=StreamHub(streams))


async def connect_job_queue(runtime: SubgraphRuntime[NotificationsSettings, NotificationsServices]) -> None:
    if runtime.services.job_queue is None:
        runtime.services.job_queue = ArqRedis.from_url(runtime.redis_url)
