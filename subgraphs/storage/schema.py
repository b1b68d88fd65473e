"""Query and mutations of the storage subgraph."""

from __future__ import annotations

from typing import Annotated

import strawberry

from shared.auth.principal import tenant_of
from shared.config import Settings
from shared.errors import NotFound
from shared.mutations import unit_of_work
from shared.pagination import Connection, PageCursor, PageSize, check_first, connection, decode_cursor
from shared.permissions.resources import granted
from shared.references import User
from shared.schema import PlatformSchema, build_schema
from subgraphs.storage import service
from subgraphs.storage.access import on_asset
from subgraphs.storage.backends import UploadTarget as BackendUploadTarget
from subgraphs.storage.loaders import asset_loader
from subgraphs.storage.models import AssetKind
from subgraphs.storage.repository import AssetRepository
from subgraphs.storage.types import Asset, StorageInfo, backend, visible


@strawberry.input(description="What you are about to upload; checked again on completion.")
class CreateUploadInput:
    kind: AssetKind = strawberry.field(
        description="What you upload; each kind accepts some content types up to a size (BAD_USER_INPUT)."
    )
    content_type: str = strawberry.field(
        description="MIME type of the file, e.g. `image/png`; the bytes must match it."
    )
    size: int = strawberry.field(description="Bytes.")
    checksum: str = strawberry.field(description="Hex SHA-256 of the content.")
    filename: str | None = strawberry.field(
        default=None, description="File name offered on download; optional."
    )

    def request(self) -> service.UploadRequest:
        return service.UploadRequest(
            kind=self.kind,
            content_type=self.content_type,
            size=self.size,
            checksum=self.checksum,
            filename=self.filename,
        )


@strawberry.type(description="A header the upload request must carry.")
class UploadHeader:
    name: str = strawberry.field(description="Header name, e.g. `Content-Type`.")
    value: str = strawberry.field(description="Exact value to send.")


@strawberry.type(description="Where and how to send the bytes.")
class UploadTarget:
    url: str = strawberry.field(description="Presigned address to send the bytes to.")
    method: str = strawberry.field(description="HTTP method to use, e.g. `PUT`.")
    headers: list[UploadHeader] = strawberry.field(
        description="Headers the request must carry, exactly as given."
    )
    expires_at: int = strawberry.field(description="Unix time after which the URL is refused.")

    @classmethod
    def of(cls, target: BackendUploadTarget) -> UploadTarget:
        headers = [UploadHeader(name=name, value=value) for name, value in target.headers.items()]
        return cls(url=target.url, method=target.method, headers=headers, expires_at=target.expires_at)


@strawberry.type(description="The PENDING asset and where to upload its bytes.")
class CreateUploadPayload:
    asset: Asset = strawberry.field(description="The new asset, PENDING until `completeUpload`.")
    upload: UploadTarget = strawberry.field(description="Where and how to send the bytes.")


@strawberry.type(description="The asset after the change.")
class AssetPayload:
    asset: Asset = strawberry.field(description="The asset, with its new status or deletion time.")


async def _readable(info: StorageInfo, id: strawberry.ID) -> Asset:
    found = visible(info, await asset_loader(info.context).load(str(id)))
    if found is None:
        raise NotFound("Asset not found", id=str(id))
    if isinstance(found, Exception):
        raise found
    return found


@strawberry.type
class Query:
    @strawberry.field(description="An asset of your tenant.")
    async def asset(
        self,
        info: StorageInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Storage asset id.")],
    ) -> Asset | None:
        return await _readable(info, id)

    @strawberry.field(description="Your tenant's assets you may read, newest first.")
    async def assets(
        self,
        info: StorageInfo,
        kind: Annotated[
            AssetKind | None,
            strawberry.argument(description="Only assets of this kind; null for every kind."),
        ] = None,
        first: PageSize = 20,
        after: PageCursor = None,
    ) -> Connection[Asset]:
        check_first(first)
        principal = info.context.principal
        repo = AssetRepository(await info.context.session(), tenant_of(principal))
        kinds = [kind.value] if kind else [k.value for k in AssetKind]
        rows = await repo.page(kinds, decode_cursor(after), first + 1)
        readable = [row for row in rows if not isinstance(visible(info, row), Exception)]
        return connection(readable, first, key=lambda row: row.id, node=Asset.from_row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start an upload: a presigned PUT and an asset in PENDING.")
    async def create_upload(
        self,
        info: StorageInfo,
        input: Annotated[
            CreateUploadInput, strawberry.argument(description="Kind, type, size and checksum of the file.")
        ],
    ) -> CreateUploadPayload:
        audit = {"kind": input.kind.value, "contentType": input.content_type, "size": input.size}
        async with unit_of_work(info, audit) as uow:
            row, target = await service.create_upload(
                uow, info.context.principal, backend(info), info.context.runtime.config, input.request()
            )
        return CreateUploadPayload(asset=Asset.from_row(row), upload=UploadTarget.of(target))

    @strawberry.mutation(description="Check the uploaded bytes against the declaration; READY if they match.")
    async def complete_upload(
        self,
        info: StorageInfo,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Storage asset id of a PENDING asset whose bytes were sent."),
        ],
    ) -> AssetPayload:
        async with unit_of_work(info, {"id": id}) as uow:
            row = await service.complete_upload(
                uow, info.context.runtime.db, info.context.principal, backend(info), str(id)
            )
        return AssetPayload(asset=Asset.from_row(row))

    @strawberry.mutation(
        description="Soft-delete an asset (owner or admin); restorable until purged.",
        extensions=[on_asset("id")],
    )
    async def delete_asset(
        self,
        info: StorageInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Storage asset id.")],
    ) -> AssetPayload:
        async with unit_of_work(info, {"id": id}) as uow:
            row = await service.set_asset_deleted(uow, info.context.principal, granted(info).resource, True)
        return AssetPayload(asset=Asset.from_row(row))

    @strawberry.mutation(
        description="Bring back a soft-deleted asset (owner or admin).",
        extensions=[on_asset("id", deleted=True)],
    )
    async def restore_asset(
        self,
        info: StorageInfo,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="Storage asset id of a soft-deleted asset.")
        ],
    ) -> AssetPayload:
        async with unit_of_work(info, {"id": id}) as uow:
            row = await service.set_asset_deleted(uow, info.context.principal, granted(info).resource, False)
        return AssetPayload(asset=Asset.from_row(row))


def create_schema(settings: Settings) -> PlatformSchema:
    return build_schema(settings, query=Query, mutation=Mutation, types=[Asset, User])
