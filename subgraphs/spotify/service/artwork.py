"""Cover art for playlists and press kits for artists: storage assets referred to by id.
The router joins `Asset` from the storage subgraph; nothing is copied here."""

from __future__ import annotations

import re

from shared.auth.principal import Principal, acting_user
from shared.context import RequestContext
from shared.errors import BadUserInput
from shared.mutations import UnitOfWork
from subgraphs.spotify.loaders import cover_art_loader, press_kit_loader
from subgraphs.spotify.repository import (
    CoverArtRepository,
    PressKitRepository,
)

ASSET_ID = re.compile(r"^ast_[0-9a-f]{12,40}$")
MAX_PRESS_KIT = 20


def check_asset_id(asset_id: str, field: str) -> str:
    if not ASSET_ID.match(asset_id):
        raise BadUserInput("Not an asset id", field=field, id=asset_id)
    return asset_id


async def cover_art(context: RequestContext, playlist_id: str) -> str | None:
    asset_id: str | None = await cover_art_loader(context).load(playlist_id)
    return asset_id


async def press_kit(context: RequestContext, artist_id: str) -> list[str]:
    asset_ids: list[str] = await press_kit_loader(context).load(artist_id)
    return asset_ids


async def set_cover_art(
    uow: UnitOfWork, principal: Principal, playlist_id: str, asset_id: str | None
) -> None:
    tenant_id, actor = acting_user(principal)
    uow.target_id = playlist_id
    await CoverArtRepository(uow.session, tenant_id).choose(playlist_id, asset_id, set_by=actor)


async def set_press_kit(uow: UnitOfWork, principal: Principal, artist_id: str, asset_ids: list[str]) -> None:
    tenant_id, _ = acting_user(principal)
    uow.target_id = artist_id
    if len(asset_ids) > MAX_PRESS_KIT:
        raise BadUserInput(f"A press kit holds at most {MAX_PRESS_KIT} assets", field="assetIds")
    if len(set(asset_ids)) != len(asset_ids):
        raise BadUserInput("An asset appears twice", field="assetIds")
    await PressKitRepository(uow.session, tenant_id).replace(artist_id, asset_ids)
