"""Name -> import path of every subgraph, imported lazily (shared/ never imports these)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class SubgraphSpec:
    name: str
    app_module: str
    models_module: str
    table_prefix: str

    def app(self) -> ModuleType:
        return importlib.import_module(self.app_module)

    def models(self) -> ModuleType:
        return importlib.import_module(self.models_module)


SUBGRAPHS: dict[str, SubgraphSpec] = {
    spec.name: spec
    for spec in (
        SubgraphSpec("accounts", "subgraphs.accounts.app", "subgraphs.accounts.models", "accounts_"),
        SubgraphSpec("spotify", "subgraphs.spotify.app", "subgraphs.spotify.models", "spotify_"),
        SubgraphSpec("storage", "subgraphs.storage.app", "subgraphs.storage.models", "storage_"),
        SubgraphSpec(
            "collaboration", "subgraphs.collaboration.app", "subgraphs.collaboration.models", "collaboration_"
        ),
    )
}

PLATFORM_TABLES = frozenset(
    {"audit_log", "audit_chain_head", "casbin_rule", "event_outbox", "event_processed"}
)


REGISTRY_PREFIX = "registry_"
"""The schema registry's tables: their own migration branch, `registry`."""
BRANCHES = ("platform", "registry", *SUBGRAPHS)


def branch_of_table(table: str) -> str | None:
    if table in PLATFORM_TABLES:
        return "platform"
    if table.startswith(REGISTRY_PREFIX):
        return "registry"
    for spec in SUBGRAPHS.values():
        if table.startswith(spec.table_prefix):
            return spec.name
    return None


def import_all_models() -> None:
    importlib.import_module("shared.audit.models")
    importlib.import_module("shared.domain_events.models")
    importlib.import_module("gateway.registry.models")
    for spec in SUBGRAPHS.values():
        spec.models()
