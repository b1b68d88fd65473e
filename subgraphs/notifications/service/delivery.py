"""From a domain event to notifications: the projections the event updates (people, workspaces,
projects, followers, threads), then, for each workflow of its type, who it concerns, what each
of them chose (in-app, e-mail, a digest, a quiet window) and the rows that follow: a
notification, a digest entry, an e-mail to send. All in the consumer's transaction, so a
redelivered event makes nothing twice (the rows are unique per event, recipient and kind).
After the commit the recipients' live streams hear of it and the e-mails are queued."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import new_id, utcnow
from shared.domain_events import DomainEvent, after_commit, consumer_context
from shared.jobs import settings_of
from subgraphs.notifications import rendering
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.repository import (
    DigestRepository,
    EmailRepository,
    NotificationRepository,
    PeopleRepository,
    PreferenceRepository,
)
from subgraphs.notifications.service import live
from subgraphs.notifications.service.preferences import Choice, DigestFrequency, choose, stored_for
from subgraphs.notifications.workflows import BY_EVENT, Audience, Workflow

EXCERPT_LENGTH = 140
QUEUE_BATCH = 100


@dataclass
class Occurrence:
    """What one event says, for the templates and the inbox."""

    params: dict[str, Any]
    link: str
    """A path of the web app (`/workspaces/...`): made absolute where it is shown."""
    subjects: list[dict[str, str]] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    """User ids, for the audiences that are not computed from projections."""
    address: str | None = None
    """An invitee's address (no account yet)."""
    sealed_code: str | None = None
    """An invitation's code, still sealed: opened only to write the mail's accept link."""


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1].rstrip() + "…"


async def _name(people: PeopleRepository, user_id: str | None) -> str:
    person = await people.person(user_id) if user_id else None
    return person.display_name if person is not None and person.display_name else "Someone"


async def project(people: PeopleRepository, event: DomainEvent) -> None:
    """Keeps the projections this subgraph reads to address notifications."""
    payload, kind = event.payload, event.type
    if kind == "accounts.user.signed_up":
        await people.put_person(
            payload["user_id"], display_name=payload["display_name"], role=payload["role"]
        )
    elif kind == "accounts.member.added":
        await people.put_person(payload["user_id"], role=payload["role"])
    elif kind == "accounts.member.role_changed":
        await people.put_person(payload["user_id"], role=payload["role"])
    elif kind == "accounts.member.removed":
        await people.deactivate(payload["user_id"])
    elif kind == "collaboration.workspace.created":
        await people.put_workspace(payload["workspace_id"], payload["name"], payload["owner_id"])
    elif kind in ("collaboration.project.created", "collaboration.project.changed"):
        await people.put_project(payload["project_id"], payload["workspace_id"], payload["title"])
        if event.actor_id:
            await people.follow(payload["project_id"], event.actor_id)
    elif kind == "collaboration.comment.added":
        await people.follow(payload["project_id"], payload["author_id"])


async def occurrence(people: PeopleRepository, workflow: Workflow, event: DomainEvent) -> Occurrence | None:
    """The event read for one workflow; None when it concerns nobody (a sign-up's own session)."""
    payload, kind = event.payload, workflow.kind
    if kind in ("comment_mention", "comment_reply"):
        project_row = await people.project(payload["project_id"])
        return Occurrence(
            params={
                "actor_name": await _name(people, payload["author_id"]),
                "project_title": project_row.title if project_row else "a project",
                "excerpt": _excerpt(payload["body"]),
            },
            link=f"/workspaces/{payload['workspace_id']}/projects/{payload['project_id']}?comment={payload['comment_id']}",
            subjects=[
                {"type": "Project", "id": payload["project_id"]},
                {"type": "Workspace", "id": payload["workspace_id"]},
            ],
        )
    if kind == "workspace_invitation":
        if not payload.get("email"):
            return None
        workspace = await people.workspace(payload["workspace_id"])
        return Occurrence(
            params={
                "actor_name": await _name(people, payload["invited_by"]),
                "workspace_name": workspace.name if workspace else "a workspace",
                "role": payload["role"],
                "expires_at": payload["expires_at"],
            },
            link=f"/invitations/{payload['invitation_id']}",
            subjects=[{"type": "Workspace", "id": payload["workspace_id"]}],
            address=payload["email"],
            sealed_code=payload.get("sealed_code"),
        )
    if kind in ("workspace_member_joined", "workspace_member_left", "workspace_role_changed"):
        workspace = await people.workspace(payload["workspace_id"])
        params: dict[str, Any] = {"workspace_name": workspace.name if workspace else "a workspace"}
        if kind == "workspace_role_changed":
            params |= {
                "actor_name": await _name(people, event.actor_id),
                "role": payload["role"],
                "previous_role": payload["previous_role"],
            }
        else:
            params["member_name"] = await _name(people, payload["user_id"])
            if kind == "workspace_member_joined":
                params["role"] = payload["role"]
        return Occurrence(
            params=params,
            link=f"/workspaces/{payload['workspace_id']}",
            subjects=[{"type": "Workspace", "id": payload["workspace_id"]}],
            recipients=[payload["user_id"]] if kind == "workspace_role_changed" else [],
        )
    if kind == "tenant_role_changed":
        return Occurrence(
            params={
                "actor_name": await _name(people, event.actor_id),
                "role": payload["role"],
                "previous_role": payload["previous_role"],
            },
            link="/settings/team",
            recipients=[payload["user_id"]],
        )
    if kind == "project_changed":
        return Occurrence(
            params={
                "actor_name": await _name(people, event.actor_id),
                "project_title": payload["title"],
                "version": payload["version"],
            },
            link=f"/workspaces/{payload['workspace_id']}/projects/{payload['project_id']}",
            subjects=[{"type": "Project", "id": payload["project_id"]}],
        )
    if kind == "library_sync_completed":
        return Occurrence(
            params={"playlists": payload["playlists"], "new_plays": payload["new_plays"]},
            link="/library",
            recipients=[payload["user_id"]],
        )
    if kind == "library_sync_failed":
        return Occurrence(
            params={"reason": payload["reason"]}, link="/library", recipients=[payload["user_id"]]
        )
    if kind in ("report_ready", "report_failed"):
        params = {"artist_name": payload.get("artist_name") or payload["artist_id"]}
        params |= {"format": payload["format"]} if kind == "report_ready" else {"reason": payload["reason"]}
        assets = payload.get("asset_ids") or []
        return Occurrence(
            params=params,
            link=f"/analytics/reports/{payload['report_id']}",
            subjects=[
                {"type": "Artist", "id": payload["artist_id"]},
                *({"type": "Asset", "id": a} for a in assets[:1]),
            ],
            recipients=[payload["requested_by"]],
        )
    if kind == "generation_finished":
        return Occurrence(
            params={"generation_kind": payload["kind"], "succeeded": payload["status"] == "succeeded"},
            link=f"/ai/generations/{payload['generation_id']}",
            recipients=[payload["user_id"]],
        )
    if kind == "model_drift":
        return Occurrence(
            params={
                "model_name": payload["name"],
                "version": payload["version"],
                "signal": payload["signal"],
                "level": payload["level"],
                "psi": payload["psi"],
            },
            link=f"/ai/models/{payload['name']}/{payload['version']}",
        )
    if kind == "new_sign_in":
        if payload["method"] != "log_in":
            return None
        return Occurrence(
            params={"method": payload["method"]}, link="/settings/security", recipients=[payload["user_id"]]
        )
    if kind == "api_key_created":
        return Occurrence(
            params={"key_name": payload["name"], "scopes": ", ".join(payload["scopes"]) or "-"},
            link="/settings/api-keys",
            recipients=[payload["user_id"]],
        )
    if kind == "password_changed":
        return Occurrence(
            params={"revoked_sessions": payload["revoked_sessions"]},
            link="/settings/security",
            recipients=[payload["user_id"]],
        )
    if kind in ("consent_changed", "consent_withdrawn"):
        if payload.get("at_sign_up"):
            return None
        return Occurrence(
            params={"consent": payload["consent"], "granted": kind == "consent_changed"},
            link="/settings/privacy",
            recipients=[payload["user_id"]],
        )
    raise KeyError(kind)


async def recipients(
    people: PeopleRepository,
    workflow: Workflow,
    event: DomainEvent,
    found: Occurrence,
    platform_admin_tenants: Sequence[str],
) -> list[tuple[str, str]]:
    """(tenant, user id) of everyone the workflow addresses; the actor is left out, except of
    their own security notifications."""
    payload, audience = event.payload, workflow.audience
    tenant_id = people.tenant_id
    if audience is Audience.MENTIONED:
        users = list(payload["mentions"])
    elif audience is Audience.THREAD:
        users = [
            user
            for user in await people.thread_participants(payload["thread_id"])
            if user not in payload["mentions"]
        ]
    elif audience is Audience.WORKSPACE_OWNER:
        workspace = await people.workspace(payload["workspace_id"])
        users = (
            [workspace.owner_id] if workspace is not None and workspace.owner_id != payload["user_id"] else []
        )
    elif audience is Audience.PROJECT_FOLLOWERS:
        users = await people.followers(payload["project_id"])
    elif audience is Audience.PLATFORM_ADMINS:
        admins = await people.admins_of(platform_admin_tenants)
        return sorted({(admin.tenant_id, admin.user_id) for admin in admins})
    else:
        users = found.recipients
    if not workflow.critical:
        users = [user for user in users if user != event.actor_id]
    known = await people.people(users)
    # Someone removed from the tenant hears nothing more; someone not projected yet (their
    # sign-up event not consumed) is still addressed.
    return [(tenant_id, user) for user in dict.fromkeys(users) if user not in known or known[user].active]


def idempotency_key(source_key: str, recipient: str, kind: str) -> str:
    return hashlib.sha256(f"{source_key}|{recipient}|{kind}".encode()).hexdigest()[:40]


def window_of(frequency: DigestFrequency, at: datetime) -> tuple[datetime, datetime]:
    if frequency is DigestFrequency.HOURLY:
        start = at.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    start = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass
class Planned:
    """What one event made, for after the commit."""

    notifications: list[tuple[str, str, str]] = field(default_factory=list)
    """(tenant, recipient, notification id)."""
    emails: list[tuple[str, int, datetime | None]] = field(default_factory=list)
    """(e-mail id, attempts so far, not before)."""


async def notify(
    session: AsyncSession,
    tenant_id: str,
    workflow: Workflow,
    event: DomainEvent,
    found: Occurrence,
    addressed: Sequence[tuple[str, str]],
    settings: NotificationsSettings,
    planned: Planned,
) -> None:
    now = utcnow()
    by_tenant: dict[str, list[str]] = {}
    for recipient_tenant, user in addressed:
        by_tenant.setdefault(recipient_tenant, []).append(user)
    for recipient_tenant, users in by_tenant.items():
        people = PeopleRepository(session, recipient_tenant)
        known = await people.people(users)
        stored = await PreferenceRepository(session, recipient_tenant).of(users)
        notifications, held, emails = [], [], []
        for user in users:
            choice = choose(workflow, *stored_for(stored, user), settings.notifications_default_language)
            name = known[user].display_name if user in known else None
            if workflow.digestible and choice.digest is not DigestFrequency.OFF:
                start, end = window_of(choice.digest, now)
                held.append(_digest_entry(recipient_tenant, user, workflow, event, found, start, end))
                continue
            notification_id = new_id("ntf")
            if choice.in_app:
                notifications.append(
                    _notification(
                        notification_id, recipient_tenant, user, workflow, event, found, choice, name
                    )
                )
            if choice.email:
                emails.append(
                    _email(
                        recipient_tenant,
                        user,
                        None,
                        notification_id if choice.in_app else None,
                        workflow,
                        event.id,
                        found,
                        choice,
                        now,
                    )
                )
        notifications_repository = NotificationRepository(session, recipient_tenant)
        if await notifications_repository.add_new(notifications):
            made = {row.id for row in await notifications_repository.made_from(event.id)}
            planned.notifications += [
                (recipient_tenant, row["recipient_id"], row["id"])
                for row in notifications
                if row["id"] in made
            ]
        await DigestRepository(session).hold(held)
        if emails and await EmailRepository(session, recipient_tenant).add_new(emails):
            planned.emails += [(row["id"], 0, row["not_before"]) for row in emails]
    if found.address is not None:
        email = _email(tenant_id, None, found.address, None, workflow, event.id, found, None, now)
        if await EmailRepository(session, tenant_id).add_new([email]):
            planned.emails.append((email["id"], 0, None))


def _notification(
    notification_id: str,
    tenant_id: str,
    user: str,
    workflow: Workflow,
    event: DomainEvent,
    found: Occurrence,
    choice: Choice,
    name: str | None,
) -> dict[str, Any]:
    title, body = rendering.render_in_app(workflow.kind, choice.language, found.params, recipient_name=name)
    return {
        "id": notification_id,
        "tenant_id": tenant_id,
        "recipient_id": user,
        "kind": workflow.kind,
        "category": workflow.category.value,
        "source_key": event.id,
        "actor_id": event.actor_id,
        "subjects": found.subjects,
        "params": found.params,
        "language": choice.language,
        "title": title[:300],
        "body": body[:2000],
        "link": found.link,
        "critical": workflow.critical,
        "created_at": utcnow(),
    }


def _digest_entry(
    tenant_id: str,
    user: str,
    workflow: Workflow,
    event: DomainEvent,
    found: Occurrence,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    return {
        "id": new_id("dge"),
        "tenant_id": tenant_id,
        "recipient_id": user,
        "category": workflow.category.value,
        "kind": workflow.kind,
        "source_key": event.id,
        "window_key": f"{tenant_id}|{user}|{workflow.category.value}|{start.isoformat()}",
        "due_at": end,
        "actor_id": event.actor_id,
        "subjects": found.subjects,
        "params": found.params,
        "link": found.link,
        "created_at": utcnow(),
    }


def _email(
    tenant_id: str,
    user: str | None,
    address: str | None,
    notification_id: str | None,
    workflow: Workflow,
    source_key: str,
    found: Occurrence,
    choice: Choice | None,
    now: datetime,
) -> dict[str, Any]:
    recipient = user or f"address:{hashlib.sha256((address or '').lower().encode()).hexdigest()}"
    key = idempotency_key(source_key, recipient, workflow.kind)
    quiet_until = choice.quiet.ends_after(now) if choice is not None and choice.quiet is not None else None
    return {
        "id": new_id("eml"),
        "idempotency_key": key,
        "tenant_id": tenant_id,
        "notification_id": notification_id,
        "recipient_id": user,
        "invitee_address": address,
        "kind": workflow.kind,
        "category": workflow.category.value,
        "status": "QUEUED",
        "attempts": 0,
        "message_id": f"<{key}@spotify-agent.local>",
        "params": found.params | ({"sealed_code": found.sealed_code} if found.sealed_code else {}),
        "link": found.link,
        "not_before": quiet_until,
        "created_at": now,
    }


async def on_event(session: AsyncSession, event: DomainEvent) -> None:
    """The consumer: every workflow of the event's type, then the projections it updates."""
    workflows = BY_EVENT.get(event.type, [])
    if not event.tenant_id and not any(w.audience is Audience.PLATFORM_ADMINS for w in workflows):
        return
    context = consumer_context(session)
    settings = settings_of(dict(context), "notifications", NotificationsSettings)
    platform = context.get("settings")
    admin_tenants = sorted(platform.platform_admin_tenant_ids) if platform is not None else []
    people = PeopleRepository(session, event.tenant_id or "")
    planned = Planned()
    for workflow in workflows:
        found = await occurrence(people, workflow, event)
        if found is None:
            continue
        addressed = await recipients(people, workflow, event, found, admin_tenants)
        await notify(session, people.tenant_id, workflow, event, found, addressed, settings, planned)
    if event.tenant_id:
        await project(people, event)
        if event.type == "collaboration.comment.added":
            await people.join_thread(event.payload["thread_id"], event.payload["author_id"])
    redis = context.get("platform_redis")
    if redis is not None and planned.notifications:
        after_commit(session, lambda: live.announce(redis, planned.notifications))
    queue = context.get("redis")
    if queue is not None and planned.emails:
        after_commit(session, lambda: queue_emails(queue, planned.emails))


async def queue_emails(queue: Any, emails: Sequence[tuple[str, int, datetime | None]]) -> None:
    """One job per try of each mail (the job id names the try: queuing it twice queues it once),
    queued concurrently: a fan-out to 1,000 people is 1,000 jobs."""
    for start in range(0, len(emails), QUEUE_BATCH):
        await asyncio.gather(
            *(
                queue.enqueue_job(
                    "send_email",
                    email_id,
                    _job_id=f"send_email:{email_id}:{attempts}",
                    _defer_until=not_before,
                )
                for email_id, attempts, not_before in emails[start : start + QUEUE_BATCH]
            )
        )
