"""GraphQL types of search: results whose nodes are entity references (the router joins the
full object from its owning subgraph; nothing is copied here), facets, and the enums."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared.context import RequestContext
from shared.pagination import PageInfo
from shared.references import Album, Artist, Playlist, Project, Track
from shared.schema import described
from subgraphs.search.backends.base import DocumentType, Facet, Fusion, Hit, Mode, Suggestion
from subgraphs.search.config import SearchServices, SearchSettings
from subgraphs.search.insights import Insights

SearchInfo = Info[RequestContext[SearchSettings, SearchServices], None]


@strawberry.enum(description="What kind of thing a hit is.")
class SearchType(Enum):
    TRACK = described(DocumentType.TRACK.value, "A Spotify track.")
    ARTIST = described(DocumentType.ARTIST.value, "A Spotify artist.")
    ALBUM = described(DocumentType.ALBUM.value, "A Spotify album.")
    PLAYLIST = described(DocumentType.PLAYLIST.value, "A Spotify playlist, or one made on the platform.")
    PROJECT = described(DocumentType.PROJECT.value, "A project of a workspace you are a member of.")


@strawberry.enum(description="How the query is matched.")
class SearchMode(Enum):
    KEYWORD = described(
        Mode.KEYWORD.value, "By words (BM25), tolerating typos (1 from 5 letters, 2 from 9) and prefixes."
    )
    SEMANTIC = described(Mode.SEMANTIC.value, "By meaning: cosine similarity of MiniLM sentence embeddings.")
    HYBRID = described(
        Mode.HYBRID.value,
        "Both, merged as `fusion` says (default: scores weighted by `semanticRatio`, 0.5).",
    )


@strawberry.enum(description="How a HYBRID search merges its keyword and semantic rankings.")
class SearchFusion(Enum):
    WEIGHTED = described(
        Fusion.WEIGHTED.value,
        "Keyword score (normalised to the best hit) and cosine similarity, weighted by `semanticRatio`, "
        "as Meilisearch does.",
    )
    RANK = described(Fusion.RANK.value, "Reciprocal rank fusion (k=60): positions only, not scores.")


@strawberry.enum(description="A dimension to count the whole match set by.")
class SearchFacet(Enum):
    GENRE = described(Facet.GENRE.value, "Genres (an artist's; a track's and album's come from its artists).")
    YEAR = described(Facet.YEAR.value, "Release decade: `1990`, `2000`, ...")
    EXPLICIT = described(Facet.EXPLICIT.value, "`true` or `false`.")
    POPULARITY = described(
        Facet.POPULARITY.value, "Spotify popularity band: `0-24`, `25-49`, `50-74`, `75-100`."
    )
    ARTIST = described(Facet.ARTIST.value, "Artist ids.")
    TYPE = described(Facet.TYPE.value, "The kind of hit (`track`, `artist`, ...).")
    WORKSPACE = described(Facet.WORKSPACE.value, "Workspace ids of project hits.")


@strawberry.input(description="Narrows a search; every given condition must hold.")
class SearchFilter:
    artist_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Hits by (or that are) one of these Spotify artists."
    )
    genres: list[str] | None = strawberry.field(default=None, description="Hits in one of these genres.")
    year_from: int | None = strawberry.field(default=None, description="Released in or after this year.")
    year_to: int | None = strawberry.field(
        default=None, description="Released in or before this year (not before `yearFrom`: BAD_USER_INPUT)."
    )
    explicit: bool | None = strawberry.field(
        default=None, description="Only explicit, or only clean, tracks."
    )
    workspace_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Projects of these workspaces (you must be a member of each: FORBIDDEN)."
    )


SearchNode = Annotated[
    Track | Artist | Album | Playlist | Project,
    strawberry.union("SearchNode", description="What a hit is: the owning subgraph resolves its fields."),
]
_NODES: dict[DocumentType, type] = {
    DocumentType.TRACK: Track,
    DocumentType.ARTIST: Artist,
    DocumentType.ALBUM: Album,
    DocumentType.PLAYLIST: Playlist,
    DocumentType.PROJECT: Project,
}


def node_of(kind: DocumentType, entity_id: str) -> Track | Artist | Album | Playlist | Project:
    node: Track | Artist | Album | Playlist | Project = _NODES[kind](id=strawberry.ID(entity_id))
    return node


@strawberry.type(description="The words of one field that matched, marked.")
class SearchHighlight:
    field: str = strawberry.field(
        description="The field: `name`, `artists`, `album`, `genres` or `description`."
    )
    snippet: str = strawberry.field(description="Its text with each matched word between `<em>` and `</em>`.")


@strawberry.type(description="One result: what it is, how well and how it matched.")
class SearchHit:
    score: float = strawberry.field(
        description="Relevance (BM25, cosine or fused rank): comparable within one search only."
    )
    matched_by: list[SearchMode] = strawberry.field(description="KEYWORD, SEMANTIC, or both.")
    highlights: list[SearchHighlight] = strawberry.field(
        description="Matched words per field (keyword matches)."
    )
    node: SearchNode = strawberry.field(description="The thing found, joined from its owning subgraph.")

    @classmethod
    def of(cls, hit: Hit) -> SearchHit:
        return cls(
            score=hit.score,
            matched_by=[SearchMode(mode.value) for mode in hit.matched_by],
            highlights=[SearchHighlight(field=field, snippet=text) for field, text in hit.highlights.items()],
            node=node_of(hit.type, hit.entity_id),
        )


@strawberry.type(description="A hit with its cursor.")
class SearchEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this hit, to pass as `after`.")
    node: SearchHit = strawberry.field(description="The hit.")


@strawberry.type(description="How many matches have one value of a facet.")
class FacetValue:
    value: str = strawberry.field(description="The value (a genre, a decade, an artist id, ...).")
    count: int = strawberry.field(description="Matches with it, over the whole match set you may see.")


@strawberry.type(description="The counts of one facet.")
class FacetCounts:
    facet: SearchFacet = strawberry.field(description="Which facet.")
    values: list[FacetValue] = strawberry.field(description="Its values, most frequent first (at most 50).")


@strawberry.type(description="A page of search results, with counts over everything that matched.")
class SearchResults:
    edges: list[SearchEdge] = strawberry.field(description="The hits of this page, best first.")
    page_info: PageInfo = strawberry.field(
        description="Whether more hits follow, and the cursor to fetch them."
    )
    total_count: int = strawberry.field(description="How many documents matched (that you may see).")
    total_count_exact: bool = strawberry.field(
        description="True when `totalCount` is exact; false when the backend estimated it."
    )
    semantic_hit_count: int = strawberry.field(description="How many hits were found by meaning.")
    keyword_fallback: bool = strawberry.field(
        description="True when a SEMANTIC or HYBRID search was answered by keyword only (the embedding "
        "model is not loaded yet); the same flag is in the response's `extensions.search`."
    )
    facets: list[FacetCounts] = strawberry.field(description="The asked facets' counts.")


@strawberry.type(description="A completion for a search box.")
class SearchSuggestion:
    text: str = strawberry.field(description="The completed name.")
    type: SearchType = strawberry.field(description="What it names.")
    node: SearchNode = strawberry.field(description="The thing it names, joined from its owning subgraph.")

    @classmethod
    def of(cls, suggestion: Suggestion) -> SearchSuggestion:
        return cls(
            text=suggestion.text,
            type=SearchType(suggestion.type.value),
            node=node_of(suggestion.type, suggestion.entity_id),
        )


@strawberry.type(description="A query and how often it was searched.")
class QueryCount:
    query: str = strawberry.field(
        description="The query, lowercased, spaces collapsed, first 100 characters."
    )
    count: int = strawberry.field(description="How many searches (first pages) asked it.")


@strawberry.type(description="What your tenant searched for: to tune the catalogue and spot what is missing.")
class SearchInsights:
    days: int = strawberry.field(description="The window, in days up to today (UTC).")
    searches: int = strawberry.field(description="Searches made (first pages only).")
    zero_result_searches: int = strawberry.field(description="Searches that found nothing.")
    popular_queries: list[QueryCount] = strawberry.field(description="The most asked queries, most first.")
    zero_result_queries: list[QueryCount] = strawberry.field(
        description="The most asked queries that found nothing, most first."
    )

    @classmethod
    def of(cls, insights: Insights) -> SearchInsights:
        return cls(
            days=insights.days,
            searches=insights.searches,
            zero_result_searches=insights.zero_result_searches,
            popular_queries=[QueryCount(query=item.query, count=item.count) for item in insights.popular],
            zero_result_queries=[
                QueryCount(query=item.query, count=item.count) for item in insights.zero_result
            ],
        )
