"""The platform's subgraphs: a list of names. Everything else derives from a name: the
package `subgraphs.<name>` declares itself in `app.py` (`subgraph = Subgraph(...)`), its
tables start with `<name>_`, its migrations live in `migrations/versions/<name>/`. Imported
lazily (shared/ never imports a subgraph)."""

from __future__ import annotations

import importlib
from typing import Any

from shared.subgraph import Subgraph

SUBGRAPHS: tuple[str, ...] = (
    "accounts",
    "spotify",
    "storage",
    "collaboration",
    "search",
    "ai",
    "analytics",
    "notifications",
)
"""The one list a new subgraph joins."""

PLATFORM_TABLES = frozenset(
    {"audit_log", "audit_chain_head", "casbin_rule", "embedding_cache", "event_outbox", "event_processed"}
)


REGISTRY_PREFIX = "registry_"
"""The schema registry's tables: their own migration branch, `registry`."""
BRANCHES = ("platform", "registry", *SUBGRAPHS)


def declaration(name: str) -> Subgraph[Any, Any]:
    if name not in SUBGRAPHS:
        raise KeyError(f"unknown subgraph {name!r}; known: {', '.join(SUBGRAPHS)}")
    subgraph: Subgraph[Any, Any] = importlib.import_module(f"subgraphs.{name}.app").subgraph
    return subgraph


def declarations(names: tuple[str, ...] | list[str] = SUBGRAPHS) -> list[Subgraph[Any, Any]]:
    return [declaration(name) for name in names]


def branch_of_table(table: str) -> str | None:
    if table in PLATFORM_TABLES:
        return "platform"
    if table.startswith(REGISTRY_PREFIX):
        return "registry"
    for name in SUBGRAPHS:
        if table.startswith(f"{name}_"):
            return name
    return None


def import_all_models() -> None:
    importlib.import_module("shared.audit.models")
    importlib.import_module("shared.domain_events.models")
    importlib.import_module("shared.embeddings.models")
    importlib.import_module("gateway.registry.models")
    for name in SUBGRAPHS:
        importlib.import_module(f"subgraphs.{name}.models")
