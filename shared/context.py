"""The Strawberry context of one request (HTTP) or one connection (WebSocket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import ANONYMOUS, Principal
from shared.errors import DomainError
from shared.metrics import measured_batches
from shared.runtime import ConfigT, ServicesT, SubgraphRuntime


@dataclass
class RequestContext(Generic[ConfigT, ServicesT]):
    runtime: SubgraphRuntime[ConfigT, ServicesT]
    request: Any = None
    response: Any = None
    principal: Principal = ANONYMOUS
    auth_error: DomainError | None = None
    connection_params: dict[str, Any] | None = None
    decisions: dict[str, Any] = field(default_factory=dict)
    grants: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Resource grants found for fields of this operation, by path (`shared.permissions.resources`)."""
    loaders: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    """Entries of the response's `extensions` set by resolvers (e.g. `search`)."""
    _session: AsyncSession | None = None
    _session_cm: Any = None

    @property
    def subgraph(self) -> str:
        return self.runtime.name

    @property
    def policies(self) -> Any:
        return self.runtime.policies

    async def session(self) -> AsyncSession:
        """One read session per request, shared by its resolvers and loaders, which may run
        concurrently (they take turns on it); closed when the operation ends."""
        if self._session is None:
            self._session_cm = self.runtime.db.shared_read()
            self._session = await self._session_cm.__aenter__()
        return self._session

    async def close(self) -> None:
        if self._session_cm is not None:
            cm, self._session_cm, self._session = self._session_cm, None, None
            await cm.__aexit__(None, None, None)

    async def act_as(self, principal: Principal) -> None:
        """The rest of this operation runs as `principal`, whom a mutation just signed in
        (sign-up, log-in, refresh): as the next request with its token would. The decisions,
        loads and read session made for the caller before are dropped; the operation's end
        gives the context its caller back (`RequestLifecycle`)."""
        self.principal = principal
        self.decisions.clear()
        await self.after_write()

    async def after_write(self) -> None:
        """Reads after a committed write see it: a fresh read session, no memoised loads."""
        await self.close()
        self.loaders.clear()

    def loader(self, name: str, factory: Any) -> Any:
        if name not in self.loaders:
            loader = factory(self)
            loader.load_fn = measured_batches(name, loader.load_fn)
            self.loaders[name] = loader
        return self.loaders[name]
