"""Cover art for playlists and press kits for artists: storage assets referred to by id.
The router joins `Asset` from the storage subgraph; nothing is copied here."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import strawberry
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from strawberry.dataloader import DataLoader

from shared.auth.principal import Principal
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput
from shared.schema import reference_only
from subgraphs.spotify.models import ArtistPressKitItem, PlaylistCoverArt

ASSET_ID = re.compile(r"^ast_[0-9a-f]{12,40}$")
MAX_PRESS_KIT = 20


@strawberry.federation.type(
    keys=reference_only(), description="A stored file of the storage subgraph, joined by the router."
)
class Asset:
    id: strawberry.ID = strawberry.field(description="Storage asset id (opaque).")


def check_asset_id(asset_id: str, field: str) -> str:
    if not ASSET_ID.match(asset_id):
        raise BadUserInput("Not an asset id", field=field, id=asset_id)
    return asset_id


def _cover_art_loader(context: RequestContext) -> DataLoader[str, str | None]:
    async def load(playlist_ids: Sequence[str]) -> list[str | None]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [None] * len(playlist_ids)
        stmt = select(PlaylistCoverArt).where(
            PlaylistCoverArt.tenant_id == tenant_id, col(PlaylistCoverArt.playlist_id).in_(playlist_ids)
        )
        rows = (await (await context.session()).execute(stmt)).scalars()
        found = {row.playlist_id: row.asset_id for row in rows}
        return [found.get(id) for id in playlist_ids]

    return DataLoader(load_fn=load)


def _press_kit_loader(context: RequestContext) -> DataLoader[str, list[str]]:
    async def load(artist_ids: Sequence[str]) -> list[list[str]]:
        tenant_id = context.principal.tenant_id
        if not tenant_id:
            return [[] for _ in artist_ids]
        stmt = (
            select(ArtistPressKitItem)
            .where(
                ArtistPressKitItem.tenant_id == tenant_id, col(ArtistPressKitItem.artist_id).in_(artist_ids)
            )
            .order_by(col(ArtistPressKitItem.artist_id), col(ArtistPressKitItem.rank))
        )
        found: dict[str, list[str]] = defaultdict(list)
        for row in (await (await context.session()).execute(stmt)).scalars():
            found[row.artist_id].append(row.asset_id)
        return [found.get(id, []) for id in artist_ids]

    return DataLoader(load_fn=load)


async def cover_art(context: RequestContext, playlist_id: str) -> Asset | None:
    asset_id = await context.loader("spotify.cover_art", _cover_art_loader).load(playlist_id)
    return Asset(id=strawberry.ID(asset_id)) if asset_id else None


async def press_kit(context: RequestContext, artist_id: str) -> list[Asset]:
    asset_ids = await context.loader("spotify.press_kit", _press_kit_loader).load(artist_id)
    return [Asset(id=strawberry.ID(id)) for id in asset_ids]


async def set_cover_art(
    session: AsyncSession, principal: Principal, playlist_id: str, asset_id: str | None
) -> None:
    tenant_id, user_id = principal.tenant_id, principal.user_id or principal.api_key_id
    assert tenant_id and user_id
    existing = await session.get(PlaylistCoverArt, (tenant_id, playlist_id))
    if asset_id is None:
        if existing is not None:
            await session.delete(existing)
    elif existing is None:
        session.add(
            PlaylistCoverArt(tenant_id=tenant_id, playlist_id=playlist_id, asset_id=asset_id, set_by=user_id)
        )
    else:
        existing.asset_id, existing.set_by, existing.updated_at = asset_id, user_id, utcnow()
        session.add(existing)
    await session.flush()


async def set_press_kit(
    session: AsyncSession, principal: Principal, artist_id: str, asset_ids: list[str]
) -> None:
    tenant_id = principal.tenant_id
    assert tenant_id
    if len(asset_ids) > MAX_PRESS_KIT:
        raise BadUserInput(f"A press kit holds at most {MAX_PRESS_KIT} assets", field="assetIds")
    if len(set(asset_ids)) != len(asset_ids):
        raise BadUserInput("An asset appears twice", field="assetIds")
    await session.execute(
        delete(ArtistPressKitItem).where(
            col(ArtistPressKitItem.tenant_id) == tenant_id, col(ArtistPressKitItem.artist_id) == artist_id
        )
    )
    session.add_all(
        ArtistPressKitItem(tenant_id=tenant_id, artist_id=artist_id, rank=rank, asset_id=asset_id)
        for rank, asset_id in enumerate(asset_ids)
    )
    await session.flush()
