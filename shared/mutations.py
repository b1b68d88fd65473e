"""Unit of work for a mutation: its effect, its audit record and its domain events commit
together; the events are appended to their streams after the commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from shared.audit.service import record
from shared.context import RequestContext
from shared.domain_events import outbox
from shared.domain_events.types import DomainEvent, EventPayload
from shared.errors import DomainError


@dataclass
class UnitOfWork:
    session: AsyncSession
    context: RequestContext[Any, Any] | None = None
    """The request (or job) the work is done for."""
    target_id: str | None = None
    tenant_id: str | None = None
    """Set when the mutation acts in a tenant the caller is not yet in (signUp)."""
    principal_id: str | None = None
    outcome: str = "success"
    extra: dict[str, Any] = field(default_factory=dict)

    def emit(self, event: EventPayload | DomainEvent) -> DomainEvent:
        """An outbox row in this transaction; on its domain's stream after the commit."""
        return outbox.emit(self.session, event)

    def acting_for(self, user_id: str, tenant_id: str) -> None:
        """The mutation signs a user in (signUp, logIn): the audit names them, in their tenant."""
        self.target_id = self.principal_id = user_id
        self.tenant_id = tenant_id

    def after_commit(self, key: str, hook: Callable[[], Awaitable[Any]]) -> None:
        """Runs `hook` once the transaction has committed (once per key): e.g. appending a
        subgraph's own live-stream rows. Nothing runs when the work is rolled back."""
        outbox.after_commit(self.session, hook, key=key)


class CommitThenRefuse(Exception):
    """Raised in a unit of work whose refusal must still commit what it did (revoking a
    leaked session): the work commits, audited as `outcome`, then the caller gets `error`."""

    def __init__(self, error: DomainError, *, outcome: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.outcome = outcome


@asynccontextmanager
async def unit_of_work(
    source: Info[Any, Any] | RequestContext[Any, Any],
    input: Mapping[str, Any] | None = None,
    *,
    operation: str | None = None,
) -> AsyncIterator[UnitOfWork]:
    """Commits the block's writes with a `success` audit record, or rolls them back and
    records the failure (its code) in a transaction of its own. After the commit, the events
    emitted in it are appended to their streams, and the request's reads start afresh (a new
    read session, no memoised loads) so the answer shows the change.

    `source` is the mutation's `info`: the audit names the operation by its field. Code that
    is not a resolver (seeding, jobs) passes its context and names the `operation`."""
    if isinstance(source, RequestContext):
        if operation is None:
            raise ValueError("name the operation of a unit of work outside a resolver")
        context = source
    else:
        context, operation = source.context, operation or source.field_name
    input = input or {}
    runtime, principal = context.runtime, context.principal
    refusal: DomainError | None = None
    try:
        async with runtime.db.write() as session:
            uow = UnitOfWork(session, context)
            try:
                yield uow
            except CommitThenRefuse as refused:
                uow.outcome, refusal = refused.outcome, refused.error
            await record(
                session,
                subgraph=runtime.name,
                operation=operation,
                outcome=uow.outcome,
                principal_id=uow.principal_id or principal.actor_id,
                tenant_id=uow.tenant_id or principal.tenant_id,
                target_id=uow.target_id,
                input=input,
            )
    except Exception as exc:
        outcome = exc.code.value if isinstance(exc, DomainError) else "INTERNAL"
        async with runtime.db.write() as session:
            await record(
                session,
                subgraph=runtime.name,
                operation=operation,
                outcome=outcome,
                principal_id=principal.actor_id,
                tenant_id=principal.tenant_id,
                input=input,
            )
        raise
    else:
        await outbox.committed(runtime.redis, runtime.db, session, raise_hook_errors=True)
        await context.after_write()
        if refusal is not None:
            raise refusal
