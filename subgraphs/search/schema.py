"""Query of the search subgraph: thin, the rules are in service.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.config import Settings
from shared.pagination import PageInfo
from shared.schema import PlatformSchema, build_schema
from subgraphs.search import service
from subgraphs.search.backends.base import DocumentType, Facet, Filters, Fusion, Mode
from subgraphs.search.types import (
    Album,
    Artist,
    FacetCounts,
    FacetValue,
    Playlist,
    Project,
    SearchEdge,
    SearchFacet,
    SearchFilter,
    SearchFusion,
    SearchHit,
    SearchInfo,
    SearchInsights,
    SearchMode,
    SearchResults,
    SearchSuggestion,
    SearchType,
    Track,
)


def _types(types: list[SearchType] | None) -> tuple[DocumentType, ...]:
    return tuple(DocumentType(kind.value) for kind in types or ())


def _filters(given: SearchFilter | None) -> Filters:
    if given is None:
        return Filters()
    return Filters(
        artist_ids=tuple(str(id) for id in given.artist_ids or ()),
        genres=tuple(given.genres or ()),
        year_from=given.year_from,
        year_to=given.year_to,
        explicit=given.explicit,
        workspace_ids=tuple(str(id) for id in given.workspace_ids or ()),
    )


def _results(answer: service.SearchAnswer) -> SearchResults:
    edges = [
        SearchEdge(
            cursor=service.encode_search_cursor(answer.offset + index + 1, hit.key, answer.fingerprint),
            node=SearchHit.of(hit),
        )
        for index, hit in enumerate(answer.hits)
    ]
    page = answer.page
    return SearchResults(
        edges=edges,
        page_info=PageInfo(has_next_page=answer.has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total,
        total_count_exact=page.total_exact,
        semantic_hit_count=sum(1 for hit in answer.hits if Mode.SEMANTIC in hit.matched_by),
        keyword_fallback=page.keyword_only,
        facets=[
            FacetCounts(
                facet=SearchFacet(facet.value),
                values=[FacetValue(value=count.value, count=count.count) for count in counts],
            )
            for facet, counts in page.facets.items()
        ],
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Tracks, artists, albums and playlists of the catalogue, your tenant's platform "
        "playlists and your workspaces' projects, by words, typos or meaning. You find only what you "
        "may read; counts and facets count only that."
    )
    async def search(
        self,
        info: SearchInfo,
        query: Annotated[str, strawberry.argument(description="The words, at most 512 characters.")],
        types: Annotated[
            list[SearchType] | None, strawberry.argument(description="Only these kinds (default: all).")
        ] = None,
        filters: Annotated[
            SearchFilter | None, strawberry.argument(description="Conditions hits must meet.")
        ] = None,
        facets: Annotated[
            list[SearchFacet] | None,
            strawberry.argument(description="Facets to count over the whole match set."),
        ] = None,
        mode: Annotated[SearchMode, strawberry.argument(description="How to match.")] = SearchMode.HYBRID,
        semantic_ratio: Annotated[
            float | None,
            strawberry.argument(
                description="HYBRID with WEIGHTED fusion: weight of meaning against words, 0 to 1 "
                "(default 0.5)."
            ),
        ] = None,
        fusion: Annotated[
            SearchFusion, strawberry.argument(description="HYBRID: how the two rankings are merged.")
        ] = SearchFusion.WEIGHTED,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 50.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the previous page.")
        ] = None,
    ) -> SearchResults:
        spec = service.SearchSpec(
            query=query,
            types=_types(types),
            filters=_filters(filters),
            facets=tuple(Facet(facet.value) for facet in facets or ()),
            mode=Mode(mode.value),
            semantic_ratio=semantic_ratio,
            fusion=Fusion(fusion.value),
            first=first,
            after=after,
        )
        answer = await service.search(info.context, spec)
        return _results(answer)

    @strawberry.field(
        description="Completions for a search box as you type: names that start with (or nearly "
        "match) the prefix, most popular first."
    )
    async def suggest(
        self,
        info: SearchInfo,
        prefix: Annotated[str, strawberry.argument(description="What has been typed so far.")],
        types: Annotated[
            list[SearchType] | None, strawberry.argument(description="Only these kinds (default: all).")
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 20.")] = 8,
    ) -> list[SearchSuggestion]:
        found = await service.suggest(info.context, prefix, _types(types), first)
        return [SearchSuggestion.of(suggestion) for suggestion in found]

    @strawberry.field(description="Your tenant's popular and zero-result queries (tenant admins and owners).")
    async def search_insights(
        self,
        info: SearchInfo,
        days: Annotated[int, strawberry.argument(description="Days up to today, 1 to 35.")] = 7,
        first: Annotated[int, strawberry.argument(description="Queries per list, 1 to 100.")] = 10,
    ) -> SearchInsights:
        return SearchInsights.of(await service.insights(info.context, days, first))


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(settings, query=Query, types=[Track, Artist, Album, Playlist, Project])
