"""A partner team's subgraph, outside the platform: `merch` extends the catalogue's
`Artist` with merchandise. Its SDL has variants for checks (a removed field, a conflict)."""

from __future__ import annotations

import strawberry
from strawberry.federation.schema_directives import FieldSet, Key


@strawberry.type(description="Something a fan can buy.")
class MerchItem:
    name: str = strawberry.field(description="What it is.")
    price: float = strawberry.field(description="Price in euros.")
    sku: str = strawberry.field(description="Stock keeping unit.")


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"))], description="An artist (from the catalogue).")
class Artist:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Artist:
        return cls(id=id)

    @strawberry.field(description="The artist's merchandise.")
    def merch_items(self) -> list[MerchItem]:
        return [
            MerchItem(name=f"Tour shirt {str(self.id)[:4]}", price=25.0, sku=f"TS-{self.id}"),
            MerchItem(name="Vinyl", price=32.5, sku=f"LP-{self.id}"),
        ]


@strawberry.type
class Query:
    @strawberry.field(description="How many items the shop sells.")
    def merch_catalogue_size(self) -> int:
        return 2


merch_schema = strawberry.federation.Schema(query=Query, types=[Artist], federation_version="2.9")
MERCH_SDL = merch_schema.as_str()
WITHOUT_PRICE = MERCH_SDL.replace('\n  """Price in euros."""\n  price: Float!\n', "")
WITHOUT_SKU = MERCH_SDL.replace('\n  """Stock keeping unit."""\n  sku: String!\n', "")
assert MERCH_SDL not in (WITHOUT_PRICE, WITHOUT_SKU)
CONFLICTING = MERCH_SDL.replace(
    "  id: ID!\n", '  id: ID!\n\n  """The artist\'s name, as a number."""\n  name: Int!\n', 1
)


def merch_app() -> object:
    """The partner's service: /graphql (HTTP), as the router reaches it."""
    from starlette.applications import Starlette
    from starlette.routing import Route
    from strawberry.asgi import GraphQL

    return Starlette(routes=[Route("/graphql", GraphQL(merch_schema), methods=["GET", "POST"])])
