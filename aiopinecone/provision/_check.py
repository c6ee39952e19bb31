"""Checks on specs that need no server: names, regions, metadata, local files, duplicates.

One function returns every issue it finds, each tied to the spec (and file) it is about, so that
the fleet loader can point at the exact line of the fleet file and ``provision`` can refuse a list
of specs before sending anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .._upload_checks import MAX_METADATA_BYTES
from .._validation import check_assistant_name, check_instructions, check_json_object, check_region
from ..exceptions import ValidationError
from ._files import HASH_METADATA_KEY, check_local_file, upload_metadata
from ._specs import AssistantSpec

__all__ = ["SpecIssue", "check_specs"]


@attrs.frozen
class SpecIssue:
    """A problem with ``specs[index]``; ``field`` names the attribute, ``file_index`` the file."""

    index: int
    field: str
    message: str
    file_index: int | None = None


def check_specs(specs: Sequence[AssistantSpec], *, api_version: str) -> list[SpecIssue]:
    """Every problem with ``specs`` that can be found without asking the server."""
    issues: list[SpecIssue] = []
    first_index: dict[str, int] = {}
    items: Sequence[object] = specs  # callers may pass anything; check before trusting it
    for index, spec in enumerate(items):
        if not isinstance(spec, AssistantSpec):
            issues.append(SpecIssue(index, "", f"expected an AssistantSpec, got {spec!r}"))
            continue
        try:
            check_assistant_name(spec.name, api_version)
        except ValidationError as exc:
            issues.append(SpecIssue(index, "name", str(exc)))
        if spec.name in first_index:
            issues.append(
                SpecIssue(
                    index,
                    "name",
                    f"duplicate assistant name {spec.name!r} "
                    f"(first used by assistant #{first_index[spec.name] + 1})",
                )
            )
        else:
            first_index[spec.name] = index
        try:
            check_region(spec.region)
        except ValidationError as exc:
            issues.append(SpecIssue(index, "region", str(exc)))
        if spec.instructions is not None:
            try:
                check_instructions(spec.instructions)
            except ValidationError as exc:
                issues.append(SpecIssue(index, "instructions", str(exc)))
        if spec.metadata is not None:
            try:
                check_json_object(spec.metadata)
            except ValidationError as exc:
                issues.append(SpecIssue(index, "metadata", str(exc)))
        issues.extend(_check_files(index, spec))
    return issues


def _check_files(index: int, spec: AssistantSpec) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    seen: dict[str, int] = {}
    for file_index, file in enumerate(spec.files):
        problem = check_local_file(file.path)
        if problem:
            issues.append(SpecIssue(index, "files", problem, file_index))
        if file.metadata is not None and HASH_METADATA_KEY in file.metadata:
            issues.append(
                SpecIssue(
                    index,
                    "files",
                    f"metadata key {HASH_METADATA_KEY!r} is reserved for the content hash",
                    file_index,
                )
            )
        else:
            try:
                check_json_object(
                    upload_metadata(file.metadata, "0" * 64),
                    field="file metadata (with the content hash)",
                    max_bytes=MAX_METADATA_BYTES,
                )
            except ValidationError as exc:
                issues.append(SpecIssue(index, "files", str(exc), file_index))
        if file.name in seen:
            other = spec.files[seen[file.name]].path
            issues.append(
                SpecIssue(
                    index,
                    "files",
                    f"two files named {file.name!r} ({other} and {file.path}): the server knows "
                    "a file by its name, so each name may appear once per assistant",
                    file_index,
                )
            )
        else:
            seen[file.name] = file_index
    return issues
