"""How local knowledge files are identified on the server, so that re-runs are idempotent.

The rule (:func:`is_same_file`, its one home): a file on the server *is* a spec's file when it
has the same name (the local file's base name) and its metadata carries the local content's
SHA-256 under :data:`HASH_METADATA_KEY` and otherwise equals the spec's metadata. Such a file is
kept; any other file of that name is a stale version and is replaced (the new one is uploaded
first, then the old one deleted). Files whose name no spec lists are left alone unless
provisioning prunes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .._upload_checks import check_file_name, max_file_size
from ..exceptions import ValidationError
from ._specs import FileSpec

__all__ = [
    "HASH_METADATA_KEY",
    "as_sent",
    "check_local_file",
    "is_same_file",
    "sha256_file",
    "upload_metadata",
    "user_metadata",
]

HASH_METADATA_KEY = "aiopinecone_sha256"
"""File metadata key holding the hex SHA-256 of the uploaded content."""

_CHUNK = 1024 * 1024


def check_local_file(path: Path) -> str | None:
    """Why ``path`` cannot be uploaded as a knowledge file, or ``None`` when it can."""
    try:
        if not path.exists():
            return f"file not found: {path}"
        if not path.is_file():
            return f"not a regular file: {path}"
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    try:
        check_file_name(path.name)
    except ValidationError as exc:
        return str(exc).split(" (pass check_limits")[0]
    limit = max_file_size(path.name)
    if size > limit:
        return f"{path} is {size} bytes; Pinecone accepts at most {limit} bytes for this file type"
    return None


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of the file's content, read in chunks (never the whole file at once)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def upload_metadata(metadata: Mapping[str, Any] | None, sha256: str) -> dict[str, Any]:
    """The metadata sent with an upload: the spec's metadata plus the content hash."""
    return {**(metadata or {}), HASH_METADATA_KEY: sha256}


def user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A server file's metadata without the content hash (what a spec's metadata must equal)."""
    return {k: v for k, v in (metadata or {}).items() if k != HASH_METADATA_KEY}


def as_sent(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """``metadata`` as the server will hold it once sent as JSON (a tuple comes back a list).

    Comparisons with what the server lists go through this, so that a value JSON writes
    differently (a tuple, a date) does not look like a change on every run.
    """
    value = dict(metadata or {})
    try:
        decoded: dict[str, Any] = orjson.loads(orjson.dumps(value))
    except TypeError:
        return value  # not JSON at all: the spec checks refuse it before anything is sent
    return decoded


def is_same_file(
    name: str, metadata: Mapping[str, Any] | None, spec: FileSpec, sha256: str
) -> bool:
    """The file identity rule: is a server file (``name``, ``metadata``) the spec's file, whose
    local content hashes to ``sha256``?"""
    server = metadata or {}
    return (
        name == spec.name
        and server.get(HASH_METADATA_KEY) == sha256
        and user_metadata(server) == as_sent(spec.metadata)
    )
