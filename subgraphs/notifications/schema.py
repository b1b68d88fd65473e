"""Query, mutations and subscription of the notifications subgraph: thin, the rules are in
`service/`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from shared.config import Settings
from shared.mutations import unit_of_work
from shared.pagination import Connection, PageCursor, PageSize, connection, decode_cursor
from shared.schema import PlatformSchema, build_schema
from subgraphs.notifications.service import deliveries, inbox, live, preferences
from subgraphs.notifications.types import (
    DigestFrequency,
    EmailDelivery,
    EmailDeliverySummary,
    Notification,
    NotificationCategory,
    NotificationPreferences,
    NotificationReceived,
    NotificationsInfo,
)


def _app_url(info: NotificationsInfo) -> str:
    runtime = info.context.runtime
    return runtime.config.app_url(runtime.settings)


@strawberry.input(description="How one category should reach you; what you leave out stays as it is.")
class CategoryPreferenceInput:
    category: NotificationCategory = strawberry.field(description="The category.")
    in_app: bool | None = strawberry.field(default=None, description="In the app's list.")
    email: bool | None = strawberry.field(default=None, description="By e-mail.")
    digest: DigestFrequency | None = strawberry.field(
        default=None, description="Batch into digests (digestible categories only, else BAD_USER_INPUT)."
    )


@strawberry.input(description="When e-mail waits, in your time zone.")
class QuietHoursInput:
    start: str = strawberry.field(description="HH:MM local time.")
    end: str = strawberry.field(description="HH:MM local time (before `start`: the window crosses midnight).")
    timezone: str = strawberry.field(default="UTC", description="IANA time zone, e.g. Europe/Paris.")


@strawberry.input(description="Changes to notification preferences; what you leave out stays as it is.")
class UpdateNotificationPreferencesInput:
    language: str | None = strawberry.field(default=None, description="en, fr or de.")
    categories: list[CategoryPreferenceInput] = strawberry.field(
        default_factory=list, description="Per category: channels and digests. Security cannot be turned off."
    )
    quiet_hours: QuietHoursInput | None = strawberry.field(
        default=None, description="A quiet window for e-mail."
    )
    clear_quiet_hours: bool = strawberry.field(default=False, description="Remove the quiet window.")
    email_tracking: bool | None = strawberry.field(
        default=None, description="Record opens and clicks of your mail (off: no pixel, no tracked links)."
    )

    def change(self) -> preferences.PreferencesChange:
        quiet = self.quiet_hours
        return preferences.PreferencesChange(
            language=self.language,
            categories=tuple(
                preferences.CategoryChange(item.category, item.in_app, item.email, item.digest)
                for item in self.categories
            ),
            quiet_start=quiet.start if quiet else None,
            quiet_end=quiet.end if quiet else None,
            timezone=quiet.timezone if quiet else None,
            clear_quiet=self.clear_quiet_hours,
            email_tracking=self.email_tracking,
        )


@strawberry.input(description="Which notifications to mark read: `ids`, or `all: true`.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Up to 100 of your notifications."
    )
    all: bool = strawberry.field(default=False, description="Every unread notification of yours.")


@strawberry.input(description="The notification to archive.")
class ArchiveNotificationInput:
    id: strawberry.ID = strawberry.field(description="One of your notifications.")


@strawberry.type(description="Notifications after being marked read, and what is left unread.")
class MarkNotificationsReadPayload:
    notifications: list[Notification] = strawberry.field(
        description="Those named by `ids` (empty for `all`)."
    )
    unread_count: int = strawberry.field(description="Your unread notifications now.")


@strawberry.type(description="The archived notification.")
class ArchiveNotificationPayload:
    notification: Notification = strawberry.field(description="It, archived (and read).")


@strawberry.type(description="Preferences after the change.")
class NotificationPreferencesPayload:
    preferences: NotificationPreferences = strawberry.field(description="As they apply now.")


@strawberry.type
class Query:
    @strawberry.field(description="Your notifications, newest first (archived ones with `archived: true`).")
    async def notifications(
        self,
        info: NotificationsInfo,
        first: PageSize = 20,
        after: PageCursor = None,
        unread_only: Annotated[bool, strawberry.argument(description="Only unread ones.")] = False,
        category: Annotated[
            NotificationCategory | None, strawberry.argument(description="Only this category.")
        ] = None,
        archived: Annotated[
            bool, strawberry.argument(description="The archive instead of the inbox.")
        ] = False,
    ) -> Connection[Notification]:
        rows = await inbox.page(
            info.context, inbox.InboxQuery(first, decode_cursor(after), unread_only, category, archived)
        )
        app_url = _app_url(info)
        return connection(rows, first, key=lambda row: row.id, node=lambda row: Notification.of(row, app_url))

    @strawberry.field(description="How many of your notifications are unread (archived ones excluded).")
    async def unread_notification_count(self, info: NotificationsInfo) -> int:
        return await inbox.unread_count(info.context)

    @strawberry.field(
        description="Your notification preferences as they apply (yours over your tenant's defaults)."
    )
    async def notification_preferences(self, info: NotificationsInfo) -> NotificationPreferences:
        return NotificationPreferences.of(await preferences.my_preferences(info.context))

    @strawberry.field(description="Your tenant's default notification preferences (tenant admins).")
    async def tenant_notification_defaults(self, info: NotificationsInfo) -> NotificationPreferences:
        return NotificationPreferences.of(await preferences.tenant_defaults(info.context))

    @strawberry.field(description="Your tenant's e-mail deliveries, newest first (tenant admins).")
    async def email_deliveries(
        self,
        info: NotificationsInfo,
        first: PageSize = 20,
        after: PageCursor = None,
        status: Annotated[
            str | None, strawberry.argument(description="Only this status (SENT, BOUNCED, DEFERRED...).")
        ] = None,
    ) -> Connection[EmailDelivery]:
        rows = await deliveries.page(info.context, first, decode_cursor(after), status)
        return connection(rows, first, key=lambda row: row.id, node=EmailDelivery.of)

    @strawberry.field(description="Your tenant's mail by outcome over the last days (tenant admins).")
    async def email_delivery_summary(
        self,
        info: NotificationsInfo,
        days: Annotated[int, strawberry.argument(description="How many days back, 1 to 366.")] = 30,
    ) -> EmailDeliverySummary:
        return EmailDeliverySummary.of(await deliveries.summary(info.context, days))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Mark notifications read: some by id, or all of them.")
    async def mark_notifications_read(
        self,
        info: NotificationsInfo,
        input: Annotated[MarkNotificationsReadInput, strawberry.argument(description="Which ones.")],
    ) -> MarkNotificationsReadPayload:
        ids = [str(item) for item in input.ids] if input.ids is not None else None
        async with unit_of_work(info, {"count": len(ids or []), "all": input.all}) as uow:
            rows = await inbox.mark_read(uow, info.context.principal, ids, input.all)
        app_url = _app_url(info)
        return MarkNotificationsReadPayload(
            notifications=[Notification.of(row, app_url) for row in rows],
            unread_count=await inbox.unread_count(info.context),
        )

    @strawberry.mutation(
        description="Move a notification of yours out of the inbox (it stays in the archive)."
    )
    async def archive_notification(
        self,
        info: NotificationsInfo,
        input: Annotated[ArchiveNotificationInput, strawberry.argument(description="Which one.")],
    ) -> ArchiveNotificationPayload:
        async with unit_of_work(info, {"id": str(input.id)}) as uow:
            row = await inbox.archive(uow, info.context.principal, str(input.id))
        return ArchiveNotificationPayload(notification=Notification.of(row, _app_url(info)))

    @strawberry.mutation(description="Change your notification preferences.")
    async def update_notification_preferences(
        self,
        info: NotificationsInfo,
        input: Annotated[UpdateNotificationPreferencesInput, strawberry.argument(description="The changes.")],
    ) -> NotificationPreferencesPayload:
        default = info.context.runtime.config.notifications_default_language
        async with unit_of_work(
            info, {"language": input.language, "categories": len(input.categories)}
        ) as uow:
            found = await preferences.update_mine(uow, info.context.principal, input.change(), default)
        return NotificationPreferencesPayload(preferences=NotificationPreferences.of(found))

    @strawberry.mutation(description="Change your tenant's default notification preferences (tenant admins).")
    async def update_tenant_notification_defaults(
        self,
        info: NotificationsInfo,
        input: Annotated[UpdateNotificationPreferencesInput, strawberry.argument(description="The changes.")],
    ) -> NotificationPreferencesPayload:
        default = info.context.runtime.config.notifications_default_language
        async with unit_of_work(
            info, {"language": input.language, "categories": len(input.categories)}
        ) as uow:
            found = await preferences.update_tenant_defaults(
                uow, info.context.principal, input.change(), default
            )
        return NotificationPreferencesPayload(preferences=NotificationPreferences.of(found))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Your new notifications as they are made. Resume after the last `id` you saw "
        "with `after`."
    )
    async def notification_received(
        self,
        info: NotificationsInfo,
        after: Annotated[str | None, strawberry.argument(description="Resume after this entry id.")] = None,
    ) -> AsyncGenerator[NotificationReceived, None]:
        app_url = _app_url(info)
        async for entry_id, row in live.follow(info.context, after):
            yield NotificationReceived(id=entry_id, notification=Notification.of(row, app_url))


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(settings, query=Query, mutation=Mutation, subscription=Subscription)
