"""GraphQL types of the notifications subgraph: notifications with the entities they are
about (references the router joins), preferences, and the payloads of its mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.references import Artist, Asset, Project, User, Workspace
from shared.schema import described_enum
from subgraphs.notifications.config import NotificationsServices, NotificationsSettings
from subgraphs.notifications.models import Notification as NotificationRow
from subgraphs.notifications.models import NotificationEmail as EmailRow
from subgraphs.notifications.service import deliveries, preferences
from subgraphs.notifications.workflows import Category

NotificationsInfo = Info[RequestContext[NotificationsSettings, NotificationsServices], None]

described_enum(
    Category,
    "What a notification is about: preferences are set per category.",
    {
        Category.MENTIONS: "Someone mentioned you in a comment.",
        Category.COMMENTS: "Replies in comment threads you are in.",
        Category.INVITATIONS: "Invitations to workspaces (e-mail to the invitee).",
        Category.MEMBERSHIP: "People joining or leaving your workspaces; your roles changing.",
        Category.PROJECTS: "Changes to projects you follow (may be digested).",
        Category.JOBS: "Your jobs finishing or failing (library syncs, reports).",
        Category.REPORTS: "Analytics reports ready to download.",
        Category.MODELS: "Model drift alerts (platform admins).",
        Category.SECURITY: "Sign-ins, API keys, password and consent changes: always sent, never digested.",
    },
    name="NotificationCategory",
)
NotificationCategory = Category
described_enum(
    preferences.DigestFrequency,
    "How notifications of a digestible category are batched.",
    {
        preferences.DigestFrequency.OFF: "Each one as it happens.",
        preferences.DigestFrequency.HOURLY: "One digest an hour.",
        preferences.DigestFrequency.DAILY: "One digest a day.",
    },
)
DigestFrequency = preferences.DigestFrequency


@strawberry.type(description="Something that happened on the platform that concerns you.")
class Notification:
    id: strawberry.ID = strawberry.field(description="Notification id (opaque; newer ids sort later).")
    kind: str = strawberry.field(
        description="What happened, e.g. `comment_mention`, `report_ready`, `new_sign_in` (one per workflow)."
    )
    category: NotificationCategory = strawberry.field(description="The category it belongs to.")
    title: str = strawberry.field(description="One line, in your language.")
    body: str = strawberry.field(description="A sentence or two, in your language.")
    link: str = strawberry.field(description="Where it leads in the app (absolute URL).")
    critical: bool = strawberry.field(description="A security notification: sent whatever your preferences.")
    actor: User | None = strawberry.field(
        description="Who did it (joined by the router); null: the platform."
    )
    project: Project | None = strawberry.field(description="The project it is about, if any.")
    workspace: Workspace | None = strawberry.field(description="The workspace it is about, if any.")
    asset: Asset | None = strawberry.field(
        description="The stored file it is about (a report's PDF), if any."
    )
    artist: Artist | None = strawberry.field(description="The artist it is about, if any.")
    created_at: datetime = strawberry.field(description="When it was made (UTC).")
    seen_at: datetime | None = strawberry.field(description="When you first saw it, if you have.")
    read_at: datetime | None = strawberry.field(description="When you read it; null: unread.")
    archived_at: datetime | None = strawberry.field(description="When you archived it; null: in the inbox.")

    @classmethod
    def of(cls, row: NotificationRow, app_url: str) -> Notification:
        subjects = {subject["type"]: strawberry.ID(subject["id"]) for subject in row.subjects}
        return cls(
            id=strawberry.ID(row.id),
            kind=row.kind,
            category=Category(row.category),
            title=row.title,
            body=row.body,
            link=f"{app_url}{row.link}",
            critical=row.critical,
            actor=User(id=strawberry.ID(row.actor_id)) if row.actor_id else None,
            project=Project(id=subjects["Project"]) if "Project" in subjects else None,
            workspace=Workspace(id=subjects["Workspace"]) if "Workspace" in subjects else None,
            asset=Asset(id=subjects["Asset"]) if "Asset" in subjects else None,
            artist=Artist(id=subjects["Artist"]) if "Artist" in subjects else None,
            created_at=row.created_at,
            seen_at=row.seen_at,
            read_at=row.read_at,
            archived_at=row.archived_at,
        )


@strawberry.type(description="A new notification, as `notificationReceived` delivers it.")
class NotificationReceived:
    id: str = strawberry.field(description="The stream entry id: resume after it with `after`.")
    notification: Notification = strawberry.field(description="The notification.")


@strawberry.type(description="When e-mail waits (in-app notifications still arrive).")
class QuietHours:
    start: str = strawberry.field(description="Local time it starts, HH:MM.")
    end: str = strawberry.field(description="Local time it ends, HH:MM (may be after midnight).")
    timezone: str = strawberry.field(description="IANA time zone, e.g. Europe/Paris.")


@strawberry.type(description="How one category reaches you.")
class CategoryPreference:
    category: NotificationCategory = strawberry.field(description="The category.")
    in_app: bool = strawberry.field(description="In the app's notification list.")
    email: bool = strawberry.field(description="By e-mail.")
    digest: DigestFrequency | None = strawberry.field(
        description="Batched into digests; null: this category is never digested."
    )
    critical: bool = strawberry.field(description="Always sent: cannot be turned off.")


@strawberry.type(description="Notification preferences (yours, or your tenant's defaults).")
class NotificationPreferences:
    language: str = strawberry.field(description="Language of notifications and e-mail: en, fr or de.")
    quiet_hours: QuietHours | None = strawberry.field(description="When e-mail waits; null: never.")
    categories: list[CategoryPreference] = strawberry.field(description="Every category, with its channels.")
    email_tracking: bool = strawberry.field(
        description="Whether opens and clicks of your mail are recorded (never in security mail)."
    )

    @classmethod
    def of(cls, found: preferences.Preferences) -> NotificationPreferences:
        quiet = found.quiet
        return cls(
            language=found.language,
            quiet_hours=QuietHours(
                start=quiet.start.strftime("%H:%M"), end=quiet.end.strftime("%H:%M"), timezone=quiet.timezone
            )
            if quiet
            else None,
            email_tracking=found.email_tracking,
            categories=[
                CategoryPreference(
                    category=item.category,
                    in_app=item.in_app,
                    email=item.email,
                    digest=item.digest,
                    critical=item.critical,
                )
                for item in found.categories
            ],
        )


@strawberry.type(description="One e-mail of your tenant's (no address, no body: those are not kept).")
class EmailDelivery:
    id: strawberry.ID = strawberry.field(description="Delivery id (newer ids sort later).")
    kind: str = strawberry.field(description="The notification kind it carried (or `digest`).")
    category: NotificationCategory = strawberry.field(description="Its category.")
    status: str = strawberry.field(
        description="QUEUED, SENDING, SENT, DEFERRED (a temporary failure, retried), BOUNCED (permanent; the "
        "address is suppressed), SUPPRESSED (not sent: a bounced address), FAILED (retries exhausted), "
        "SKIPPED (no address)."
    )
    attempts: int = strawberry.field(description="Tries so far.")
    recipient: User | None = strawberry.field(
        description="Who it was for; null for an invitee without an account."
    )
    message_id: str = strawberry.field(
        description="Its Message-ID header (derived from the idempotency key)."
    )
    last_error: str | None = strawberry.field(description="The last failure: an SMTP code and its class.")
    created_at: datetime = strawberry.field(description="When it was recorded.")
    sent_at: datetime | None = strawberry.field(description="When the server accepted it.")
    opened_at: datetime | None = strawberry.field(description="First open (the pixel), if tracked.")
    clicked_at: datetime | None = strawberry.field(description="First click on a link, if tracked.")

    @classmethod
    def of(cls, row: EmailRow) -> EmailDelivery:
        return cls(
            id=strawberry.ID(row.id),
            kind=row.kind,
            category=Category(row.category),
            status=row.status,
            attempts=row.attempts,
            recipient=User(id=strawberry.ID(row.recipient_id)) if row.recipient_id else None,
            message_id=row.message_id,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            opened_at=row.opened_at,
            clicked_at=row.clicked_at,
        )


@strawberry.type(description="Your tenant's mail over the last days, by outcome.")
class EmailDeliverySummary:
    days: int = strawberry.field(description="The days counted, ending now.")
    queued: int = strawberry.field(description="Waiting to be sent (a quiet window, a retry).")
    sent: int = strawberry.field(description="Accepted by the SMTP server.")
    deferred: int = strawberry.field(description="Failed temporarily; will be retried.")
    bounced: int = strawberry.field(description="Refused permanently; the address is suppressed.")
    suppressed: int = strawberry.field(description="Not sent to an address that bounced before.")
    failed: int = strawberry.field(description="Retries exhausted.")
    opened: int = strawberry.field(description="Opened at least once (tracked mail only).")
    clicked: int = strawberry.field(description="With a link followed (tracked mail only).")

    @classmethod
    def of(cls, found: deliveries.Summary) -> EmailDeliverySummary:
        counts = found.by_status
        return cls(
            days=found.days,
            queued=counts["QUEUED"] + counts["SENDING"],
            sent=counts["SENT"],
            deferred=counts["DEFERRED"],
            bounced=counts["BOUNCED"],
            suppressed=counts["SUPPRESSED"],
            failed=counts["FAILED"] + counts["SKIPPED"],
            opened=found.opened,
            clicked=found.clicked,
        )
