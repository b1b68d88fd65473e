"""The model registry's rules: anyone signed in reads it (what produced a recommendation is
answerable); promoting and rolling back are for the admins of a platform tenant
(`PLATFORM_ADMIN_TENANTS`), audited by the mutation's unit of work and announced."""

from __future__ import annotations

from collections.abc import Sequence

from shared.auth.principal import signed_in_user, tenant_of
from shared.context import RequestContext
from shared.db import utcnow
from shared.errors import BadUserInput, Conflict, Forbidden, NotFound, Unavailable
from shared.mutations import UnitOfWork
from subgraphs.ai.config import AiServices, AiSettings
from subgraphs.ai.models import AiDriftReport, AiModel
from subgraphs.ai.repository import ModelRepository
from subgraphs.ai.service import drift
from subgraphs.ai.service.training import promote

MAX_NAME = 64
AiContext = RequestContext[AiSettings, AiServices]


def _name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise BadUserInput(f"a model name has 1 to {MAX_NAME} characters", field="name")
    return name


async def models(context: RequestContext, name: str | None) -> Sequence[AiModel]:
    tenant_of(context.principal)
    async with context.runtime.db.read() as session:
        return await ModelRepository(session).versions(_name(name) if name is not None else None)


async def model(context: RequestContext, name: str, version: str | None) -> AiModel | None:
    """The version asked for, else the one in production, else the newest."""
    tenant_of(context.principal)
    async with context.runtime.db.read() as session:
        registry = ModelRepository(session)
        if version is not None:
            return await registry.version(_name(name), version)
        production = await registry.production(_name(name))
        if production is not None:
            return production
        versions = await registry.versions(name)
        return versions[0] if versions else None


async def drift_reports(context: RequestContext, name: str, limit: int) -> Sequence[AiDriftReport]:
    tenant_of(context.principal)
    if not 1 <= limit <= 100:
        raise BadUserInput("first must be 1 to 100", field="first")
    return await drift.latest(context.runtime.db, _name(name), limit)


def _platform_admin(context: RequestContext) -> str:
    tenant_id, user_id = signed_in_user(context.principal)
    if tenant_id not in context.runtime.settings.platform_admin_tenant_ids:
        raise Forbidden("Only the admins of a platform tenant manage models")
    return user_id


async def promote_model(uow: UnitOfWork, context: RequestContext, name: str, version: str) -> AiModel:
    actor = _platform_admin(context)
    registry = ModelRepository(uow.session)
    target = await registry.version(_name(name), version)
    if target is None:
        raise NotFound("No such model version", name=name, version=version)
    if target.stage == "production":
        raise Conflict("This version is already in production", version=version)
    uow.target_id = target.id
    await promote(uow.session, target, await registry.production(target.name), actor=actor, reason="manual")
    return target


async def rollback_model(uow: UnitOfWork, context: RequestContext, name: str) -> AiModel:
    """Production goes back to the version that was in production before the current one."""
    actor = _platform_admin(context)
    registry = ModelRepository(uow.session)
    current = await registry.production(_name(name))
    if current is None:
        raise NotFound("No version of this model is in production", name=name)
    previous = await registry.previous_production(current.name, current)
    if previous is None:
        raise Conflict("Nothing to roll back to: no earlier version was in production", name=name)
    uow.target_id = previous.id
    await promote(uow.session, previous, current, actor=actor, reason="rollback")
    return previous


async def request_training(uow: UnitOfWork, context: AiContext) -> str:
    """Queues a training run now (a job; its candidate appears in `models`); one per minute."""
    actor = _platform_admin(context)
    queue = context.runtime.services.job_queue
    if queue is None:
        raise Unavailable("The job queue is not connected yet; retry shortly.")
    job_id = f"ai-train:{utcnow():%Y%m%d%H%M}"

    async def enqueue() -> None:
        await queue.enqueue_job("train_recommender_job", requested_by=actor, _job_id=job_id)

    uow.after_commit(job_id, enqueue)
    uow.target_id = job_id
    return job_id
