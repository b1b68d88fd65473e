"""The shape of a domain event: an envelope (id, type, version, tenant, time) around a
payload of ids and the fields a consumer needs. Producers declare one frozen dataclass per
event type (subclassing `EventPayload`, with a stable `TYPE` such as
`collaboration.project.changed` and a `VERSION`); consumers, which never import another
subgraph, receive the envelope (`DomainEvent`) and read its `payload` by type name."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from shared.db import new_id, utcnow

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SECRET_KEY = re.compile(r"password|secret|token|credential|private_key", re.IGNORECASE)
"""Payload keys that would carry a secret: refused when an event is emitted."""

STREAM_PREFIX = "events:"
EVENT_TYPES: dict[str, type[EventPayload]] = {}
"""Every declared event type, by its type name (filled as producers' modules are imported)."""


def stream_of(type_name: str) -> str:
    """One stream per producing domain: `collaboration.project.changed` -> `events:collaboration`."""
    return f"{STREAM_PREFIX}{type_name.split('.', 1)[0]}"


def dead_letter_stream(stream: str) -> str:
    return f"{stream}:dead"


class SecretInPayload(ValueError):
    pass


@dataclass(frozen=True)
class DomainEvent:
    id: str
    type: str
    version: int
    tenant_id: str | None
    occurred_at: datetime
    payload: dict[str, Any]
    actor_id: str | None = None

    @property
    def domain(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def stream(self) -> str:
        return stream_of(self.type)

    def fields(self) -> dict[str, str]:
        """The stream entry (Redis fields are flat strings)."""
        return {
            "id": self.id,
            "type": self.type,
            "version": str(self.version),
            "tenant": self.tenant_id or "",
            "actor": self.actor_id or "",
            "at": self.occurred_at.isoformat(),
            "payload": json.dumps(self.payload, separators=(",", ":"), sort_keys=True),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> DomainEvent:
        return cls(
            id=fields["id"],
            type=fields["type"],
            version=int(fields["version"]),
            tenant_id=fields.get("tenant") or None,
            actor_id=fields.get("actor") or None,
            occurred_at=datetime.fromisoformat(fields["at"]),
            payload=json.loads(fields["payload"]),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return value


def check_no_secrets(payload: Any, path: str = "payload") -> None:
    if isinstance(payload, dict):
        for key, value in payload.items():
            if SECRET_KEY.search(str(key)):
                raise SecretInPayload(f"{path}.{key} looks like a secret; events never carry secrets")
            check_no_secrets(value, f"{path}.{key}")
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            check_no_secrets(value, f"{path}[{index}]")


@dataclass(frozen=True, kw_only=True)
class EventPayload:
    """Base of a typed event. Subclass as `@dataclass(frozen=True, kw_only=True)` with the
    class variables `TYPE` (stable, `<domain>.<object>.<what happened>`) and `VERSION`
    (raise it when a field changes meaning or goes away; adding a field is compatible)."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    tenant_id: str | None
    actor_id: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        type_name = cls.__dict__.get("TYPE")
        if type_name is None:
            return  # an abstract intermediate base
        if not TYPE_NAME.match(type_name):
            raise ValueError(f"event type {type_name!r} is not `<domain>.<object>.<change>`")
        known = EVENT_TYPES.get(type_name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {type_name!r} is declared twice")
        EVENT_TYPES[type_name] = cls

    def payload(self) -> dict[str, Any]:
        data = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in ("tenant_id", "actor_id")
        }
        return dict(_jsonable(data))

    def envelope(self, *, event_id: str | None = None, occurred_at: datetime | None = None) -> DomainEvent:
        return DomainEvent(
            id=event_id or new_id("dom"),
            type=self.TYPE,
            version=self.VERSION,
            tenant_id=self.tenant_id,
            actor_id=self.actor_id,
            occurred_at=occurred_at or utcnow(),
            payload=self.payload(),
        )
