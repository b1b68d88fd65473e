"""Query and mutations of the ai subgraph: thin, the rules are in service/."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from shared.config import Settings
from shared.mutations import unit_of_work
from shared.schema import PlatformSchema, build_schema
from subgraphs.ai.generation import ContentKind, Language, Tone
from subgraphs.ai.service import generation, registry
from subgraphs.ai.service import recommendations as recs
from subgraphs.ai.types import (
    AiInfo,
    AiUsage,
    DriftReport,
    Generation,
    GenerationEvent,
    GenerationSubjectInput,
    Model,
    Recommendation,
    RecommendationExplanation,
    RecommendationList,
    RecommendationSeed,
    ServedRecommendations,
)

FirstArgument = Annotated[int, strawberry.argument(description="How many, 1 to 100 (BAD_USER_INPUT above).")]
DiversityArgument = Annotated[
    float,
    strawberry.argument(
        description="0 = by score only, 1 = as varied as possible (MMR on track embeddings); 0 to 1."
    ),
]
SeedArgument = Annotated[RecommendationSeed, strawberry.argument(description="What to recommend from.")]
ExcludeArgument = Annotated[
    list[strawberry.ID] | None, strawberry.argument(description="Track ids never to recommend (at most 500).")
]
ExcludeKnownArgument = Annotated[
    bool,
    strawberry.argument(
        description="Leave out what the seed already holds: played tracks (USER), the playlist's or "
        "project's tracks. The seed track itself is always left out."
    ),
]


def _seed(seed: RecommendationSeed) -> recs.SeedRequest:
    return recs.SeedRequest(kind=seed.kind, id=str(seed.id) if seed.id is not None else None)


def _options(
    first: int, diversity: float, exclude: list[strawberry.ID] | None, exclude_known: bool
) -> recs.Options:
    return recs.Options(first, diversity, tuple(str(id) for id in exclude or ()), exclude_known)


@strawberry.input(description="Which model version to put in production.")
class PromoteModelInput:
    name: str = strawberry.field(description="The model's name.")
    version: str = strawberry.field(description="The version (a candidate or an archived one).")


@strawberry.input(description="Which model to roll back.")
class RollbackModelInput:
    name: str = strawberry.field(description="The model's name; production returns to the version before.")


@strawberry.type(description="The model version now in production.")
class ModelPayload:
    model: Model = strawberry.field(description="It, as stored.")


@strawberry.input(description="Content to write about a subject, grounded in its data.")
class GenerateContentInput:
    kind: ContentKind = strawberry.field(description="What to write.")
    subject: GenerationSubjectInput = strawberry.field(description="What it is about (exactly one id).")
    language: Language = strawberry.field(default=Language.EN, description="The text's language.")
    tone: Tone | None = strawberry.field(default=None, description="How it sounds (default: professional).")
    max_words: int = strawberry.field(default=200, description="At most this many words, 20 to 800.")


@strawberry.type(description="The generation just queued.")
class GenerationPayload:
    generation: Generation = strawberry.field(description="It, as stored; follow `generationStream`.")


@strawberry.input(description="A rating of a finished generation.")
class RateGenerationInput:
    id: strawberry.ID = strawberry.field(description="The generation.")
    rating: int = strawberry.field(description="1 (poor) to 5 (great).")
    comment: str | None = strawberry.field(default=None, description="Why, at most 1,000 characters.")


@strawberry.input(description="Your team's generation rules; a null field is left as it is.")
class UpdateAiPolicyInput:
    blocked_terms: list[str] | None = strawberry.field(
        default=None, description="Terms that flag an output (at most 200, each at most 100 characters)."
    )
    daily_token_budget: int | None = strawberry.field(
        default=None, description="Tokens allowed a day (0 or more)."
    )


def _ask(input: GenerateContentInput) -> generation.GenerationAsk:
    subject_type, subject_id = input.subject.pick()
    return generation.GenerationAsk(
        input.kind, subject_type, subject_id, input.language, input.tone, input.max_words
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Tracks for a seed, each with its score and machine-readable reasons. Candidates from "
        "content similarity, co-occurrence, ALS and popularity in genre, fused and diversified."
    )
    async def recommendations(
        self,
        info: AiInfo,
        seed: SeedArgument,
        first: FirstArgument = 20,
        diversity: DiversityArgument = 0.3,
        exclude: ExcludeArgument = None,
        exclude_known: ExcludeKnownArgument = True,
    ) -> RecommendationList:
        answer = await recs.recommendations(
            info.context, _seed(seed), _options(first, diversity, exclude, exclude_known)
        )
        return RecommendationList(
            id=strawberry.ID(answer.id) if answer.id else None,
            items=[Recommendation.of(item, answer.model_version) for item in answer.items],
            model_version=answer.model_version,
            personalized=answer.personalized,
        )

    @strawberry.field(description="Why this track for this seed: recommended or not, from the same data.")
    async def explain_recommendation(
        self,
        info: AiInfo,
        track_id: Annotated[strawberry.ID, strawberry.argument(description="Any catalogue track id.")],
        seed: SeedArgument,
        first: FirstArgument = 20,
        diversity: DiversityArgument = 0.3,
        exclude: ExcludeArgument = None,
        exclude_known: ExcludeKnownArgument = True,
    ) -> RecommendationExplanation:
        options = _options(first, diversity, exclude, exclude_known)
        explained, version, personalized = await recs.explanation(
            info.context, str(track_id), _seed(seed), options
        )
        return RecommendationExplanation(
            recommendation=Recommendation.of(explained, version),
            recommended=explained.rank is not None,
            personalized=personalized,
        )

    @strawberry.field(
        description="A recommendation list served in your tenant: its tracks and the model version."
    )
    async def served_recommendations(
        self,
        info: AiInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="`RecommendationList.id`.")],
    ) -> ServedRecommendations:
        return ServedRecommendations.of(await recs.served(info.context, str(id)))

    @strawberry.field(description="Every registered model version, newest first per name.")
    async def models(
        self,
        info: AiInfo,
        name: Annotated[str | None, strawberry.argument(description="Only this model's versions.")] = None,
    ) -> list[Model]:
        return [Model.of(row) for row in await registry.models(info.context, name)]

    @strawberry.field(description="A model's version: the one asked for, else production, else the newest.")
    async def model(
        self,
        info: AiInfo,
        name: Annotated[str, strawberry.argument(description="The model's name, e.g. `recommender`.")],
        version: Annotated[str | None, strawberry.argument(description="A version.")] = None,
    ) -> Model | None:
        row = await registry.model(info.context, name, version)
        return Model.of(row) if row is not None else None

    @strawberry.field(description="A model's latest drift reports, newest first (one per signal per check).")
    async def model_drift(
        self,
        info: AiInfo,
        name: Annotated[str, strawberry.argument(description="The model's name.")] = "recommender",
        first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 9,
    ) -> list[DriftReport]:
        return [DriftReport.of(row) for row in await registry.drift_reports(info.context, name, first)]

    @strawberry.field(description="A generation of your tenant.")
    async def generation(
        self, info: AiInfo, id: Annotated[strawberry.ID, strawberry.argument(description="Generation id.")]
    ) -> Generation:
        return Generation.of(await generation.readable(info.context, str(id)))

    @strawberry.field(description="Your tenant's generations about a subject, newest first.")
    async def generations(
        self,
        info: AiInfo,
        subject: Annotated[GenerationSubjectInput, strawberry.argument(description="The subject (one id).")],
        first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 20,
    ) -> list[Generation]:
        rows = await generation.of_subject(info.context, *subject.pick(), max(1, min(first, 100)))
        return [Generation.of(row) for row in rows]

    @strawberry.field(description="Your team's generation spend today and its rules (admins).")
    async def ai_usage(self, info: AiInfo) -> AiUsage:
        return AiUsage.of(await generation.usage(info.context))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Write content about a subject (a job): grounded in its data, streamed by "
        "`generationStream`. RATE_LIMITED when your team's daily token budget is spent."
    )
    async def generate_content(
        self,
        info: AiInfo,
        input: Annotated[GenerateContentInput, strawberry.argument(description="What to write.")],
    ) -> GenerationPayload:
        ask = _ask(input)
        async with unit_of_work(info, {"kind": ask.kind.value, "subject": ask.subject_type}) as uow:
            row = await generation.start(uow, info.context, ask)
        return GenerationPayload(generation=Generation.of(row))

    @strawberry.mutation(description="Rate a finished generation of your tenant.")
    async def rate_generation(
        self,
        info: AiInfo,
        input: Annotated[RateGenerationInput, strawberry.argument(description="The rating.")],
    ) -> GenerationPayload:
        async with unit_of_work(info, {"id": str(input.id), "rating": input.rating}) as uow:
            row = await generation.rate(uow, info.context, str(input.id), input.rating, input.comment)
        return GenerationPayload(generation=Generation.of(row))

    @strawberry.mutation(description="Set your team's blocked terms and daily token budget (admins).")
    async def update_ai_policy(
        self,
        info: AiInfo,
        input: Annotated[UpdateAiPolicyInput, strawberry.argument(description="The rules.")],
    ) -> AiUsage:
        async with unit_of_work(info, {"terms": len(input.blocked_terms or [])}) as uow:
            await generation.set_policy(uow, info.context, input.blocked_terms, input.daily_token_budget)
        return AiUsage.of(await generation.usage(info.context))

    @strawberry.mutation(description="Put a model version in production (admins of a platform tenant).")
    async def promote_model(
        self,
        info: AiInfo,
        input: Annotated[PromoteModelInput, strawberry.argument(description="The version.")],
    ) -> ModelPayload:
        async with unit_of_work(info, {"name": input.name, "version": input.version}) as uow:
            row = await registry.promote_model(uow, info.context, input.name, input.version)
        info.context.runtime.services.models.forget()
        return ModelPayload(model=Model.of(row))

    @strawberry.mutation(
        description="Train, evaluate and register a recommender now, as the nightly job does; promoted "
        "by the same rule (admins of a platform tenant)."
    )
    async def train_recommender(self, info: AiInfo) -> TrainingRequested:
        async with unit_of_work(info) as uow:
            job_id = await registry.request_training(uow, info.context)
        return TrainingRequested(job_id=job_id)

    @strawberry.mutation(
        description="Return a model to the version in production before the current one "
        "(admins of a platform tenant)."
    )
    async def rollback_model(
        self,
        info: AiInfo,
        input: Annotated[RollbackModelInput, strawberry.argument(description="The model.")],
    ) -> ModelPayload:
        async with unit_of_work(info, {"name": input.name}) as uow:
            row = await registry.rollback_model(uow, info.context, input.name)
        info.context.runtime.services.models.forget()
        return ModelPayload(model=Model.of(row))


@strawberry.type(description="A training run was queued.")
class TrainingRequested:
    job_id: str = strawberry.field(
        description="The job's id (one per minute); its candidate appears in `models` with its evaluation."
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A generation's text as it is written, ending with the whole text; resume "
        "`after` the last event id you received and miss nothing."
    )
    async def generation_stream(
        self,
        info: AiInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Generation id.")],
        after: Annotated[str | None, strawberry.argument(description="Resume after this event id.")] = None,
    ) -> AsyncGenerator[GenerationEvent, None]:
        async for event in generation.follow(info.context, str(id), after):
            yield GenerationEvent.of(event)


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(settings, query=Query, mutation=Mutation, subscription=Subscription, types=[Model])
