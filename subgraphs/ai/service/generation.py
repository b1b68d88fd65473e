"""Content generation: a request becomes a stored job; the worker grounds it in the subject's
real data (read through the graph with a service token), builds the prompt, streams the text
from the provider into a Redis stream (what `generationStream` follows, resumable by event id)
and stores the output with its facts, prompt hash, provider, model, usage and flags. Each
tenant has a daily token budget and a blocked-terms list (its admins set them)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlmodel import col

from shared.auth.principal import acting_user, signed_in_user
from shared.context import RequestContext
from shared.db import Database, new_id, utcnow
from shared.domain_events import emit, transaction
from shared.errors import BadUserInput, DomainError, NotFound, RateLimited, Unavailable
from shared.graph import GraphClient
from shared.mutations import UnitOfWork
from subgraphs.ai import domain_events as de
from subgraphs.ai.config import AiServices, AiSettings
from subgraphs.ai.generation import (
    MAX_WORDS,
    MIN_WORDS,
    ContentKind,
    GenerationProvider,
    GenerationRequest,
    Language,
    ProviderError,
    StreamInterrupted,
    Tone,
    build_prompt,
    check_output,
)
from subgraphs.ai.generation.facts import SUBJECT_TYPES, subject_facts
from subgraphs.ai.models import AiGeneration, AiTenantPolicy
from subgraphs.ai.service.training import register_in_use

log = logging.getLogger(__name__)
AiContext = RequestContext[AiSettings, AiServices]
STREAM_TTL_SECONDS = 24 * 3600
TERMINAL = frozenset({"succeeded", "failed"})
MAX_TERMS = 200
MAX_TERM_LENGTH = 100
MAX_COMMENT = 1000
GENERATOR = "content-generator"
"""The registry's name for the model that writes content (its versions: provider models)."""


def stream_key(generation_id: str) -> str:
    return f"ai:generation:{generation_id}"


def tokens_key(tenant_id: str, day: datetime) -> str:
    return f"ai:tokens:{tenant_id}:{day:%Y%m%d}"


@dataclass(frozen=True)
class GenerationAsk:
    kind: ContentKind
    subject_type: str
    subject_id: str
    language: Language
    tone: Tone | None
    max_words: int


@dataclass(frozen=True)
class StreamEvent:
    id: str
    kind: str
    """`delta`, `restart` (discard the text so far: the job started again), `done` or `failed`."""
    delta: str
    data: dict[str, Any]


def _check(ask: GenerationAsk) -> None:
    if ask.subject_type not in SUBJECT_TYPES:
        raise BadUserInput(
            "subject needs exactly one of artistId, trackId, albumId, playlistId, projectId", field="subject"
        )
    if not 1 <= len(ask.subject_id) <= 64:
        raise BadUserInput("the subject id has 1 to 64 characters", field="subject")
    if not MIN_WORDS <= ask.max_words <= MAX_WORDS:
        raise BadUserInput(f"maxWords must be {MIN_WORDS} to {MAX_WORDS}", field="maxWords")


async def _policy(db: Database, tenant_id: str) -> AiTenantPolicy | None:
    async with db.read() as session:
        return await session.get(AiTenantPolicy, tenant_id)


async def tokens_used_today(redis: Redis, tenant_id: str) -> int:
    return int(await redis.get(tokens_key(tenant_id, utcnow())) or 0)


async def daily_budget(db: Database, settings: AiSettings, tenant_id: str) -> int:
    policy = await _policy(db, tenant_id)
    if policy is not None and policy.daily_token_budget is not None:
        return policy.daily_token_budget
    return settings.ai_daily_token_budget


async def start(uow: UnitOfWork, context: AiContext, ask: GenerationAsk) -> AiGeneration:
    """Stores the request and queues its job once the transaction commits."""
    tenant_id, user_id = acting_user(context.principal)
    _check(ask)
    runtime = context.runtime
    if await tokens_used_today(runtime.redis, tenant_id) >= await daily_budget(
        runtime.db, runtime.config, tenant_id
    ):
        raise RateLimited("Your team's token budget for today is spent", retryAfter=_seconds_to_midnight())
    queue = runtime.services.job_queue
    if queue is None:
        raise Unavailable("The job queue is not connected yet; retry shortly.")
    row = AiGeneration(
        id=new_id("gen"),
        tenant_id=tenant_id,
        user_id=user_id,
        kind=ask.kind.value,
        subject_type=ask.subject_type,
        subject_id=ask.subject_id,
        language=ask.language.value,
        tone=ask.tone.value if ask.tone else None,
        max_words=ask.max_words,
        status="queued",
        facts={},
        usage={},
        flags=[],
    )
    uow.session.add(row)
    uow.target_id = row.id
    row.job_id = f"ai-generation:{row.id}"

    async def enqueue() -> None:
        await queue.enqueue_job("generate_content", row.id, _job_id=row.job_id)

    uow.after_commit(f"enqueue:{row.id}", enqueue)
    return row


def _seconds_to_midnight() -> int:
    now = utcnow()
    return 86_400 - (now.hour * 3600 + now.minute * 60 + now.second)


async def readable(context: AiContext, generation_id: str) -> AiGeneration:
    """A generation of the caller's tenant (NOT_FOUND for anything else)."""
    tenant_id, _ = acting_user(context.principal)
    async with context.runtime.db.read() as session:
        row = await session.get(AiGeneration, generation_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("No generation of your tenant has this id", id=generation_id)
    return row


async def of_subject(
    context: AiContext, subject_type: str, subject_id: str, limit: int
) -> Sequence[AiGeneration]:
    """The tenant's generations about a subject, newest first."""
    tenant_id, _ = acting_user(context.principal)
    if subject_type not in SUBJECT_TYPES:
        raise BadUserInput(
            "subject needs exactly one of artistId, trackId, albumId, playlistId, projectId", field="subject"
        )
    async with context.runtime.db.read() as session:
        stmt = (
            select(AiGeneration)
            .where(
                col(AiGeneration.tenant_id) == tenant_id,
                col(AiGeneration.subject_type) == subject_type,
                col(AiGeneration.subject_id) == subject_id,
            )
            .order_by(col(AiGeneration.created_at).desc(), col(AiGeneration.id).desc())
            .limit(limit)
        )
        return (await session.execute(stmt)).scalars().all()


async def rate(
    uow: UnitOfWork, context: AiContext, generation_id: str, rating: int, comment: str | None
) -> AiGeneration:
    tenant_id, _ = acting_user(context.principal)
    if not 1 <= rating <= 5:
        raise BadUserInput("rating must be 1 to 5", field="rating")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise BadUserInput(f"comment has at most {MAX_COMMENT} characters", field="comment")
    row = await uow.session.get(AiGeneration, generation_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("No generation of your tenant has this id", id=generation_id)
    if row.status not in TERMINAL:
        raise BadUserInput("a generation is rated once it has finished", field="id")
    row.rating, row.rating_comment = rating, comment
    uow.target_id = row.id
    return row


async def follow(context: AiContext, generation_id: str, after: str | None) -> AsyncIterator[StreamEvent]:
    """The generation's events after `after` (from the start without it), ending with `done` or
    `failed`. Once the stream has expired, a finished generation answers with its stored end."""
    row = await readable(context, generation_id)
    redis, key, last = context.runtime.redis, stream_key(generation_id), after or "0-0"
    if row.status in TERMINAL and not await redis.exists(key):
        yield _stored_end(row)
        return
    while True:
        response = await redis.xread({key: last}, block=15_000, count=200)
        for _, entries in response or []:
            for entry_id, fields in entries:
                last = _text(entry_id)
                event = _event(last, fields)
                yield event
                if event.kind in ("done", "failed"):
                    return


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _event(entry_id: str, fields: dict[Any, Any]) -> StreamEvent:
    decoded = {_text(k): _text(v) for k, v in fields.items()}
    return StreamEvent(
        entry_id, decoded["kind"], decoded.get("delta", ""), json.loads(decoded.get("data", "{}"))
    )


def _stored_end(row: AiGeneration) -> StreamEvent:
    kind = "done" if row.status == "succeeded" else "failed"
    return StreamEvent("0-1", kind, "", _end_data(row))


def _end_data(row: AiGeneration) -> dict[str, Any]:
    return {
        "text": row.text,
        "finish_reason": row.finish_reason,
        "usage": row.usage,
        "error": row.error,
        "flags": row.flags,
    }


async def _publish(
    redis: Redis, generation_id: str, kind: str, delta: str = "", data: dict[str, Any] | None = None
) -> None:
    key = stream_key(generation_id)
    await redis.xadd(key, {"kind": kind, "delta": delta, "data": json.dumps(data or {})})  # type: ignore[arg-type]
    await redis.expire(key, STREAM_TTL_SECONDS)


async def run(
    db: Database,
    redis: Redis,
    provider: GenerationProvider,
    graph: GraphClient,
    generation_id: str,
) -> AiGeneration | None:
    """The job: idempotent (a finished generation is left alone; a re-run after a crash tells
    followers to discard the text so far). Provider and grounding failures end the
    generation as `failed` with a reason (the partial text of a dropped stream is kept)."""
    async with db.write() as session:
        row = await session.get(AiGeneration, generation_id)
        if row is None or row.status in TERMINAL:
            return row
        restarted = row.status == "running"
        row.status, row.started_at, row.text = "running", utcnow(), ""
    if restarted:
        await _publish(redis, generation_id, "restart")
    text, finish_reason, usage = "", None, None
    try:
        facts = await subject_facts(graph, row.tenant_id, row.subject_type, row.subject_id)
        request = GenerationRequest(
            kind=ContentKind(row.kind),
            language=Language(row.language),
            tone=Tone(row.tone) if row.tone else None,
            max_words=row.max_words,
            facts=facts,
        )
        prompt = build_prompt(request)
        async with db.write() as session:
            stored = await session.get(AiGeneration, generation_id)
            if stored is not None:
                stored.facts, stored.prompt_template_version, stored.prompt_hash = (
                    facts,
                    prompt.template_version,
                    prompt.hash,
                )
                stored.provider, stored.model = provider.name, provider.model
            await register_in_use(
                session, GENERATOR, provider.model, "generator", {"provider": provider.name}, "service:ai"
            )
        async with aclosing(provider.stream(request, prompt)) as chunks:
            async for chunk in chunks:
                if chunk.delta:
                    text += chunk.delta
                    await _publish(redis, generation_id, "delta", chunk.delta)
                finish_reason = chunk.finish_reason or finish_reason
                usage = chunk.usage or usage
    except StreamInterrupted as error:
        return await _finish(
            db, redis, generation_id, "failed", error.partial_text or text, None, None, error.reason
        )
    except (ProviderError, DomainError) as error:
        return await _finish(db, redis, generation_id, "failed", text, None, None, str(error))
    policy = await _policy(db, row.tenant_id)
    flags = [
        {"code": flag.code.value, "detail": flag.detail}
        for flag in check_output(text, policy.blocked_terms if policy else (), row.max_words)
    ]
    used = (
        {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
        if usage
        else {}
    )
    if used:
        key = tokens_key(row.tenant_id, utcnow())
        await redis.incrby(key, used["total_tokens"])
        await redis.expire(key, 2 * 86_400)
    return await _finish(db, redis, generation_id, "succeeded", text, finish_reason, used, None, flags)


async def give_up(db: Database, redis: Redis, generation_id: str) -> None:
    """The job failed unexpectedly on its last try: the generation ends `failed`, its
    followers are told, nothing is left `running`."""
    async with db.read() as session:
        row = await session.get(AiGeneration, generation_id)
    if row is not None and row.status not in TERMINAL:
        await _finish(
            db, redis, generation_id, "failed", row.text, None, None, "internal error; the job gave up"
        )


async def _finish(
    db: Database,
    redis: Redis,
    generation_id: str,
    status: str,
    text: str,
    finish_reason: str | None,
    usage: dict[str, int] | None,
    error: str | None,
    flags: list[dict[str, str]] | None = None,
) -> AiGeneration | None:
    async with transaction(db, redis) as session:
        row = await session.get(AiGeneration, generation_id)
        if row is None:
            return None
        row.status, row.text, row.finish_reason, row.error = (
            status,
            text,
            finish_reason,
            (error or None) and error[:500],
        )
        row.usage, row.flags, row.finished_at = usage or {}, flags or [], utcnow()
        emit(
            session,
            de.GenerationFinished(
                tenant_id=row.tenant_id,
                actor_id=row.user_id,
                generation_id=row.id,
                user_id=row.user_id,
                kind=row.kind,
                status=status,
            ),
        )
    if status == "failed":
        log.warning("generation %s failed: %s", generation_id, error)
    await _publish(redis, generation_id, "done" if status == "succeeded" else "failed", data=_end_data(row))
    return row


@dataclass(frozen=True)
class Usage:
    tokens_today: int
    budget: int
    generations_today: int
    blocked_terms: list[str]


async def usage(context: AiContext) -> Usage:
    """The tenant's spend today (its admins)."""
    tenant_id, _ = signed_in_user(context.principal)
    runtime = context.runtime
    start_of_day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    async with runtime.db.read() as session:
        count = (
            await session.execute(
                select(func.count())
                .select_from(AiGeneration)
                .where(col(AiGeneration.tenant_id) == tenant_id, col(AiGeneration.created_at) >= start_of_day)
            )
        ).scalar_one()
    policy = await _policy(runtime.db, tenant_id)
    return Usage(
        tokens_today=await tokens_used_today(runtime.redis, tenant_id),
        budget=await daily_budget(runtime.db, runtime.config, tenant_id),
        generations_today=int(count),
        blocked_terms=list(policy.blocked_terms) if policy else [],
    )


async def set_policy(
    uow: UnitOfWork, context: AiContext, blocked_terms: list[str] | None, daily_token_budget: int | None
) -> AiTenantPolicy:
    tenant_id, user_id = signed_in_user(context.principal)
    row = await uow.session.get(AiTenantPolicy, tenant_id) or AiTenantPolicy(
        tenant_id=tenant_id, blocked_terms=[], updated_by=user_id
    )
    if blocked_terms is not None:
        terms = sorted({term.strip() for term in blocked_terms if term.strip()})
        if len(terms) > MAX_TERMS or any(len(term) > MAX_TERM_LENGTH for term in terms):
            raise BadUserInput(
                f"at most {MAX_TERMS} terms of at most {MAX_TERM_LENGTH} characters", field="blockedTerms"
            )
        row.blocked_terms = terms
    if daily_token_budget is not None:
        if daily_token_budget < 0:
            raise BadUserInput("the daily token budget is 0 or more", field="dailyTokenBudget")
        row.daily_token_budget = daily_token_budget
    row.updated_by, row.updated_at = user_id, utcnow()
    uow.session.add(row)
    uow.target_id = tenant_id
    return row
