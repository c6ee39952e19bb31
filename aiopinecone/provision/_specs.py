"""What a fleet asks for: frozen, declarative specs of assistants and their knowledge files.

A spec says how an assistant should look, never how to get there: ``plan`` compares specs with
what the server has, ``apply`` makes the difference. ``None`` for ``instructions`` or ``metadata``
means "not managed": whatever the server holds is left alone. Give ``""`` or ``{}`` to clear.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["AssistantSpec", "FileSpec"]


def _to_path(value: str | os.PathLike[str]) -> Path:
    return Path(value)


def _freeze_metadata(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    # A private copy: a spec must not change because the caller mutated their dict afterwards.
    return None if value is None else dict(value)


def _to_files(value: Iterable[FileSpec | str | os.PathLike[str]]) -> tuple[FileSpec, ...]:
    if isinstance(value, str | os.PathLike):
        # A lone path is a very common slip; a string is iterable and would become one file per
        # character.
        return (FileSpec(path=value),)
    return tuple(f if isinstance(f, FileSpec) else FileSpec(path=f) for f in value)


@attrs.frozen(kw_only=True)
class FileSpec:
    """A knowledge file an assistant should have.

    ``path`` is a local file (not a glob: fleet files expand globs before building specs). The
    file is known on the server by its base name; ``metadata`` is attached to the upload, together
    with the content hash that lets a re-run skip files that did not change (see
    :data:`aiopinecone.provision.HASH_METADATA_KEY`).
    """

    path: Path = attrs.field(converter=_to_path)
    metadata: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_freeze_metadata, hash=False
    )

    @property
    def name(self) -> str:
        """The file name the server knows the file by (the path's base name)."""
        return self.path.name


@attrs.frozen(kw_only=True)
class AssistantSpec:
    """The desired state of one assistant.

    ``region`` is used when the assistant is created; the server does not report it back, so an
    existing assistant is never moved. ``files`` are the assistant's knowledge files; files on the
    server that the spec does not list are only deleted when provisioning with ``prune=True``.
    """

    name: str
    instructions: str | None = None
    metadata: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_freeze_metadata, hash=False
    )
    region: str = "us"
    files: tuple[FileSpec, ...] = attrs.field(default=(), converter=_to_files)
