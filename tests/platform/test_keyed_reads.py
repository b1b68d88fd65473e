"""Keyed reads off the ORM (`shared/db/keyed.py`) answer exactly what the ORM answers, on
SQLite and PostgreSQL: the same rows with the same Python values (UTC datetimes, JSON,
booleans), scoped to the tenant, without soft-deleted rows, and counted as statements."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.migrate import upgrade
from shared.db import Database, utcnow
from subgraphs.accounts.models import User
from subgraphs.accounts.repository import UserRepository
from subgraphs.collaboration.models import Project, WorkspaceMember
from subgraphs.collaboration.repository import MemberRepository, ProjectRepository
from tests.support.counting import count_statements


async def _rows(database: Database) -> None:
    async with database.write() as session:
        for tenant in ("tnt_a", "tnt_b"):
            for n in range(3):
                session.add(
                    User(
                        id=f"usr_{tenant}_{n}",
                        tenant_id=tenant,
                        email=f"{n}@{tenant}.example",
                        password_hash="x",
                        display_name=f"User {n}",
                        role="owner" if n == 0 else "member",
                        consents="terms,data_processing",
                    )
                )
        session.add(
            Project(
                id="prj_1",
                tenant_id="tnt_a",
                workspace_id="wks_1",
                type="playlist_draft",
                title="Draft",
                content={"description": "é", "trackIds": ["t1", "t2"], "nested": {"n": 1}},
                created_by="usr_tnt_a_0",
            )
        )
        session.add(
            WorkspaceMember(
                id="wsm_1", tenant_id="tnt_a", workspace_id="wks_1", user_id="usr_tnt_a_1", role="editor"
            )
        )


def _values(row: object) -> dict[str, object]:
    return {name: getattr(row, name) for name in type(row).model_fields}  # type: ignore[attr-defined]


@pytest.fixture
async def rows(database: Database) -> Database:
    await asyncio.to_thread(upgrade, database.url)
    await _rows(database)
    return database


async def test_keyed_reads_answer_what_the_orm_answers(rows):
    database = rows
    ids = ["usr_tnt_a_0", "usr_tnt_a_2", "usr_tnt_b_1", "usr_missing"]
    async with database.read() as session:
        expected = await UserRepository(session, "tnt_a").get_many(ids)
        expected_project = await ProjectRepository(session, "tnt_a").get_many(["prj_1"])
        expected_member = await MemberRepository(session, "tnt_a").of_user("usr_tnt_a_1", ["wks_1", "wks_2"])

    with count_statements(database) as counter:
        found = await UserRepository.load_many(database, "tnt_a", ids)
    assert counter.count == 1
    assert sorted(found) == ["usr_tnt_a_0", "usr_tnt_a_2"]  # the other tenant's row is not there
    assert {id: _values(row) for id, row in found.items()} == {
        id: _values(row) for id, row in expected.items()
    }
    created = found["usr_tnt_a_0"].created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert abs(created - utcnow()) < timedelta(minutes=5)
    assert found["usr_tnt_a_0"].consent_set == frozenset({"terms", "data_processing"})

    project = await ProjectRepository.load_many(database, "tnt_a", ["prj_1"])
    assert _values(project["prj_1"]) == _values(expected_project["prj_1"])
    assert project["prj_1"].content["nested"] == {"n": 1}
    members = await MemberRepository.load_of_user(database, "tnt_a", "usr_tnt_a_1", ["wks_1", "wks_2"])
    assert {k: _values(v) for k, v in members.items()} == {k: _values(v) for k, v in expected_member.items()}
    assert await MemberRepository.load_of_user(database, "tnt_b", "usr_tnt_a_1", ["wks_1"]) == {}


async def test_soft_deleted_rows_are_not_read_and_writes_are_seen_at_once(rows):
    database = rows
    async with database.write() as session:
        await UserRepository(session, "tnt_a").set_deleted("usr_tnt_a_2", "usr_tnt_a_0", utcnow())
    assert sorted(await UserRepository.load_many(database, "tnt_a", ["usr_tnt_a_1", "usr_tnt_a_2"])) == [
        "usr_tnt_a_1"
    ]
    assert await UserRepository.load_many(database, "tnt_a", []) == {}
    with pytest.raises(ValueError):
        await database.keyed.fetch(User, "", values=["usr_tnt_a_1"])


async def test_keyed_pages_answer_what_the_orm_answers(rows):
    database = rows
    async with database.write() as session:
        for n in range(5):
            session.add(
                WorkspaceMember(
                    id=f"wsm_p{n}",
                    tenant_id="tnt_a",
                    workspace_id=f"wks_p{n}",
                    user_id="usr_tnt_a_0",
                    role="viewer",
                )
            )
        session.add(
            WorkspaceMember(
                id="wsm_b", tenant_id="tnt_b", workspace_id="wks_p9", user_id="usr_tnt_a_0", role="owner"
            )
        )
    pages = [(None, 2), ("wks_p1", 2), ("wks_p3", 10)]
    async with database.read() as session:
        expected = [
            await MemberRepository(session, "tnt_a").page_where(
                "workspace_id", limit, after, user_id="usr_tnt_a_0"
            )
            for after, limit in pages
        ]
    with count_statements(database) as counter:
        found = [
            await MemberRepository.load_page(
                database, "tnt_a", order="workspace_id", limit=limit, after=after, user_id="usr_tnt_a_0"
            )
            for after, limit in pages
        ]
    assert counter.count == 3
    assert [[row.workspace_id for row in page] for page in found] == [
        ["wks_p0", "wks_p1"],
        ["wks_p2", "wks_p3"],
        ["wks_p4"],
    ]
    assert [[_values(row) for row in page] for page in found] == [
        [_values(row) for row in page] for page in expected
    ]
