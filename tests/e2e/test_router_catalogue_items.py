"""`catalogueItems` through the router, as `spotify-agent search reindex` reads it by default:
the service token travels to spotify, the whole catalogue pages through, users are refused."""

from __future__ import annotations

import httpx
import pytest

from shared.auth.service_tokens import ServiceTokens
from subgraphs.search.backends.base import DocumentType
from subgraphs.search.maintenance import SCOPES, SERVICE, CatalogueSource, SourceError
from tests.support.graphql import sign_up

pytestmark = pytest.mark.e2e


async def test_a_reindex_pages_the_catalogue_through_the_router(platform):
    tokens = ServiceTokens.from_settings(platform.settings)
    source = CatalogueSource(f"{platform.router_url}/graphql", lambda: tokens.headers(SERVICE, SCOPES))
    try:
        totals = {kind: await source.total(kind) for kind in (DocumentType.ARTIST, DocumentType.PLAYLIST)}
        assert totals == {DocumentType.ARTIST: 300, DocumentType.PLAYLIST: 12}
        ids: list[str] = []
        after = None
        while True:
            page = await source.page(DocumentType.ARTIST, after, first=120)
            ids += [item["id"] for item in page.items]
            if not page.has_next:
                break
            after = page.end_cursor
        assert len(ids) == len(set(ids)) == 300
    finally:
        await source.aclose()

    async with httpx.AsyncClient(base_url=platform.router_url, timeout=30) as router:
        account = await sign_up(router)
    as_user = CatalogueSource(
        f"{platform.router_url}/graphql", lambda: {"Authorization": f"Bearer {account['token']}"}
    )
    try:
        with pytest.raises(SourceError, match="FORBIDDEN"):
            await as_user.total(DocumentType.TRACK)
    finally:
        await as_user.aclose()
