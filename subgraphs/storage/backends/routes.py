"""The local backend's file routes: PUT and GET on HMAC-signed, expiring URLs (the local
stand-in for S3 presigned URLs). A refused request gets a JSON error with a code."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from subgraphs.storage.backends.local import (
    DOWNLOAD_PARAMS,
    FILES_PREFIX,
    UPLOAD_PARAMS,
    LocalBackend,
    UploadTooLarge,
)
from subgraphs.storage.backends.signing import SignatureError

Handler = Callable[[Request], Awaitable[Response]]


def _refused(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _put(backend: LocalBackend) -> Handler:
    async def put(request: Request) -> Response:
        key = request.path_params["key"]
        query = dict(request.query_params)
        try:
            backend.signer.verify("PUT", FILES_PREFIX + key, query, UPLOAD_PARAMS)
            backend.path_of(key)
        except (SignatureError, ValueError) as error:
            return _refused(403, "FORBIDDEN", f"upload URL refused: {error}")
        if request.headers.get("content-type", "").lower() != query["content_type"]:
            return _refused(403, "FORBIDDEN", "Content-Type differs from the signed one")
        try:
            await backend.write(key, query["content_type"], request.stream(), int(query["max_size"]))
        except UploadTooLarge:
            return _refused(413, "BAD_USER_INPUT", "the upload exceeds the size limit of its kind")
        return Response(status_code=200)

    return put


def _get(backend: LocalBackend) -> Handler:
    async def get(request: Request) -> Response:
        key = request.path_params["key"]
        query = dict(request.query_params)
        try:
            backend.signer.verify("GET", FILES_PREFIX + key, query, DOWNLOAD_PARAMS)
            path = backend.path_of(key)
        except (SignatureError, ValueError) as error:
            return _refused(403, "FORBIDDEN", f"download URL refused: {error}")
        if not path.exists():
            return _refused(404, "NOT_FOUND", "no such file")
        media_type = await backend.content_type_of(key)
        remaining = max(0, int(query["expires"]) - int(time.time()))
        headers = {"Cache-Control": f"private, max-age={remaining}", "X-Content-Type-Options": "nosniff"}
        filename = query.get("filename")
        return FileResponse(
            path,
            media_type=media_type,
            headers=headers,
            filename=filename,
            content_disposition_type="inline",  # every accepted type is safe to show; nosniff holds it
        )

    return get


def file_routes(backend: LocalBackend) -> list[Route]:
    path = FILES_PREFIX + "{key:path}"
    return [Route(path, _put(backend), methods=["PUT"]), Route(path, _get(backend), methods=["GET", "HEAD"])]
