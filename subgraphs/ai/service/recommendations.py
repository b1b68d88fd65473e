"""Recommendations and their explanations: check the request, build the seed from what the
caller may read (their history only with the `personalization` consent), ask the production
model, and record what was served with its model version."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from shared.auth.principal import acting_user
from shared.context import RequestContext
from shared.db import new_id
from shared.errors import BadUserInput, NotFound
from subgraphs.ai.config import AiServices, AiSettings
from subgraphs.ai.models import AiRecommendationLog
from subgraphs.ai.recommender import engine, seeds
from subgraphs.ai.recommender.model import RecommenderModel
from subgraphs.ai.repository import (
    ConsentRepository,
    PlaylistRepository,
    PlayRepository,
    ProjectRepository,
    RecommendationLogRepository,
)

AiContext = RequestContext[AiSettings, AiServices]
MAX_EXCLUDED = 500
NON_PERSONAL_NOTE = "Not personalised: without your personalization consent your listening is not used; "
TEAM_GENRES = "these are popular in your team's genres."
PLATFORM_WIDE = "these are popular on the platform (your team has no listening yet)."
PERSONALIZATION = "personalization"


class SeedKind(StrEnum):
    USER = "user"
    PLAYLIST = "playlist"
    TRACK = "track"
    ARTIST = "artist"
    PROJECT = "project"


@dataclass(frozen=True)
class SeedRequest:
    kind: SeedKind
    id: str | None = None


@dataclass(frozen=True)
class Options:
    first: int
    diversity: float
    exclude: tuple[str, ...] = ()
    exclude_known: bool = True


@dataclass(frozen=True)
class RecommendationList:
    id: str | None
    """The lineage record of this list (None when recording is off)."""
    items: list[engine.Recommended]
    model_version: str
    personalized: bool
    seed: SeedRequest


def _check(settings: AiSettings, seed: SeedRequest, options: Options) -> None:
    if not 1 <= options.first <= settings.ai_max_recommendations:
        raise BadUserInput(f"first must be 1 to {settings.ai_max_recommendations}", field="first")
    if not 0.0 <= options.diversity <= 1.0:
        raise BadUserInput("diversity must be between 0 and 1", field="diversity")
    if len(options.exclude) > MAX_EXCLUDED:
        raise BadUserInput(f"exclude takes at most {MAX_EXCLUDED} ids", field="exclude")
    if seed.kind is SeedKind.USER and seed.id is not None:
        raise BadUserInput("a USER seed is the signed-in user: give no id", field="seed.id")
    if seed.kind is not SeedKind.USER and not seed.id:
        raise BadUserInput(f"a {seed.kind.name} seed needs an id", field="seed.id")


async def _personalized(context: AiContext, tenant_id: str, user_id: str) -> bool:
    """What accounts last announced; before its first word, the token's consent claim."""
    async with context.runtime.db.read() as session:
        said = await ConsentRepository(session, tenant_id).personalization(user_id)
    return said if said is not None else PERSONALIZATION in context.principal.consents


async def _seed(
    context: AiContext, model: RecommenderModel, seed: SeedRequest, options: Options
) -> engine.Seed:
    tenant_id, user_id = acting_user(context.principal)
    settings = context.runtime.config
    exclude = options.exclude
    async with context.runtime.db.read() as session:
        if seed.kind is SeedKind.USER:
            if not await _personalized(context, tenant_id, user_id):
                tenant_tracks = await PlayRepository(session, tenant_id).others_latest(
                    user_id, settings.ai_tenant_genre_plays
                )
                return _non_personal(model, tenant_tracks, exclude)
            plays = await PlayRepository(session, tenant_id).of_user(user_id, settings.ai_history_plays)
            playlists = await PlaylistRepository(session).of_owner(tenant_id, user_id)
            return seeds.history_seed(
                model,
                [(track, int(at.timestamp())) for track, at in plays],
                [track for playlist in playlists for track in playlist],
                exclude_known=options.exclude_known,
                exclude=exclude,
            )
        if seed.id is None:
            raise BadUserInput(f"a {seed.kind.name} seed needs an id", field="seed.id")
        if seed.kind is SeedKind.PLAYLIST:
            playlist = await PlaylistRepository(session).readable(seed.id, tenant_id, user_id)
            if playlist is None:
                raise NotFound("No playlist you can read has this id", id=seed.id)
            return seeds.tracks_seed(
                model, playlist.track_ids, exclude_known=options.exclude_known, exclude=exclude
            )
        if seed.kind is SeedKind.PROJECT:
            project = await ProjectRepository(session, tenant_id).readable(seed.id, user_id)
            if project is None:
                raise NotFound("No project of a workspace you are a member of has this id", id=seed.id)
            return seeds.tracks_seed(
                model, project.track_ids, exclude_known=options.exclude_known, exclude=exclude
            )
    if seed.kind is SeedKind.TRACK:
        if seed.id not in model.index:
            raise NotFound("Unknown track", id=seed.id)
        return seeds.tracks_seed(model, [seed.id], exclude_known=True, exclude=exclude)
    if seed.id not in model.tracks_of_artist:
        raise NotFound("Unknown artist", id=seed.id)
    return seeds.artist_seed(model, seed.id, exclude=exclude)


def _non_personal(model: RecommenderModel, tenant_tracks: list[str], exclude: tuple[str, ...]) -> engine.Seed:
    genres: Counter[str] = Counter()
    for track in tenant_tracks:
        position = model.index.get(track)
        if position is not None:
            genres.update(model.tracks[position].genres)
    empty = seeds.tracks_seed(model, [], exclude=exclude)
    return engine.Seed(
        tracks=empty.tracks,
        weights=empty.weights,
        exclude=empty.exclude,
        genres=dict(genres),
        personalized=False,
        non_personal_note=NON_PERSONAL_NOTE + (TEAM_GENRES if genres else PLATFORM_WIDE),
    )


async def recommendations(context: AiContext, seed: SeedRequest, options: Options) -> RecommendationList:
    settings = context.runtime.config
    _check(settings, seed, options)
    model = await context.runtime.services.models.recommender()
    built = await _seed(context, model, seed, options)
    items = engine.recommend(
        model,
        built,
        first=options.first,
        diversity=options.diversity,
        max_per_artist=settings.ai_max_tracks_per_artist,
    )
    personal = seed.kind is SeedKind.USER and built.personalized
    log_id = await _record(context, seed, model, personal, items) if settings.ai_log_recommendations else None
    return RecommendationList(log_id, items, model.version, personal, seed)


async def explanation(
    context: AiContext, track_id: str, seed: SeedRequest, options: Options
) -> tuple[engine.Recommended, str, bool]:
    """(why `track_id` for this seed, the model version, whether the seed was personal)."""
    settings = context.runtime.config
    _check(settings, seed, options)
    model = await context.runtime.services.models.recommender()
    position = model.index.get(track_id)
    if position is None:
        raise NotFound("Unknown track", id=track_id)
    built = await _seed(context, model, seed, options)
    explained = engine.explain(
        model,
        built,
        position,
        first=options.first,
        diversity=options.diversity,
        max_per_artist=settings.ai_max_tracks_per_artist,
    )
    return explained, model.version, seed.kind is SeedKind.USER and built.personalized


async def _record(
    context: AiContext,
    seed: SeedRequest,
    model: RecommenderModel,
    personal: bool,
    items: list[engine.Recommended],
) -> str:
    tenant_id, user_id = acting_user(context.principal)
    row = AiRecommendationLog(
        id=new_id("rec"),
        tenant_id=tenant_id,
        user_id=user_id,
        seed_kind=seed.kind.value,
        seed_id=seed.id,
        model_version=model.version,
        personalized=personal,
        track_ids=[item.track_id for item in items],
    )
    async with context.runtime.db.write() as session:
        RecommendationLogRepository(session, tenant_id).add(row)
    return row.id


async def served(context: AiContext, log_id: str) -> AiRecommendationLog:
    """A list served in the caller's tenant: what it held and which model made it."""
    tenant_id, _ = acting_user(context.principal)
    async with context.runtime.db.read() as session:
        row = await RecommendationLogRepository(session, tenant_id).get(log_id)
    if row is None:
        raise NotFound("No recommendation list of your tenant has this id", id=log_id)
    return row
