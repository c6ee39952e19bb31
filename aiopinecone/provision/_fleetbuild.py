"""Fleet document -> specs: allowed keys, defaults merged into each assistant, globs expanded.

Works on the plain value a reader produced; every problem is recorded on the :class:`Doc` (with
the path it is about) and building goes on, so that one run reports all of them.
"""

from __future__ import annotations

import difflib
import glob as globlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._validation import MAX_FIELD_BYTES
from ._fleetdoc import Doc, DocPath
from ._specs import AssistantSpec, FileSpec

__all__ = ["Built", "build"]


def _spec_keys() -> tuple[str, ...]:
    # The keys of an assistant entry are the spec's fields, plus ``instructions_file`` (the
    # instructions read from a file) right after ``instructions``.
    keys: list[str] = []
    for field in attrs.fields(AssistantSpec):
        keys.append(field.name)
        if field.name == "instructions":
            keys.append("instructions_file")
    return tuple(keys)


_TOP_KEYS = ("version", "defaults", "assistants")
_ASSISTANT_KEYS = _spec_keys()
_DEFAULT_KEYS = tuple(k for k in _ASSISTANT_KEYS if k != "name")
_FILE_KEYS = tuple(f.name for f in attrs.fields(FileSpec))
_GLOB_CHARS = frozenset("*?[")


def _suggest(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"


def _check_keys(doc: Doc, path: DocPath, value: Mapping[Any, Any], allowed: Sequence[str]) -> None:
    for key in value:
        if key not in allowed:
            doc.problem(
                (*path, str(key)), f"unknown key {key!r}{_suggest(str(key), allowed)}", at_key=True
            )


def _expect(doc: Doc, path: DocPath, value: Any, kind: type | tuple[type, ...], what: str) -> bool:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        ok = False
    else:
        ok = isinstance(value, kind)
    if not ok:
        shown = "null" if value is None else type(value).__name__
        doc.problem(path, f"must be {what}, got {shown}")
    return ok


@attrs.define
class Built:
    spec: AssistantSpec
    path: DocPath
    files: list[DocPath]


class _Builder:
    def __init__(self, doc: Doc, base_dir: Path) -> None:
        self.doc = doc
        self.base_dir = base_dir

    def instructions(self, path: DocPath, entry: Mapping[str, Any]) -> tuple[bool, str | None]:
        """(given, value): whether this entry sets instructions, and to what."""
        has_text = "instructions" in entry
        has_file = "instructions_file" in entry
        if has_text and has_file:
            self.doc.problem(
                (*path, "instructions_file"),
                "give either instructions or instructions_file, not both",
            )
            return True, None
        if has_text:
            value = entry["instructions"]
            if value is None:
                return False, None
            if _expect(self.doc, (*path, "instructions"), value, str, "a string"):
                return True, value
            return True, None
        if has_file:
            where = (*path, "instructions_file")
            value = entry["instructions_file"]
            if not _expect(self.doc, where, value, str, "a path (string)"):
                return True, None
            file = self.base_dir / value
            try:
                # One byte past the limit is enough to know it is too big: never read a huge
                # file (or /dev/zero) whole.
                with file.open("rb") as handle:
                    raw = handle.read(MAX_FIELD_BYTES + 1)
                if len(raw) > MAX_FIELD_BYTES:
                    self.doc.problem(
                        where,
                        f"instructions file {file} is larger than {MAX_FIELD_BYTES} bytes, "
                        "the limit for instructions",
                    )
                    return True, None
                return True, raw.decode("utf-8")
            except FileNotFoundError:
                self.doc.problem(where, f"instructions file not found: {file}")
            except (OSError, UnicodeDecodeError) as exc:
                self.doc.problem(where, f"cannot read instructions file {file}: {exc}")
            return True, None
        return False, None

    def metadata(self, path: DocPath, entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
        value = entry.get("metadata")
        if value is None:
            return None
        if _expect(self.doc, (*path, "metadata"), value, dict, "a mapping"):
            return dict(value)
        return None

    def region(self, path: DocPath, entry: Mapping[str, Any]) -> str | None:
        value = entry.get("region")
        if value is None:
            return None
        if _expect(self.doc, (*path, "region"), value, str, "a string"):
            return str(value)
        return None

    def files(self, path: DocPath, entry: Mapping[str, Any]) -> list[tuple[FileSpec, DocPath]]:
        value = entry.get("files")
        if value is None:
            return []
        where = (*path, "files")
        if not _expect(self.doc, where, value, list, "a list of paths or {path, metadata}"):
            return []
        out: list[tuple[FileSpec, DocPath]] = []
        for i, item in enumerate(value):
            item_path = (*where, i)
            pattern: Any
            if isinstance(item, str):
                pattern, metadata = item, None
            elif isinstance(item, dict):
                _check_keys(self.doc, item_path, item, _FILE_KEYS)
                if "path" not in item:
                    self.doc.problem(item_path, "missing required key 'path'")
                    continue
                pattern = item["path"]
                if not _expect(self.doc, (*item_path, "path"), pattern, str, "a path (string)"):
                    continue
                metadata = item.get("metadata")
                if metadata is not None and not _expect(
                    self.doc, (*item_path, "metadata"), metadata, dict, "a mapping"
                ):
                    metadata = None
            else:
                shown = "null" if item is None else type(item).__name__
                self.doc.problem(item_path, f"must be a path or {{path, metadata}}, got {shown}")
                continue
            for file in self._expand(item_path, str(pattern)):
                out.append((FileSpec(path=file, metadata=metadata), item_path))
        return out

    def _expand(self, path: DocPath, pattern: str) -> list[Path]:
        if not pattern.strip():
            self.doc.problem(path, "empty path")
            return []
        full = Path(pattern) if Path(pattern).is_absolute() else self.base_dir / pattern
        if not _GLOB_CHARS & set(pattern):
            return [full]
        matches = sorted(
            Path(m) for m in globlib.glob(str(full), recursive=True) if Path(m).is_file()
        )
        if not matches:
            self.doc.problem(
                path, f"glob {pattern!r} matches no file (relative to {self.base_dir})"
            )
        return matches


def build(doc: Doc, value: Any, base_dir: Path) -> list[Built]:
    if value is None:
        doc.problem((), "the fleet file is empty (expected a mapping with 'assistants')")
        return []
    if not isinstance(value, dict):
        doc.problem(
            (), f"the fleet file must be a mapping with 'assistants', got {type(value).__name__}"
        )
        return []
    _check_keys(doc, (), value, _TOP_KEYS)
    version = value.get("version", 1)
    if version != 1 or isinstance(version, bool):
        doc.problem(("version",), f"unsupported fleet file version {version!r} (only 1 exists)")

    builder = _Builder(doc, base_dir)
    defaults = value.get("defaults") or {}
    d_given, d_instructions, d_metadata, d_region = False, None, None, None
    d_files: list[tuple[FileSpec, DocPath]] = []
    if _expect(doc, ("defaults",), defaults, dict, "a mapping"):
        _check_keys(doc, ("defaults",), defaults, _DEFAULT_KEYS)
        d_given, d_instructions = builder.instructions(("defaults",), defaults)
        d_metadata = builder.metadata(("defaults",), defaults)
        d_region = builder.region(("defaults",), defaults)
        d_files = builder.files(("defaults",), defaults)

    if "assistants" not in value:
        doc.problem(("assistants",), "missing required key 'assistants' (a list of assistants)")
        return []
    entries = value["assistants"]
    if entries is None:
        entries = []
    if not _expect(doc, ("assistants",), entries, list, "a list of assistants"):
        return []

    built: list[Built] = []
    for i, entry in enumerate(entries):
        path: DocPath = ("assistants", i)
        if not _expect(doc, path, entry, dict, "a mapping with at least 'name'"):
            continue
        _check_keys(doc, path, entry, _ASSISTANT_KEYS)
        name = entry.get("name")
        if "name" not in entry:
            doc.problem(path, "missing required key 'name'")
            continue
        if not _expect(doc, (*path, "name"), name, str, "a string"):
            continue
        given, instructions = builder.instructions(path, entry)
        if not given:
            instructions = d_instructions if d_given else None
        metadata = builder.metadata(path, entry)
        if d_metadata is not None:
            metadata = {**d_metadata, **(metadata or {})}
        region = builder.region(path, entry) or d_region or "us"
        files = d_files + builder.files(path, entry)
        spec = AssistantSpec(
            name=name,
            instructions=instructions,
            metadata=metadata,
            region=region,
            files=tuple(f for f, _ in files),
        )
        built.append(Built(spec=spec, path=path, files=[p for _, p in files]))
    return built
