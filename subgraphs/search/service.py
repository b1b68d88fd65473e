"""The rules of search: who is asking (the access filter), what they may ask (limits, filters
they are entitled to), and pages that stay put while the index changes. No GraphQL here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
from dataclasses import dataclass, field, replace

from shared.auth.principal import signed_in_user
from shared.context import RequestContext
from shared.domain_events import emit, transaction
from shared.embeddings import model_version
from shared.errors import BadUserInput, Forbidden
from subgraphs.search.backends.base import (
    DEFAULT_SEMANTIC_RATIO,
    DocumentType,
    Facet,
    Filters,
    Fusion,
    Hit,
    Mode,
    Reader,
    SearchPage,
    SearchRequest,
    Suggestion,
)
from subgraphs.search.config import SearchServices, SearchSettings
from subgraphs.search.domain_events import QuerySampled
from subgraphs.search.insights import KEPT_DAYS, Insights
from subgraphs.search.repository import MembershipRepository

MAX_SUGGESTIONS = 20
MAX_INSIGHTS = 100

SearchContext = RequestContext[SearchSettings, SearchServices]


@dataclass(frozen=True)
class SearchSpec:
    """What the caller asked for, as parsed from the API."""

    query: str
    types: tuple[DocumentType, ...] = ()
    filters: Filters = field(default_factory=Filters)
    facets: tuple[Facet, ...] = ()
    mode: Mode = Mode.HYBRID
    semantic_ratio: float | None = None
    fusion: Fusion = Fusion.WEIGHTED
    first: int = 20
    after: str | None = None


@dataclass(frozen=True)
class SearchAnswer:
    page: SearchPage
    hits: list[Hit]
    offset: int
    """Position of the first hit in the whole result list."""
    has_next: bool
    fingerprint: str


async def reader_of(context: SearchContext) -> Reader:
    """The caller and the workspaces they are a member of (one keyed read)."""
    tenant_id, user_id = signed_in_user(context.principal)
    workspaces = await MembershipRepository.workspaces_of(context.runtime.db, tenant_id, user_id)
    return Reader(user_id=user_id, tenant_id=tenant_id, workspace_ids=tuple(workspaces))


def _fingerprint(spec: SearchSpec) -> str:
    asked = [
        spec.query.strip(),
        sorted(spec.types),
        repr(spec.filters),
        spec.mode.value,
        spec.semantic_ratio,
        spec.fusion.value,
    ]
    return hashlib.sha256(json.dumps(asked, default=str).encode()).hexdigest()[:16]


def encode_search_cursor(offset: int, key: str, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "k": key, "f": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        offset, key, made_for = int(data["o"]), str(data["k"]), str(data["f"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise BadUserInput("Invalid cursor", field="after") from error
    if made_for != fingerprint or offset < 0:
        raise BadUserInput("This cursor belongs to another search", field="after")
    return offset, key


def _checked(spec: SearchSpec, settings: SearchSettings, reader: Reader) -> None:
    if len(spec.query) > settings.search_max_query_length:
        limit = settings.search_max_query_length
        raise BadUserInput(f"query must have at most {limit} characters", field="query")
    if not 1 <= spec.first <= settings.search_max_page:
        raise BadUserInput(f"first must be between 1 and {settings.search_max_page}", field="first")
    if spec.semantic_ratio is not None and not 0.0 <= spec.semantic_ratio <= 1.0:
        raise BadUserInput("semanticRatio must be between 0 and 1", field="semanticRatio")
    if spec.semantic_ratio is not None and spec.fusion is Fusion.RANK:
        raise BadUserInput(
            "semanticRatio weighs WEIGHTED fusion; RANK fusion has none", field="semanticRatio"
        )
    filters = spec.filters
    if filters.year_from is not None and filters.year_to is not None and filters.year_from > filters.year_to:
        raise BadUserInput("the year range ends before it starts", field="filters.yearTo")
    foreign = sorted(set(filters.workspace_ids) - set(reader.workspace_ids))
    if foreign:
        raise Forbidden("You are not a member of a workspace in the filter", workspaceIds=foreign)


async def search(context: SearchContext, spec: SearchSpec) -> SearchAnswer:
    settings = context.runtime.config
    reader = await reader_of(context)
    _checked(spec, settings, reader)
    fingerprint = _fingerprint(spec)
    offset, after_key = _decode_cursor(spec.after, fingerprint) if spec.after else (0, None)
    if offset + spec.first > settings.search_max_depth:
        raise BadUserInput(
            f"results past the first {settings.search_max_depth} are not served", field="after"
        )
    filters = replace(spec.filters, types=spec.types or spec.filters.types)
    services = context.runtime.services
    semantic = spec.mode is not Mode.KEYWORD and bool(spec.query.strip())
    vector = await services.query_vectors.vector_of(spec.query) if semantic else None
    request = SearchRequest(
        query=spec.query,
        reader=reader,
        filters=filters,
        facets=spec.facets,
        mode=spec.mode,
        semantic_ratio=None
        if spec.fusion is Fusion.RANK
        else (DEFAULT_SEMANTIC_RATIO if spec.semantic_ratio is None else spec.semantic_ratio),
        vector=vector,
        limit=offset + spec.first + 1,
        offset=0,
    )
    page = await services.backend.search(request)
    if spec.after is None:  # a search, not its next page
        await services.insights.record(reader.tenant_id, spec.query, page.total)
        if vector is not None and random.random() < settings.search_query_sample_rate:
            await _sample_query(context, reader.tenant_id, vector)
    if page.keyword_only:
        off = not services.query_vectors.enabled
        reason = "semantic search is switched off" if off else "the embedding model is still loading"
        context.extensions["search"] = {"keywordFallback": True, "reason": reason}
    start = offset
    if after_key is not None:
        # Continue right after the last hit the caller saw, wherever it is now.
        keys = [hit.key for hit in page.hits]
        start = keys.index(after_key) + 1 if after_key in keys else offset
    window = page.hits[start : start + spec.first + 1]
    return SearchAnswer(
        page=page,
        hits=window[: spec.first],
        offset=start,
        has_next=len(window) > spec.first,
        fingerprint=fingerprint,
    )


async def _sample_query(context: SearchContext, tenant_id: str, vector: list[float]) -> None:
    """A query's vector for the platform's drift checks (rounded: 4 decimals are plenty)."""
    runtime = context.runtime
    async with transaction(runtime.db, runtime.redis) as session:
        emit(
            session,
            QuerySampled(
                tenant_id=tenant_id, model_version=model_version(), vector=[round(x, 4) for x in vector]
            ),
        )


async def insights(context: SearchContext, days: int, first: int) -> Insights:
    """The caller's tenant's searches over the last `days` (tenant admins: the policy)."""
    tenant_id, _ = signed_in_user(context.principal)
    if not 1 <= days <= KEPT_DAYS:
        raise BadUserInput(f"days must be between 1 and {KEPT_DAYS}", field="days")
    if not 1 <= first <= MAX_INSIGHTS:
        raise BadUserInput(f"first must be between 1 and {MAX_INSIGHTS}", field="first")
    return await context.runtime.services.insights.read(tenant_id, days, first)


async def suggest(
    context: SearchContext, prefix: str, types: tuple[DocumentType, ...], first: int
) -> list[Suggestion]:
    settings = context.runtime.config
    reader = await reader_of(context)
    if len(prefix) > settings.search_max_query_length:
        raise BadUserInput(
            f"prefix must have at most {settings.search_max_query_length} characters", field="prefix"
        )
    if not 1 <= first <= MAX_SUGGESTIONS:
        raise BadUserInput(f"first must be between 1 and {MAX_SUGGESTIONS}", field="first")
    return await context.runtime.services.backend.suggest(prefix, reader, types, first)
