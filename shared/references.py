"""Entity references to other domains' objects, held by id only (`@key(fields: "id",
resolvable: false)`): a subgraph returns one and the router joins the owning subgraph's
fields. One definition each, for every subgraph that points at them."""

from __future__ import annotations

import strawberry

from shared.schema import reference_only


@strawberry.federation.type(
    keys=reference_only(), description="A track of the spotify subgraph, joined by the router."
)
class Track:
    id: strawberry.ID = strawberry.field(description="Spotify track id (base-62).")


@strawberry.federation.type(
    keys=reference_only(), description="An artist of the spotify subgraph, joined by the router."
)
class Artist:
    id: strawberry.ID = strawberry.field(description="Spotify artist id (base-62).")


@strawberry.federation.type(
    keys=reference_only(), description="An album of the spotify subgraph, joined by the router."
)
class Album:
    id: strawberry.ID = strawberry.field(description="Spotify album id (base-62).")


@strawberry.federation.type(
    keys=reference_only(), description="A playlist of the spotify subgraph, joined by the router."
)
class Playlist:
    id: strawberry.ID = strawberry.field(
        description="Spotify playlist id (base-62) or platform playlist id (`plst_…`)."
    )


@strawberry.federation.type(
    keys=reference_only(), description="A project of the collaboration subgraph, joined by the router."
)
class Project:
    id: strawberry.ID = strawberry.field(description="Project id (opaque).")


@strawberry.federation.type(
    keys=reference_only(), description="A stored file of the storage subgraph, joined by the router."
)
class Asset:
    id: strawberry.ID = strawberry.field(description="Storage asset id (opaque).")


@strawberry.federation.type(
    keys=reference_only(), description="A workspace of the collaboration subgraph, joined by the router."
)
class Workspace:
    id: strawberry.ID = strawberry.field(description="Workspace id (opaque).")


@strawberry.federation.type(
    keys=reference_only(), description="A user of the accounts subgraph, joined by the router."
)
class User:
    id: strawberry.ID = strawberry.field(description="User id (opaque).")
