"""From domain events to notifications, through the consumer's handler: who each workflow
reaches, what their preferences change, digests, critical mail, and idempotency (an event
delivered twice makes nothing twice)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from shared.config import Settings
from shared.db import Database, utcnow
from shared.domain_events import DomainEvent
from subgraphs.notifications.config import NotificationsSettings
from subgraphs.notifications.models import (
    Notification,
    NotificationDigestEntry,
    NotificationEmail,
    NotificationPreference,
)
from subgraphs.notifications.service.delivery import on_event
from subgraphs.notifications.workflows import BY_EVENT, LANGUAGES, WORKFLOWS
from tests.support.domain_events import apply, event

TENANT = "tnt_label"
OPS = "tnt_ops"


def _context(settings: Settings) -> dict[str, Any]:
    return {
        "settings": settings.model_copy(update={"platform_admin_tenants": OPS}),
        "subgraph_settings": {"notifications": NotificationsSettings()},
    }


async def _feed(database: Database, settings: Settings, *events: DomainEvent) -> None:
    for one in events:
        await apply(database, on_event, one, _context(settings))


def _person(
    user_id: str, name: str, role: str = "member", tenant: str = TENANT, number: int = 0
) -> DomainEvent:
    return event(
        "accounts.user.signed_up",
        {"user_id": user_id, "display_name": name, "role": role, "consents": ["terms", "data_processing"]},
        tenant,
        number,
    )


def _actor(one: DomainEvent, actor_id: str) -> DomainEvent:
    return DomainEvent(one.id, one.type, one.version, one.tenant_id, one.occurred_at, one.payload, actor_id)


def _comment(
    author: str, mentions: list[str], thread: str = "thr_1", number: int = 0, body: str = "Nice mix"
) -> DomainEvent:
    payload = {
        "workspace_id": "wsp_1",
        "project_id": "prj_1",
        "comment_id": f"cmt_{number}",
        "thread_id": thread,
        "author_id": author,
        "body": body,
        "mentions": mentions,
    }
    return _actor(event("collaboration.comment.added", payload, TENANT, number), author)


async def _setting_up(database: Database, settings: Settings) -> None:
    await _feed(
        database,
        settings,
        _person("usr_ann", "Ann", "owner", number=1),
        _person("usr_bob", "Bob", number=2),
        _person("usr_cid", "Cid", number=3),
        event(
            "collaboration.workspace.created",
            {"workspace_id": "wsp_1", "name": "Summer", "owner_id": "usr_ann"},
            TENANT,
        ),
        _actor(
            event(
                "collaboration.project.created",
                {
                    "workspace_id": "wsp_1",
                    "project_id": "prj_1",
                    "version": 1,
                    "type": "PLAYLIST_DRAFT",
                    "title": "Road trip",
                    "content": {},
                },
                TENANT,
            ),
            "usr_ann",
        ),
    )


async def _rows(database: Database, model: Any, **equals: Any) -> list[Any]:
    async with database.read() as session:
        stmt = select(model).where(*(getattr(model, key) == value for key, value in equals.items()))
        return list((await session.execute(stmt)).scalars())


def test_every_workflow_is_declared_once_with_its_event_and_templates():
    kinds = [workflow.kind for workflow in WORKFLOWS]
    assert len(kinds) == len(set(kinds))
    assert {workflow.event for workflow in WORKFLOWS} == set(BY_EVENT)
    for workflow in WORKFLOWS:
        assert workflow.critical is False or workflow.digestible is False, workflow.kind
    assert LANGUAGES == ("en", "fr", "de")


async def test_a_mention_reaches_the_mentioned_not_the_author_once_even_if_delivered_twice(
    database, settings
):
    await _setting_up(database, settings)
    mention = _comment("usr_ann", ["usr_bob", "usr_ann"], body="@Bob   listen to\n this <one>")
    await _feed(database, settings, mention, mention)
    made = await _rows(database, Notification, recipient_id="usr_bob")
    assert [(row.kind, row.category, row.actor_id) for row in made] == [
        ("comment_mention", "mentions", "usr_ann")
    ]
    assert "Ann" in made[0].title and "Road trip" in made[0].title
    assert made[0].params["excerpt"] == "@Bob listen to this <one>"
    assert made[0].link == "/workspaces/wsp_1/projects/prj_1?comment=cmt_0"
    assert {tuple(subject.values()) for subject in made[0].subjects} == {
        ("Project", "prj_1"),
        ("Workspace", "wsp_1"),
    }
    assert await _rows(database, Notification, recipient_id="usr_ann") == []
    emails = await _rows(database, NotificationEmail, recipient_id="usr_bob")
    assert [(row.kind, row.status, row.notification_id) for row in emails] == [
        ("comment_mention", "QUEUED", made[0].id)
    ]
    assert emails[0].message_id == f"<{emails[0].idempotency_key}@spotify-agent.local>"


async def test_a_reply_reaches_the_earlier_authors_of_the_thread_but_not_twice_if_mentioned(
    database, settings
):
    await _setting_up(database, settings)
    await _feed(database, settings, _comment("usr_bob", [], number=1), _comment("usr_cid", [], number=2))
    await _feed(database, settings, _comment("usr_ann", ["usr_bob"], number=3))
    kinds = {(row.recipient_id, row.kind) for row in await _rows(database, Notification)}
    assert ("usr_bob", "comment_reply") in kinds  # Cid's reply to Bob's thread
    assert ("usr_cid", "comment_reply") in kinds  # Ann's reply
    assert ("usr_bob", "comment_mention") in kinds
    replies_to_bob = [
        r
        for r in await _rows(database, Notification, recipient_id="usr_bob")
        if r.source_key == "evt_collaboration.comment.added_3"
    ]
    assert [row.kind for row in replies_to_bob] == ["comment_mention"]


async def test_preferences_turn_channels_off_and_language_changes_the_words(database, settings):
    await _setting_up(database, settings)
    async with database.write() as session:
        session.add(
            NotificationPreference(
                tenant_id=TENANT, user_id="usr_bob", language="fr", channels={"mentions": {"email": False}}
            )
        )
        session.add(
            NotificationPreference(
                tenant_id=TENANT, user_id="usr_cid", channels={"mentions": {"in_app": False}}
            )
        )
    await _feed(database, settings, _comment("usr_ann", ["usr_bob", "usr_cid"]))
    bob = await _rows(database, Notification, recipient_id="usr_bob")
    assert bob[0].language == "fr" and bob[0].title != "" and "mentioned" not in bob[0].title
    assert await _rows(database, NotificationEmail, recipient_id="usr_bob") == []
    assert await _rows(database, Notification, recipient_id="usr_cid") == []
    cid_mail = await _rows(database, NotificationEmail, recipient_id="usr_cid")
    assert [(row.notification_id, row.params["project_title"]) for row in cid_mail] == [(None, "Road trip")]


async def test_security_notifications_ignore_preferences_and_reach_the_actor_themself(database, settings):
    await _setting_up(database, settings)
    async with database.write() as session:
        session.add(
            NotificationPreference(
                tenant_id=TENANT, user_id="usr_bob", channels={"security": {"email": False, "in_app": False}}
            )
        )
    sign_in = _actor(
        event(
            "accounts.session.started",
            {"user_id": "usr_bob", "session_id": "ses_1", "method": "log_in"},
            TENANT,
        ),
        "usr_bob",
    )
    sign_up = _actor(
        event(
            "accounts.session.started",
            {"user_id": "usr_cid", "session_id": "ses_2", "method": "sign_up"},
            TENANT,
            1,
        ),
        "usr_cid",
    )
    await _feed(database, settings, sign_in, sign_up)
    made = await _rows(database, Notification, recipient_id="usr_bob")
    assert [(row.kind, row.critical) for row in made] == [("new_sign_in", True)]
    assert len(await _rows(database, NotificationEmail, recipient_id="usr_bob")) == 1
    assert await _rows(database, Notification, recipient_id="usr_cid") == []  # a sign-up is not a new sign-in


async def test_followed_project_changes_are_held_for_a_digest_when_asked(database, settings):
    await _setting_up(database, settings)
    await _feed(database, settings, _comment("usr_bob", [], number=1))  # Bob follows by commenting
    async with database.write() as session:
        session.add(
            NotificationPreference(tenant_id=TENANT, user_id="usr_bob", digests={"projects": "daily"})
        )
    for number in (10, 11):
        change = event(
            "collaboration.project.changed",
            {
                "workspace_id": "wsp_1",
                "project_id": "prj_1",
                "version": number,
                "type": "PLAYLIST_DRAFT",
                "title": "Road trip",
                "content": {},
            },
            TENANT,
            number,
        )
        await _feed(database, settings, _actor(change, "usr_ann"))
    assert [
        row.kind
        for row in await _rows(database, Notification, recipient_id="usr_bob")
        if row.kind == "project_changed"
    ] == []
    held = await _rows(database, NotificationDigestEntry, recipient_id="usr_bob")
    assert len(held) == 2 and len({row.window_key for row in held}) == 1
    assert held[0].due_at > utcnow() and held[0].due_at <= utcnow() + timedelta(days=1)
    assert (
        await _rows(database, Notification, recipient_id="usr_ann", kind="project_changed") == []
    )  # the actor


async def test_drift_alerts_reach_the_admins_of_platform_tenants_only(database, settings):
    await _setting_up(database, settings)
    await _feed(
        database,
        settings,
        _person("usr_op", "Operator", "admin", tenant=OPS, number=9),
        _person("usr_dev", "Dev", "member", tenant=OPS, number=10),
    )
    drift = event(
        "ai.model.drift_detected",
        {
            "report_id": "drf_1",
            "name": "recommender",
            "version": "v3",
            "signal": "genres",
            "level": "alert",
            "psi": 0.31,
        },
        None,
    )
    await _feed(database, settings, drift)
    made = await _rows(database, Notification, kind="model_drift")
    assert [(row.tenant_id, row.recipient_id) for row in made] == [(OPS, "usr_op")]


async def test_an_invitation_by_email_is_one_mail_to_the_address_and_no_in_app_notification(
    database, settings
):
    await _setting_up(database, settings)
    invitation = {
        "workspace_id": "wsp_1",
        "invitation_id": "inv_1",
        "role": "editor",
        "email": "New.Person@example.com",
        "invited_by": "usr_ann",
        "expires_at": (utcnow() + timedelta(days=7)).isoformat(),
    }
    without_address = {**invitation, "invitation_id": "inv_2", "email": None}
    await _feed(
        database,
        settings,
        _actor(event("collaboration.invitation.created", invitation, TENANT), "usr_ann"),
        _actor(event("collaboration.invitation.created", without_address, TENANT, 1), "usr_ann"),
    )
    mails = await _rows(database, NotificationEmail, kind="workspace_invitation")
    assert [(row.recipient_id, row.invitee_address, row.params["workspace_name"]) for row in mails] == [
        (None, "New.Person@example.com", "Summer")
    ]
    async with database.read() as session:
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 0


async def test_someone_removed_from_the_tenant_hears_nothing_more(database, settings):
    await _setting_up(database, settings)
    await _feed(
        database, settings, event("accounts.member.removed", {"user_id": "usr_bob", "role": "member"}, TENANT)
    )
    await _feed(database, settings, _comment("usr_ann", ["usr_bob"]))
    assert await _rows(database, Notification, recipient_id="usr_bob") == []
    async with database.read() as session:
        count = await session.execute(
            select(func.count()).where(col(NotificationEmail.recipient_id) == "usr_bob")
        )
        assert count.scalar_one() == 0


JOB_EVENTS = [
    (
        "spotify.library_sync.completed",
        {"job_id": "job_1", "user_id": "usr_bob", "playlists": 3, "plays": 50, "new_plays": 7},
        "library_sync_completed",
        False,
    ),
    (
        "spotify.library_sync.failed",
        {"job_id": "job_2", "user_id": "usr_bob", "reason": "expired"},
        "library_sync_failed",
        True,
    ),
    (
        "ai.generation.finished",
        {"generation_id": "gen_1", "user_id": "usr_bob", "kind": "artist_bio", "status": "succeeded"},
        "generation_finished",
        False,
    ),
    (
        "analytics.report.ready",
        {
            "report_id": "rpt_1",
            "artist_id": "art_1",
            "requested_by": "usr_bob",
            "format": "PDF",
            "asset_ids": ["ast_1", "ast_2"],
            "schedule_id": None,
            "artist_name": "Owls",
        },
        "report_ready",
        True,
    ),
    (
        "analytics.report.failed",
        {
            "report_id": "rpt_2",
            "artist_id": "art_1",
            "requested_by": "usr_bob",
            "reason": "StorageUnavailable",
        },
        "report_failed",
        True,
    ),
    (
        "accounts.api_key.created",
        {
            "api_key_id": "key_1",
            "user_id": "usr_bob",
            "name": "ci",
            "scopes": ["spotify:read"],
            "expires_at": None,
        },
        "api_key_created",
        True,
    ),
    (
        "accounts.user.password_changed",
        {"user_id": "usr_bob", "revoked_sessions": 2},
        "password_changed",
        True,
    ),
    (
        "accounts.member.role_changed",
        {"user_id": "usr_bob", "role": "admin", "previous_role": "member"},
        "tenant_role_changed",
        True,
    ),
]


async def test_each_job_and_account_event_reaches_the_person_it_is_about(database, settings):
    await _setting_up(database, settings)
    for number, (kind, payload, _, _) in enumerate(JOB_EVENTS):
        await _feed(database, settings, _actor(event(kind, payload, TENANT, 100 + number), "usr_ann"))
    made = await _rows(database, Notification, recipient_id="usr_bob")
    assert sorted(row.kind for row in made) == sorted(expected for _, _, expected, _ in JOB_EVENTS)
    mailed_kinds = {row.kind for row in await _rows(database, NotificationEmail, recipient_id="usr_bob")}
    assert mailed_kinds == {expected for _, _, expected, mailed in JOB_EVENTS if mailed}
    report = next(row for row in made if row.kind == "report_ready")
    assert {"type": "Asset", "id": "ast_1"} in report.subjects and "Owls" in report.title


async def test_the_owner_hears_of_members_joining_and_leaving_but_not_of_themself(database, settings):
    await _setting_up(database, settings)
    joined = {"workspace_id": "wsp_1", "user_id": "usr_bob", "role": "editor", "invitation_id": "wsv_1"}
    left = {"workspace_id": "wsp_1", "user_id": "usr_bob", "role": "editor"}
    owner_self = {"workspace_id": "wsp_1", "user_id": "usr_ann", "role": "owner", "invitation_id": None}
    await _feed(
        database,
        settings,
        _actor(event("collaboration.member.added", joined, TENANT, 1), "usr_bob"),
        _actor(event("collaboration.member.removed", left, TENANT, 2), "usr_bob"),  # Bob left
        _actor(event("collaboration.member.added", owner_self, TENANT, 3), "usr_ann"),
    )
    made = await _rows(database, Notification, recipient_id="usr_ann")
    assert sorted((row.kind, row.params.get("member_name")) for row in made) == [
        ("workspace_member_joined", "Bob"),
        ("workspace_member_left", "Bob"),
    ]
    assert all("Summer" in row.title for row in made)


async def test_a_quiet_window_holds_the_mail_until_it_ends_but_not_the_in_app_notification(
    database, settings
):
    await _setting_up(database, settings)
    now = utcnow()
    start, end = (now - timedelta(hours=1)), (now + timedelta(hours=2))
    async with database.write() as session:
        session.add(
            NotificationPreference(
                tenant_id=TENANT,
                user_id="usr_bob",
                quiet_start=start.hour * 60 + start.minute,
                quiet_end=end.hour * 60 + end.minute,
                timezone="UTC",
            )
        )
    await _feed(database, settings, _comment("usr_ann", ["usr_bob"]))
    assert len(await _rows(database, Notification, recipient_id="usr_bob")) == 1
    (mail,) = await _rows(database, NotificationEmail, recipient_id="usr_bob")
    assert mail.not_before is not None
    assert abs((mail.not_before - end.replace(second=0, microsecond=0)).total_seconds()) < 1
