"""Resource-scoped permissions, declared on the field: which resource (a workspace, a project,
an asset...) the field acts on, found from a declared argument path or the parent object, and
the caller's grant on it, decided by Casbin with the resource's domain. The object Casbin
decides is the field's own coordinate (with the scope's prefix, e.g. `ws:Mutation.updateProject`):
no coordinate string is typed in a resolver.

    @strawberry.mutation(description=..., extensions=[ResourcePermission(PROJECTS, "input.id")])
    async def update_project(self, info, input) -> ProjectPayload:
        access = granted(info)  # what the scope loaded: the project and the caller's membership
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from shared.errors import Forbidden, NotFound
from shared.permissions.enforcer import Decision

R = TypeVar("R")

SELF = "@self"
"""Suffix of the object decided when the caller acts on themselves (`self_argument`)."""


@dataclass(frozen=True)
class Grant(Generic[R]):
    """What the caller holds on one resource: Casbin's domain and subjects for it, and what
    the scope loaded to find them (handed to the resolver, so nothing is read twice)."""

    domain: str
    subjects: tuple[str, ...]
    resource: R
    role: str


class ResourceScope(Protocol):
    """How one kind of resource is found and who the caller is in it."""

    prefix: str
    """Prefix of the objects its policy lines name (e.g. `ws:`), apart from the tenant layer."""
    kind: str
    """What a refusal calls it: "Workspace", "Project"..."""

    def grant(self, context: Any, resource_id: str, *, fresh: bool) -> Awaitable[Grant[Any] | None]:
        """The caller's grant, or None when the caller may not know the resource exists.
        `fresh`: read now, bypassing the request's loaders (subscriptions live long)."""
        ...


def _argument(kwargs: dict[str, Any], path: str) -> Any:
    value: Any = kwargs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def _python_path(path: str) -> str:
    """`input.workspaceId` (as in the SDL) -> `input.workspace_id` (as Strawberry passes it)."""
    return ".".join("".join(f"_{c.lower()}" if c.isupper() else c for c in part) for part in path.split("."))


class ResourcePermission(FieldExtension):
    """Allows the field when the caller's grant on the resource allows its coordinate.

    `argument`: dotted path to the resource id in the field's arguments (SDL names), or
    `parent`: the attribute of the parent object holding it. A caller without a grant gets
    NOT_FOUND (it learns nothing), a grant that does not allow the field FORBIDDEN.
    `self_argument`: when that argument is the caller's own user id, the object decided is
    `<coordinate>@self` (e.g. a member may leave a workspace without the right to remove others).
    `fresh`: decide on data read now (subscriptions, which outlive the request's loaders)."""

    def __init__(
        self,
        scope: ResourceScope,
        argument: str | None = None,
        *,
        parent: str | None = None,
        self_argument: str | None = None,
        fresh: bool = False,
    ) -> None:
        if (argument is None) == (parent is None):
            raise ValueError("name exactly one of `argument` or `parent`")
        self.scope = scope
        self.argument = _python_path(argument) if argument else None
        self.parent = parent
        self.self_argument = _python_path(self_argument) if self_argument else None
        self.fresh = fresh

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        await self.authorize(source, info, kwargs)
        result = next_(source, info, **kwargs)
        if hasattr(result, "__aiter__"):
            return result  # a subscription's stream, authorized before its first event
        return await result

    async def authorize(self, source: Any, info: Info[Any, Any], kwargs: dict[str, Any]) -> Grant[Any]:
        context = info.context
        found = _argument(kwargs, self.argument) if self.argument else getattr(source, self.parent or "")
        resource_id = str(found) if found is not None else ""
        grant = await self.scope.grant(context, resource_id, fresh=self.fresh) if resource_id else None
        if grant is None:
            raise NotFound(f"{self.scope.kind} not found", id=resource_id)
        type_name = info.path.typename or ""
        coordinate = f"{type_name}.{info.field_name}"
        action = "write" if type_name == "Mutation" else "read"
        obj = f"{self.scope.prefix}{coordinate}"
        if self.self_argument and str(_argument(kwargs, self.self_argument)) == context.principal.user_id:
            obj += SELF
        if context.policies.decide(grant.subjects, grant.domain, obj, action) is not Decision.ALLOW:
            raise Forbidden(f"Your role ({grant.role}) does not allow this", coordinate=coordinate)
        context.grants[_key(info)] = grant
        return grant


def _key(info: Info[Any, Any]) -> tuple[Any, ...]:
    return tuple(info.path.as_list())


def granted(info: Info[Any, Any]) -> Grant[Any]:
    """The grant `ResourcePermission` found for this field (call it in the resolver)."""
    grant: Grant[Any] | None = info.context.grants.get(_key(info))
    if grant is None:
        raise RuntimeError(f"{info.field_name} declares no ResourcePermission")
    return grant
