"""What a person wants: per category and channel on or off, digests for digestible categories,
a quiet window for e-mail, a language. Their own choices win over their tenant's defaults,
which win over the workflow's; critical (security) notifications ignore all of it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.auth.principal import Principal, signed_in_user, tenant_of
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput
from shared.mutations import UnitOfWork
from subgraphs.notifications.models import NotificationPreference
from subgraphs.notifications.repository import TENANT_DEFAULTS, PreferenceRepository
from subgraphs.notifications.workflows import DIGESTIBLE, LANGUAGES, WORKFLOWS, Category, Channel, Workflow


class DigestFrequency(enum.StrEnum):
    OFF = "off"
    HOURLY = "hourly"
    DAILY = "daily"


@dataclass(frozen=True)
class QuietWindow:
    start: time
    end: time
    timezone: str

    def ends_after(self, at: datetime) -> datetime | None:
        """When the window `at` falls in ends (UTC); None when `at` is outside it."""
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        start = local.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if self.start <= self.end:
            inside, until = start <= local < end, end
        elif local >= start:  # across midnight, evening part
            inside, until = True, end + timedelta(days=1)
        else:
            inside, until = local < end, end
        return until.astimezone(at.tzinfo) if inside else None


@dataclass(frozen=True)
class Choice:
    """How one workflow reaches one person."""

    in_app: bool
    email: bool
    digest: DigestFrequency
    language: str
    quiet: QuietWindow | None


def default_channels(category: Category) -> set[Channel]:
    return {
        channel for workflow in WORKFLOWS if workflow.category is category for channel in workflow.channels
    }


def _channel(rows: list[NotificationPreference | None], category: Category, channel: Channel) -> bool | None:
    for row in rows:
        if row is not None and channel.value in row.channels.get(category.value, {}):
            return bool(row.channels[category.value][channel.value])
    return None


def language_of(rows: list[NotificationPreference | None], default: str) -> str:
    for row in rows:
        if row is not None and row.language:
            return row.language
    return default


def _quiet(rows: list[NotificationPreference | None]) -> QuietWindow | None:
    for row in rows:
        if row is not None and row.quiet_start is not None and row.quiet_end is not None:
            start, end = divmod(row.quiet_start, 60), divmod(row.quiet_end, 60)
            return QuietWindow(time(*start), time(*end), row.timezone or "UTC")
    return None


def choose(
    workflow: Workflow,
    own: NotificationPreference | None,
    tenant: NotificationPreference | None,
    default_language: str,
) -> Choice:
    rows = [own, tenant]
    language = language_of(rows, default_language)
    if workflow.critical:
        return Choice(
            Channel.IN_APP in workflow.channels,
            Channel.EMAIL in workflow.channels,
            DigestFrequency.OFF,
            language,
            None,
        )
    in_app = _channel(rows, workflow.category, Channel.IN_APP)
    email = _channel(rows, workflow.category, Channel.EMAIL)
    digest = DigestFrequency.OFF
    if workflow.digestible:
        for row in rows:
            if row is not None and workflow.category.value in row.digests:
                digest = DigestFrequency(row.digests[workflow.category.value])
                break
    return Choice(
        in_app=Channel.IN_APP in workflow.channels
        if in_app is None
        else in_app and Channel.IN_APP in workflow.channels,
        email=Channel.EMAIL in workflow.channels
        if email is None
        else email and Channel.EMAIL in workflow.channels,
        digest=digest,
        language=language,
        quiet=_quiet(rows),
    )


@dataclass(frozen=True)
class CategorySetting:
    category: Category
    in_app: bool
    email: bool
    digest: DigestFrequency | None
    """None: the category cannot be digested."""
    critical: bool


@dataclass(frozen=True)
class Preferences:
    """A person's effective preferences (or a tenant's defaults), every category listed."""

    language: str
    categories: list[CategorySetting]
    quiet: QuietWindow | None
    email_tracking: bool


def tracking_of(rows: list[NotificationPreference | None]) -> bool:
    """Open and click tracking in mail: on unless the person (or their tenant) turned it off."""
    return next(
        (row.email_tracking for row in rows if row is not None and row.email_tracking is not None), True
    )


def effective(rows: list[NotificationPreference | None], default_language: str) -> Preferences:
    categories = []
    for category in Category:
        critical = category is Category.SECURITY
        channels = default_channels(category)
        in_app = _channel(rows, category, Channel.IN_APP)
        email = _channel(rows, category, Channel.EMAIL)
        digest: DigestFrequency | None = None
        if category in DIGESTIBLE:
            found = next(
                (row.digests[category.value] for row in rows if row and category.value in row.digests), None
            )
            digest = DigestFrequency(found) if found else DigestFrequency.OFF
        categories.append(
            CategorySetting(
                category=category,
                in_app=critical or (Channel.IN_APP in channels if in_app is None else in_app),
                email=critical or (Channel.EMAIL in channels if email is None else email),
                digest=digest,
                critical=critical,
            )
        )
    return Preferences(language_of(rows, default_language), categories, _quiet(rows), tracking_of(rows))


async def my_preferences(context: RequestContext) -> Preferences:
    tenant_id, user_id = signed_in_user(context.principal)
    async with context.runtime.db.read() as session:
        stored = await PreferenceRepository(session, tenant_id).of([user_id])
    default = context.runtime.config.notifications_default_language
    return effective([stored.get(user_id), stored.get(TENANT_DEFAULTS)], default)


async def tenant_defaults(context: RequestContext) -> Preferences:
    tenant_id = tenant_of(context.principal)
    async with context.runtime.db.read() as session:
        stored = await PreferenceRepository(session, tenant_id).of([])
    return effective([stored.get(TENANT_DEFAULTS)], context.runtime.config.notifications_default_language)


@dataclass(frozen=True)
class CategoryChange:
    category: Category
    in_app: bool | None = None
    email: bool | None = None
    digest: DigestFrequency | None = None


@dataclass(frozen=True)
class PreferencesChange:
    language: str | None = None
    categories: tuple[CategoryChange, ...] = ()
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str | None = None
    clear_quiet: bool = False
    email_tracking: bool | None = None


def _minutes(value: str, field: str) -> int:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise BadUserInput("A time of day such as 22:00", field=field) from None
    return parsed.hour * 60 + parsed.minute


def apply_change(row: NotificationPreference, change: PreferencesChange) -> None:
    """Validates the whole change before touching the row (BAD_USER_INPUT changes nothing)."""
    if change.language is not None and change.language not in LANGUAGES:
        raise BadUserInput(f"language is one of {', '.join(LANGUAGES)}", field="language")
    channels: dict[str, dict[str, bool]] = {key: dict(value) for key, value in row.channels.items()}
    digests = dict(row.digests)
    for item in change.categories:
        if item.category is Category.SECURITY and (item.in_app is False or item.email is False):
            raise BadUserInput("Security notifications cannot be turned off", field="categories")
        if item.digest is not None:
            if item.category not in DIGESTIBLE:
                raise BadUserInput(f"{item.category.name} notifications are not digested", field="categories")
            digests[item.category.value] = item.digest.value
        for channel, value in ((Channel.IN_APP, item.in_app), (Channel.EMAIL, item.email)):
            if value is not None:
                channels.setdefault(item.category.value, {})[channel.value] = value
    quiet_start, quiet_end, timezone = row.quiet_start, row.quiet_end, row.timezone
    if change.clear_quiet:
        quiet_start = quiet_end = None
    elif change.quiet_start is not None or change.quiet_end is not None:
        if change.quiet_start is None or change.quiet_end is None:
            raise BadUserInput("A quiet window needs a start and an end", field="quietHours")
        quiet_start, quiet_end = (
            _minutes(change.quiet_start, "quietHours.start"),
            _minutes(change.quiet_end, "quietHours.end"),
        )
    if change.timezone is not None:
        try:
            ZoneInfo(change.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadUserInput(
                "An IANA time zone such as Europe/Paris", field="quietHours.timezone"
            ) from None
        timezone = change.timezone
    if change.language is not None:
        row.language = change.language
    if change.email_tracking is not None:
        row.email_tracking = change.email_tracking
    row.channels, row.digests = channels, digests
    row.quiet_start, row.quiet_end, row.timezone = quiet_start, quiet_end, timezone
    row.updated_at = utcnow()


async def update_mine(
    uow: UnitOfWork, principal: Principal, change: PreferencesChange, default_language: str
) -> Preferences:
    tenant_id, user_id = signed_in_user(principal)
    repository = PreferenceRepository(uow.session, tenant_id)
    row = await repository.get_or_new(user_id)
    apply_change(row, change)
    uow.target_id = user_id
    stored = await repository.of([user_id])
    return effective([row, stored.get(TENANT_DEFAULTS)], default_language)


async def update_tenant_defaults(
    uow: UnitOfWork, principal: Principal, change: PreferencesChange, default_language: str
) -> Preferences:
    tenant_id = tenant_of(principal)
    row = await PreferenceRepository(uow.session, tenant_id).get_or_new(TENANT_DEFAULTS)
    apply_change(row, change)
    uow.target_id = tenant_id
    return effective([row], default_language)


def stored_for(
    stored: Mapping[str, NotificationPreference], user_id: str
) -> tuple[NotificationPreference | None, NotificationPreference | None]:
    return stored.get(user_id), stored.get(TENANT_DEFAULTS)
