"""GraphQL types of ai: recommendations whose tracks are entity references (the router joins
them from spotify), their machine-readable reasons, and the model registry."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from shared.context import RequestContext
from shared.references import Track
from shared.schema import described, described_enum
from subgraphs.ai.config import AiServices, AiSettings
from subgraphs.ai.generation import ContentKind, Language, Tone
from subgraphs.ai.models import AiDriftReport, AiGeneration, AiModel, AiRecommendationLog
from subgraphs.ai.recommender.engine import Contribution, Reason, ReasonKind, Recommended, Source
from subgraphs.ai.service.generation import StreamEvent, Usage
from subgraphs.ai.service.recommendations import SeedKind

AiInfo = Info[RequestContext[AiSettings, AiServices], None]

described_enum(
    SeedKind,
    "What recommendations start from.",
    {
        SeedKind.USER: "You: your listening history and playlists (needs the personalization consent; "
        "without it, what is popular in your team's genres).",
        SeedKind.PLAYLIST: "A playlist to continue: a catalogue playlist, or one of your tenant you may "
        "read.",
        SeedKind.TRACK: "More like this track.",
        SeedKind.ARTIST: "More like this artist (their most popular tracks stand for them).",
        SeedKind.PROJECT: "A workspace project's tracks (a playlist draft or a release plan); members only.",
    },
    name="RecommendationSeedKind",
)
described_enum(
    Source,
    "Where a candidate came from (the sources are fused by reciprocal rank fusion, k = 60).",
    {
        Source.CONTENT: "MiniLM embeddings of each track's title, artists, album, genres and year.",
        Source.COOCCURRENCE: "Tracks appearing together in playlists and listening sessions.",
        Source.COLLABORATIVE: "ALS matrix factorisation of play counts (once enough plays exist).",
        Source.POPULARITY: "Popularity within the seed's genres (the cold-start fallback).",
    },
    name="RecommendationSource",
)
described_enum(
    ReasonKind,
    "Why an item is there, as data.",
    {
        ReasonKind.SIMILAR_TO: "Close to a seed track (`relatedTracks`) by content; `value` is the cosine.",
        ReasonKind.PLAYED_TOGETHER: "Appears with a seed track in playlists and sessions; `value` is "
        "the strength.",
        ReasonKind.LISTENERS_ALIKE: "Listeners whose plays resemble the seed play it (ALS).",
        ReasonKind.POPULAR_IN_GENRE: "Popular within a genre of the seed (`attribute`); `value` is "
        "its popularity.",
        ReasonKind.POPULAR: "Popular on the platform (no genre to go by).",
        ReasonKind.SHARED_GENRE: "Shares a genre with the seed (`attribute`).",
        ReasonKind.SAME_ARTIST: "By an artist of the seed (`attribute`, `relatedTracks`).",
        ReasonKind.SAME_ERA: "From the decade most of the seed is from (`attribute`).",
        ReasonKind.NON_PERSONAL: "Your own data was not used (no personalization consent).",
        ReasonKind.EXCLUDED: "Not recommended: part of the seed or excluded by the request.",
    },
    name="RecommendationReasonKind",
)


@strawberry.input(description="What to recommend from: a kind, and an id for every kind but USER.")
class RecommendationSeed:
    kind: SeedKind = strawberry.field(description="The kind of seed.")
    id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The playlist, track, artist or project id; none for USER (BAD_USER_INPUT otherwise).",
    )


@strawberry.enum(description="What a shared attribute is.")
class AttributeKind(Enum):
    GENRE = described("genre", "A genre (Spotify's artist genres).")
    ARTIST = described("artist", "A Spotify artist id.")
    ERA = described("era", "A decade, e.g. `2010s`.")


@strawberry.type(description="An attribute an item shares with the seed.")
class SharedAttribute:
    kind: AttributeKind = strawberry.field(description="What it is.")
    value: str = strawberry.field(description="Its value: a genre, an artist id, a decade.")


@strawberry.type(description="One reason for an item, built from data (never invented).")
class RecommendationReason:
    kind: ReasonKind = strawberry.field(description="The kind of reason.")
    summary: str = strawberry.field(description="The reason in one English sentence, from the data.")
    source: Source | None = strawberry.field(description="The candidate source behind it, if any.")
    weight: float = strawberry.field(
        description="Share of the item's fused score its source brought (0 to 1; 0 for attributes)."
    )
    value: float | None = strawberry.field(
        description="The measure behind it (a cosine, a strength, a popularity)."
    )
    attribute: SharedAttribute | None = strawberry.field(
        description="The shared attribute, for attribute reasons."
    )
    related_tracks: list[Track] = strawberry.field(description="The seed tracks it relates to.")

    @classmethod
    def of(cls, reason: Reason) -> RecommendationReason:
        attribute = None
        if reason.attribute is not None:
            attribute = SharedAttribute(kind=AttributeKind(reason.attribute[0]), value=reason.attribute[1])
        return cls(
            kind=reason.kind,
            summary=reason.summary,
            source=reason.source,
            weight=round(reason.weight, 4),
            value=reason.value,
            attribute=attribute,
            related_tracks=[Track(id=strawberry.ID(id)) for id in reason.related_track_ids],
        )


@strawberry.type(description="What one source brought to an item.")
class SourceContribution:
    source: Source = strawberry.field(description="The source.")
    rank: int = strawberry.field(description="The item's rank among the source's candidates (1 = best).")
    share: float = strawberry.field(description="Share of the item's fused score (0 to 1).")

    @classmethod
    def of(cls, contribution: Contribution) -> SourceContribution:
        return cls(source=contribution.source, rank=contribution.rank, share=round(contribution.share, 4))


@strawberry.type(description="A recommended track, its score and why.")
class Recommendation:
    track: Track = strawberry.field(description="The track (joined by the router).")
    score: float = strawberry.field(description="Fused score (reciprocal rank fusion of the sources).")
    rank: int | None = strawberry.field(description="Position in the list (1 = first); null when not in it.")
    reasons: list[RecommendationReason] = strawberry.field(description="Why, strongest first.")
    contributions: list[SourceContribution] = strawberry.field(description="Each source's part.")
    model_version: str = strawberry.field(description="The recommender version that made it.")

    @classmethod
    def of(cls, item: Recommended, model_version: str) -> Recommendation:
        return cls(
            track=Track(id=strawberry.ID(item.track_id)),
            score=round(item.score, 6),
            rank=item.rank,
            reasons=[RecommendationReason.of(reason) for reason in item.reasons],
            contributions=[SourceContribution.of(contribution) for contribution in item.contributions],
            model_version=model_version,
        )


@strawberry.type(description="Recommendations for one seed.")
class RecommendationList:
    id: strawberry.ID | None = strawberry.field(
        description="This list's lineage record (`servedRecommendations`); null when recording is off."
    )
    items: list[Recommendation] = strawberry.field(description="Best first, diversified.")
    model_version: str = strawberry.field(description="The recommender version that made them.")
    personalized: bool = strawberry.field(description="Whether your own listening was used.")


@strawberry.type(description="Why a track would (or would not) be recommended for a seed.")
class RecommendationExplanation:
    recommendation: Recommendation = strawberry.field(
        description="The track's score, rank (null: not in the first `first`), reasons and contributions."
    )
    recommended: bool = strawberry.field(description="Whether it is in the recommendations for this seed.")
    personalized: bool = strawberry.field(description="Whether your own listening was used.")


@strawberry.type(description="A list that was served: what it held and which model made it.")
class ServedRecommendations:
    id: strawberry.ID = strawberry.field(description="The lineage record's id.")
    seed_kind: SeedKind = strawberry.field(description="Its seed's kind.")
    seed_id: strawberry.ID | None = strawberry.field(description="Its seed's id (none for USER).")
    model_version: str = strawberry.field(description="The recommender version that made it.")
    personalized: bool = strawberry.field(description="Whether the user's own listening was used.")
    tracks: list[Track] = strawberry.field(description="The tracks served, in order.")
    created_at: datetime = strawberry.field(description="When (UTC).")

    @classmethod
    def of(cls, row: AiRecommendationLog) -> ServedRecommendations:
        return cls(
            id=strawberry.ID(row.id),
            seed_kind=SeedKind(row.seed_kind),
            seed_id=strawberry.ID(row.seed_id) if row.seed_id else None,
            model_version=row.model_version,
            personalized=row.personalized,
            tracks=[Track(id=strawberry.ID(id)) for id in row.track_ids],
            created_at=row.created_at,
        )


@strawberry.enum(description="What a model does.")
class ModelKind(Enum):
    EMBEDDING = described("embedding", "Turns text into vectors (search and ai share it).")
    RECOMMENDER = described("recommender", "Ranks tracks for a seed.")
    GENERATOR = described("generator", "Writes content.")


@strawberry.enum(description="Where a model version stands.")
class ModelStage(Enum):
    CANDIDATE = described("candidate", "Registered and evaluated, not serving.")
    PRODUCTION = described("production", "Serving (one version per model name).")
    ARCHIVED = described("archived", "Served before; a rollback can return to it.")


@strawberry.type(description="One recommender's scores in an offline evaluation.")
class EvaluationScore:
    recommender: str = strawberry.field(description="`ours`, or a baseline: `popularity`, `random`.")
    cases: str = strawberry.field(
        description="`all`, `user` (held-out plays) or `playlist` (held-out tracks)."
    )
    recall_at_10: float = strawberry.field(description="Hits in the first 10 / min(10, held-out tracks).")
    ndcg_at_10: float = strawberry.field(description="NDCG of the first 10, binary gains.")
    coverage: float = strawberry.field(description="Share of the catalogue recommended across all cases.")
    diversity: float = strawberry.field(description="Mean pairwise (1 - cosine) within a list.")
    count: int = strawberry.field(description="How many cases were scored.")


@strawberry.type(description="The data a model was trained or evaluated on.")
class DataSnapshot:
    hash: str = strawberry.field(description="SHA-256 of the data (tracks, plays, playlists).")
    tracks: int = strawberry.field(description="Catalogue tracks.")
    plays: int = strawberry.field(description="Plays.")
    users: int = strawberry.field(description="Listeners.")
    playlists: int = strawberry.field(description="Playlists.")
    first_play_at: datetime | None = strawberry.field(description="The oldest play (UTC).")
    last_play_at: datetime | None = strawberry.field(description="The newest play (UTC).")


def _scores(metrics: dict[str, Any]) -> list[EvaluationScore]:
    rows = []
    tables = [("all", {name: metrics[name] for name in ("ours", "popularity", "random") if name in metrics})]
    tables += list(metrics.get("by_kind", {}).items())
    for cases, table in tables:
        for recommender, values in table.items():
            rows.append(
                EvaluationScore(
                    recommender=recommender,
                    cases=cases,
                    recall_at_10=values["recall@10"],
                    ndcg_at_10=values["ndcg@10"],
                    coverage=values["coverage"],
                    diversity=values["diversity"],
                    count=values["cases"],
                )
            )
    return rows


@strawberry.type(description="A version of a model in the registry.")
class Model:
    id: strawberry.ID = strawberry.field(description="Registry id.")
    name: str = strawberry.field(description="The model's name (`recommender`, `sentence-embedding`).")
    version: str = strawberry.field(description="This version.")
    kind: ModelKind = strawberry.field(description="What it does.")
    stage: ModelStage = strawberry.field(description="Where it stands.")
    evaluation: list[EvaluationScore] = strawberry.field(
        description="Its offline evaluation against the baselines (empty when not evaluated)."
    )
    metrics: JSON = strawberry.field(description="The evaluation as recorded (JSON).")
    parameters: JSON = strawberry.field(description="How it was trained (JSON).")
    snapshot: DataSnapshot | None = strawberry.field(description="The data it was trained on.")
    created_by: str = strawberry.field(description="Who registered it (a user id or `service:ai`).")
    created_at: datetime = strawberry.field(description="When (UTC).")
    stage_changed_at: datetime = strawberry.field(description="When its stage last changed (UTC).")

    @classmethod
    def of(cls, row: AiModel) -> Model:
        snapshot = None
        if row.snapshot:
            shot = row.snapshot
            snapshot = DataSnapshot(
                hash=shot["hash"],
                tracks=shot["tracks"],
                plays=shot["plays"],
                users=shot["users"],
                playlists=shot["playlists"],
                first_play_at=datetime.fromisoformat(shot["from"]) if shot.get("from") else None,
                last_play_at=datetime.fromisoformat(shot["to"]) if shot.get("to") else None,
            )
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            version=row.version,
            kind=ModelKind(row.kind),
            stage=ModelStage(row.stage),
            evaluation=_scores(row.metrics),
            metrics=cast(JSON, row.metrics),
            parameters=cast(JSON, row.params),
            snapshot=snapshot,
            created_by=row.created_by,
            created_at=row.created_at,
            stage_changed_at=row.stage_changed_at,
        )


described_enum(
    ContentKind,
    "What to write.",
    {
        ContentKind.ARTIST_BIO: "An artist biography.",
        ContentKind.RELEASE_PITCH: "A pitch of a release to editors and curators.",
        ContentKind.SOCIAL_POST: "A short social media post.",
        ContentKind.PLAYLIST_DESCRIPTION: "A playlist's description.",
        ContentKind.LYRICS_DRAFT: "A first draft of lyrics, from the subject's words.",
        ContentKind.PRESS_RELEASE: "A press release.",
    },
)
described_enum(
    Language,
    "The language of the text.",
    {Language.EN: "English.", Language.FR: "French.", Language.DE: "German."},
    name="ContentLanguage",
)
described_enum(
    Tone,
    "How the text sounds.",
    {
        Tone.WARM: "Warm and personal.",
        Tone.PROFESSIONAL: "Professional (the default).",
        Tone.PLAYFUL: "Playful.",
        Tone.BOLD: "Bold.",
    },
    name="ContentTone",
)


@strawberry.input(description="What the content is about: exactly one id (BAD_USER_INPUT otherwise).")
class GenerationSubjectInput:
    artist_id: strawberry.ID | None = strawberry.field(default=None, description="A Spotify artist.")
    track_id: strawberry.ID | None = strawberry.field(default=None, description="A Spotify track.")
    album_id: strawberry.ID | None = strawberry.field(default=None, description="A Spotify album.")
    playlist_id: strawberry.ID | None = strawberry.field(default=None, description="A playlist.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="A project of a workspace you are a member of."
    )

    def pick(self) -> tuple[str, str]:
        given = [
            (name, str(value))
            for name, value in (
                ("artist", self.artist_id),
                ("track", self.track_id),
                ("album", self.album_id),
                ("playlist", self.playlist_id),
                ("project", self.project_id),
            )
            if value is not None
        ]
        return given[0] if len(given) == 1 else ("", "")


@strawberry.enum(description="Where a generation stands.")
class GenerationStatus(Enum):
    QUEUED = described("queued", "Waiting for the worker.")
    RUNNING = described("running", "Being written; follow `generationStream`.")
    SUCCEEDED = described("succeeded", "Written.")
    FAILED = described("failed", "Ended early: `error` says why; `text` keeps what was written.")


@strawberry.type(description="What produced a text (lineage).")
class GenerationProvenance:
    provider: str | None = strawberry.field(
        description="`offline-template` (the deterministic composer, not a model) or `openai-compatible`."
    )
    model: str | None = strawberry.field(description="The model (with its version) that wrote it.")
    prompt_template_version: str | None = strawberry.field(description="The prompt template's version.")
    prompt_hash: str | None = strawberry.field(description="SHA-256 of the prompt sent.")


@strawberry.type(description="Tokens a generation used.")
class TokenUsage:
    prompt_tokens: int = strawberry.field(description="Tokens of the prompt.")
    completion_tokens: int = strawberry.field(description="Tokens written.")
    total_tokens: int = strawberry.field(description="Both.")


@strawberry.type(description="Something an output check noticed (the text is kept, flagged).")
class OutputFlag:
    code: str = strawberry.field(description="`blocked_term` or `too_long`.")
    detail: str = strawberry.field(description="Which term, or how long.")


def _usage(usage: dict[str, Any] | None) -> TokenUsage | None:
    if not usage:
        return None
    return TokenUsage(
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
        total_tokens=usage["total_tokens"],
    )


def _flags(flags: list[dict[str, str]] | None) -> list[OutputFlag]:
    return [OutputFlag(code=flag["code"], detail=flag["detail"]) for flag in flags or []]


@strawberry.type(description="A piece of generated content, stored with what it was grounded on.")
class Generation:
    id: strawberry.ID = strawberry.field(description="Generation id.")
    kind: ContentKind = strawberry.field(description="What was asked for.")
    subject_type: str = strawberry.field(description="`artist`, `track`, `album`, `playlist` or `project`.")
    subject_id: strawberry.ID = strawberry.field(description="The subject's id.")
    language: Language = strawberry.field(description="The text's language.")
    tone: Tone | None = strawberry.field(description="The tone asked for (null: professional).")
    max_words: int = strawberry.field(description="The length asked for.")
    status: GenerationStatus = strawberry.field(description="Where it stands.")
    text: str = strawberry.field(description="The text so far, or all of it.")
    finish_reason: str | None = strawberry.field(description="`stop`, or `length` when cut at the limit.")
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    facts: JSON = strawberry.field(description="The subject's data it was grounded on (JSON).")
    provenance: GenerationProvenance = strawberry.field(description="Which provider and model wrote it.")
    usage: TokenUsage | None = strawberry.field(description="Tokens used (null until finished).")
    flags: list[OutputFlag] = strawberry.field(description="What the output checks noticed.")
    rating: int | None = strawberry.field(description="Your team's rating, 1 to 5.")
    rating_comment: str | None = strawberry.field(description="The rating's comment.")
    requested_by: strawberry.ID = strawberry.field(description="The user who asked for it.")
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it ended (UTC).")

    @classmethod
    def of(cls, row: AiGeneration) -> Generation:
        return cls(
            id=strawberry.ID(row.id),
            kind=ContentKind(row.kind),
            subject_type=row.subject_type,
            subject_id=strawberry.ID(row.subject_id),
            language=Language(row.language),
            tone=Tone(row.tone) if row.tone else None,
            max_words=row.max_words,
            status=GenerationStatus(row.status),
            text=row.text,
            finish_reason=row.finish_reason,
            error=row.error,
            facts=cast(JSON, row.facts),
            provenance=GenerationProvenance(
                provider=row.provider,
                model=row.model,
                prompt_template_version=row.prompt_template_version,
                prompt_hash=row.prompt_hash,
            ),
            usage=_usage(row.usage),
            flags=_flags(row.flags),
            rating=row.rating,
            rating_comment=row.rating_comment,
            requested_by=strawberry.ID(row.user_id),
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.enum(description="What a generation stream event is.")
class GenerationEventKind(Enum):
    DELTA = described("delta", "More text: append `delta`.")
    RESTART = described("restart", "The job started again: discard the text received so far.")
    DONE = described("done", "Finished: `text` is the whole text; the stream ends.")
    FAILED = described(
        "failed", "Ended early: `error` says why, `text` is what was written; the stream ends."
    )


@strawberry.type(description="One event of a generation's stream; resume after its `id`.")
class GenerationEvent:
    id: str = strawberry.field(description="Event id: pass it as `after` to resume after it.")
    kind: GenerationEventKind = strawberry.field(description="What it is.")
    delta: str = strawberry.field(description="New text (DELTA).")
    text: str | None = strawberry.field(description="The whole text (DONE, FAILED).")
    finish_reason: str | None = strawberry.field(description="`stop` or `length` (DONE).")
    usage: TokenUsage | None = strawberry.field(description="Tokens used (DONE).")
    error: str | None = strawberry.field(description="Why it failed (FAILED).")
    flags: list[OutputFlag] = strawberry.field(description="What the output checks noticed (DONE).")

    @classmethod
    def of(cls, event: StreamEvent) -> GenerationEvent:
        data = event.data
        return cls(
            id=event.id,
            kind=GenerationEventKind(event.kind),
            delta=event.delta,
            text=data.get("text"),
            finish_reason=data.get("finish_reason"),
            usage=_usage(data.get("usage")),
            error=data.get("error"),
            flags=_flags(data.get("flags")),
        )


@strawberry.type(description="Your team's generation spend today and its rules (admins).")
class AiUsage:
    tokens_today: int = strawberry.field(description="Tokens used since midnight UTC.")
    daily_token_budget: int = strawberry.field(description="Tokens allowed a day (RATE_LIMITED beyond).")
    generations_today: int = strawberry.field(description="Generations asked for since midnight UTC.")
    blocked_terms: list[str] = strawberry.field(description="Terms that flag an output.")

    @classmethod
    def of(cls, spent: Usage) -> AiUsage:
        return cls(
            tokens_today=spent.tokens_today,
            daily_token_budget=spent.budget,
            generations_today=spent.generations_today,
            blocked_terms=spent.blocked_terms,
        )


@strawberry.enum(description="How far recent data has moved from a model's training data.")
class DriftLevel(Enum):
    OK = described("ok", "PSI below 0.1.")
    WARNING = described("warning", "PSI from 0.1: worth a look (announced as a domain event).")
    ALERT = described("alert", "PSI from 0.25: retrain or roll back (announced as a domain event).")
    INSUFFICIENT = described("insufficient", "Too little recent data (under 30) for a verdict.")


@strawberry.type(description="One drift check of a model version on one signal.")
class DriftReport:
    id: strawberry.ID = strawberry.field(description="Report id.")
    model_version: str = strawberry.field(description="The version checked (the one in production then).")
    signal: str = strawberry.field(
        description="`catalogue_embeddings` (new tracks), `recommendation_seeds` (what was asked for), "
        "`search_queries` (sampled query vectors) or `play_popularity` (plays over the popularity deciles)."
    )
    psi: float | None = strawberry.field(description="Population stability index (null: insufficient).")
    centroid_shift: float | None = strawberry.field(
        description="1 - cosine between the reference's and the recent vectors' centroids (embeddings)."
    )
    reference_count: int = strawberry.field(description="Observations of the reference.")
    recent_count: int = strawberry.field(description="Recent observations compared.")
    level: DriftLevel = strawberry.field(description="The verdict.")
    details: JSON = strawberry.field(description="The two distributions over the bins (JSON).")
    created_at: datetime = strawberry.field(description="When it was checked (UTC).")

    @classmethod
    def of(cls, row: AiDriftReport) -> DriftReport:
        return cls(
            id=strawberry.ID(row.id),
            model_version=row.model_version,
            signal=row.signal,
            psi=row.psi,
            centroid_shift=row.centroid_shift,
            reference_count=row.reference_count,
            recent_count=row.recent_count,
            level=DriftLevel(row.level),
            details=cast(JSON, row.details),
            created_at=row.created_at,
        )
