"""Rules of the spotify domain that write: listening history and the library sync."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.db import new_id, utcnow
from shared.domain_events import emit
from subgraphs.spotify import domain_events as de
from subgraphs.spotify.library import Play
from subgraphs.spotify.models import LibraryPlaylist, StreamEvent


async def ingest_plays(
    session: AsyncSession, tenant_id: str, user_id: str, plays: Sequence[Play], country: str | None = None
) -> int:
    """Stores plays; ones already stored (same user, track, played_at) are skipped.
    Returns how many were new."""
    if not plays:
        return 0
    rows = [
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "track_id": p.track_id,
            "played_at": p.played_at,
            "country": country,
        }
        for p in plays
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(StreamEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "track_id", "played_at"])
    )
    result = await session.execute(stmt)
    new = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if new:
        played = [{"track_id": p.track_id, "played_at": p.played_at.isoformat()} for p in plays]
        emit(
            session,
            de.PlaysIngested(tenant_id=tenant_id, user_id=user_id, country=country, new=new, plays=played),
        )
    return new


async def upsert_library_playlist(
    session: AsyncSession, tenant_id: str, user_id: str, playlist: dict[str, Any], track_count: int
) -> LibraryPlaylist:
    stmt = select(LibraryPlaylist).where(
        col(LibraryPlaylist.tenant_id) == tenant_id,
        col(LibraryPlaylist.user_id) == user_id,
        col(LibraryPlaylist.spotify_playlist_id) == playlist["id"],
    )
    row = (await session.execute(stmt)).scalar_one_or_none() or LibraryPlaylist(
        id=new_id("lpl"), tenant_id=tenant_id, user_id=user_id, spotify_playlist_id=playlist["id"], name=""
    )
    row.name = playlist["name"]
    row.snapshot_id = playlist.get("snapshot_id")
    row.track_count = track_count
    row.updated_at = utcnow()
    session.add(row)
    emit(
        session,
        de.LibraryPlaylistUpserted(
            tenant_id=tenant_id,
            library_playlist_id=row.id,
            spotify_playlist_id=row.spotify_playlist_id,
            user_id=user_id,
            name=row.name,
            snapshot_id=row.snapshot_id,
            track_count=track_count,
        ),
    )
    return row
