"""Project content: one JSON schema per project type, changed by JSON Patch (RFC 6902)
operations within size limits. Tracks, playlists and assets are referred to by id only."""

from __future__ import annotations

import enum
import json
from typing import Any

import jsonpatch
import jsonpointer
from jsonschema import Draft202012Validator

from shared.errors import BadUserInput

MAX_OPERATIONS = 100
MAX_OPERATIONS_BYTES = 64 * 1024
MAX_CONTENT_BYTES = 512 * 1024

_ID_LIST = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 64}, "maxItems": 500}
_TITLE = {"type": "string", "maxLength": 200}


class ProjectType(enum.StrEnum):
    PLAYLIST_DRAFT = "playlist_draft"
    RELEASE_PLAN = "release_plan"
    DOCUMENT = "document"


SCHEMAS: dict[ProjectType, dict[str, Any]] = {
    ProjectType.PLAYLIST_DRAFT: {
        "type": "object",
        "additionalProperties": False,
        "required": ["description", "trackIds"],
        "properties": {
            "description": {"type": "string", "maxLength": 2000},
            "trackIds": _ID_LIST,
            "playlistId": {"type": ["string", "null"], "maxLength": 64},
            "coverAssetId": {"type": ["string", "null"], "maxLength": 64},
        },
    },
    ProjectType.RELEASE_PLAN: {
        "type": "object",
        "additionalProperties": False,
        "required": ["releaseDate", "milestones", "trackIds", "assetIds"],
        "properties": {
            "releaseDate": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            "milestones": {
                "type": "array",
                "maxItems": 200,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["title", "done"],
                    "properties": {
                        "title": _TITLE,
                        "due": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                        "done": {"type": "boolean"},
                    },
                },
            },
            "trackIds": _ID_LIST,
            "assetIds": _ID_LIST,
        },
    },
    ProjectType.DOCUMENT: {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "body", "assetIds"],
        "properties": {
            "kind": {"enum": ["lyrics", "notes"]},
            "body": {"type": "string", "maxLength": 200_000},
            "assetIds": _ID_LIST,
            "trackId": {"type": ["string", "null"], "maxLength": 64},
        },
    },
}

EMPTY: dict[ProjectType, dict[str, Any]] = {
    ProjectType.PLAYLIST_DRAFT: {"description": "", "trackIds": []},
    ProjectType.RELEASE_PLAN: {"releaseDate": None, "milestones": [], "trackIds": [], "assetIds": []},
    ProjectType.DOCUMENT: {"kind": "notes", "body": "", "assetIds": []},
}

_VALIDATORS = {kind: Draft202012Validator(schema) for kind, schema in SCHEMAS.items()}


def validate(project_type: ProjectType, content: Any, field: str = "content") -> dict[str, Any]:
    if len(json.dumps(content)) > MAX_CONTENT_BYTES:
        raise BadUserInput(f"Content is larger than {MAX_CONTENT_BYTES} bytes", field=field)
    error = next(iter(_VALIDATORS[project_type].iter_errors(content)), None)
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.absolute_path)
        raise BadUserInput(
            f"Content does not fit a {project_type.value}: {error.message}", field=field, path=where
        )
    if not isinstance(content, dict):  # every schema's root is an object; this narrows the type
        raise BadUserInput(f"Content of a {project_type.value} is an object", field=field)
    return content


def check_operations(operations: Any) -> list[dict[str, Any]]:
    if not isinstance(operations, list) or not 1 <= len(operations) <= MAX_OPERATIONS:
        raise BadUserInput(f"Give 1 to {MAX_OPERATIONS} operations", field="operations")
    if len(json.dumps(operations)) > MAX_OPERATIONS_BYTES:
        raise BadUserInput(f"Operations are larger than {MAX_OPERATIONS_BYTES} bytes", field="operations")
    return operations


def apply(project_type: ProjectType, content: dict[str, Any], operations: Any) -> dict[str, Any]:
    """The content after the operations; the input is not modified. Any invalid operation
    (unknown op, a path that does not exist, a failed `test`) refuses the whole change."""
    operations = check_operations(operations)
    try:
        patch = jsonpatch.JsonPatch(operations)
        changed = patch.apply(content, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError) as error:
        raise BadUserInput(f"Invalid operation: {str(error)[:200]}", field="operations") from error
    return validate(project_type, changed, field="operations")
