"""Fleet files: a YAML or JSON document describing many assistants, turned into specs.

The format (YAML shown; JSON has the same shape)::

    version: 1                      # optional; only 1 exists
    defaults:                       # optional; applied to every assistant
      region: us
      metadata: {owner: platform}   # merged under each assistant's metadata
      instructions: Be concise.     # or instructions_file: prompts/default.md
      files: [shared/*.md]          # added to every assistant's files
    assistants:
      - name: billing-support
        instructions_file: prompts/billing.md
        metadata: {team: billing}
        region: eu
        files:
          - docs/billing/*.md       # a path or a glob, relative to the fleet file
          - path: docs/billing/refunds.txt
            metadata: {kind: policy}

Everything is checked before anything is sent, and every problem is reported at once with the
file, the line and column, and the path inside the document (``assistants[3].files[0]``).
"""

from __future__ import annotations

import difflib
import glob as globlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
import orjson
import yaml

from .._validation import MAX_FIELD_BYTES
from ._check import check_specs
from ._errors import FleetError, FleetProblem
from ._specs import AssistantSpec, FileSpec

__all__ = ["Fleet", "load_fleet", "parse_fleet"]

DEFAULT_API_VERSION = "2025-10"

_TOP_KEYS = ("version", "defaults", "assistants")
_DEFAULT_KEYS = ("instructions", "instructions_file", "metadata", "region", "files")
_ASSISTANT_KEYS = ("name", *_DEFAULT_KEYS)
_FILE_KEYS = ("path", "metadata")
_GLOB_CHARS = frozenset("*?[")
_MAX_DEPTH = 64
_MAX_NODES = 250_000
"""Every alias is expanded (each copy has its own path and line marks): a few lines of nested
aliases can stand for billions of values. Far above any real fleet (10,000 assistants)."""
_MERGE_TAG = "tag:yaml.org,2002:merge"

Path_ = tuple[str | int, ...]


@attrs.frozen(kw_only=True)
class Fleet:
    """A loaded, validated fleet: the specs, in file order, and where they came from."""

    assistants: tuple[AssistantSpec, ...]
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.assistants)

    def __iter__(self) -> Iterator[AssistantSpec]:
        return iter(self.assistants)


def _fmt_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class _Doc:
    """A parsed document: its plain value plus the line/column of every node, by path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self.problems: list[FleetProblem] = []
        self.nodes = 0
        """YAML nodes walked so far (aliases count every time they are expanded)."""

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> None:
        """Record a problem at ``path``: its value's position, or its key's (``at_key``)."""
        mark = self.key_marks.get(path) if at_key else None
        if mark is None:
            mark = self.marks.get(path)
        # The nearest enclosing node with a mark is better than no line at all.
        probe = path
        while mark is None and probe:
            probe = probe[:-1]
            mark = self.marks.get(probe)
        self.problems.append(
            FleetProblem(
                message=message,
                path=_fmt_path(path),
                file=self.source,
                line=mark[0] if mark else None,
                column=mark[1] if mark else None,
            )
        )


class _TooManyNodes(Exception):
    pass


def _walk_yaml(loader: Any, node: yaml.Node, path: Path_, doc: _Doc, depth: int = 0) -> Any:
    doc.nodes += 1
    if doc.nodes > _MAX_NODES:
        raise _TooManyNodes
    doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if depth > _MAX_DEPTH:
        doc.problem(path, "nested too deeply")
        return None
    if isinstance(node, yaml.MappingNode):
        own = {id(pair[0]) for pair in node.value if pair[0].tag != _MERGE_TAG}
        loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys like safe_load does
        out: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, str | int | float | bool) and key is not None:
                doc.key_marks[(*path, "?")] = key_mark
                doc.problem(
                    (*path, "?"),
                    f"mapping key must be a string, got {type(key).__name__}",
                    at_key=True,
                )
                continue
            child: Path_ = (*path, str(key))
            if id(key_node) in own:
                # Written here: a second one is a mistake; a merged one (<<) is overridden.
                if key in explicit:
                    doc.key_marks[child] = key_mark
                    doc.problem(child, f"duplicate key {key!r}", at_key=True)
                    continue
                explicit.add(key)
            doc.key_marks[child] = key_mark
            out[key] = _walk_yaml(loader, value_node, child, doc, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk_yaml(loader, item, (*path, i), doc, depth + 1)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _yaml_loader() -> type[Any]:
    loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


def _parse_yaml(text: str, doc: _Doc) -> Any:
    loader = _yaml_loader()(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            doc.problems.append(
                FleetProblem(
                    message=f"invalid YAML: {exc.problem or exc.context or exc}",
                    file=doc.source,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            )
            return None
        except yaml.YAMLError as exc:
            doc.problems.append(FleetProblem(message=f"invalid YAML: {exc}", file=doc.source))
            return None
        if node is None:
            return None
        try:
            return _walk_yaml(loader, node, (), doc)
        except _TooManyNodes:
            doc.problems.append(
                FleetProblem(
                    message=f"the document expands to more than {_MAX_NODES} values: are YAML "
                    "aliases (*name) repeating large parts of it?",
                    file=doc.source,
                )
            )
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            doc.problems.append(
                FleetProblem(
                    message=f"invalid YAML value: {exc.problem or exc}",
                    file=doc.source,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            )
            return None
    finally:
        loader.dispose()


def _parse_json(text: str, doc: _Doc) -> Any:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        doc.problems.append(
            FleetProblem(
                message=f"invalid JSON: {exc.msg}",
                file=doc.source,
                line=exc.lineno,
                column=exc.colno,
            )
        )
        return None
    # JSON is (nearly) YAML: walking it as YAML gives line numbers and catches duplicate keys,
    # which orjson silently collapses. If the YAML reader disagrees, keep the JSON value.
    probe = _Doc(doc.source)
    try:
        walked = _parse_yaml(text, probe)
    except Exception:  # pragma: no cover - defensive: the marks are a bonus, not a need
        walked = None
    if not probe.problems and walked == value:
        doc.marks, doc.key_marks = probe.marks, probe.key_marks
    elif probe.problems and walked is not None:
        doc.marks, doc.key_marks = probe.marks, probe.key_marks
        doc.problems.extend(p for p in probe.problems if p.message.startswith("duplicate key"))
    return value


def _suggest(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"


def _check_keys(doc: _Doc, path: Path_, value: Mapping[Any, Any], allowed: Sequence[str]) -> None:
    for key in value:
        if key not in allowed:
            doc.problem(
                (*path, str(key)), f"unknown key {key!r}{_suggest(str(key), allowed)}", at_key=True
            )


def _expect(doc: _Doc, path: Path_, value: Any, kind: type | tuple[type, ...], what: str) -> bool:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        ok = False
    else:
        ok = isinstance(value, kind)
    if not ok:
        shown = "null" if value is None else type(value).__name__
        doc.problem(path, f"must be {what}, got {shown}")
    return ok


@attrs.define
class _FileSource:
    """Where a file spec came from, for pointing at it when the spec has a problem."""

    path: Path_


@attrs.define
class _Built:
    spec: AssistantSpec
    path: Path_
    files: list[Path_]


class _Builder:
    def __init__(self, doc: _Doc, base_dir: Path) -> None:
        self.doc = doc
        self.base_dir = base_dir

    def instructions(self, path: Path_, entry: Mapping[str, Any]) -> tuple[bool, str | None]:
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

    def metadata(self, path: Path_, entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
        value = entry.get("metadata")
        if value is None:
            return None
        if _expect(self.doc, (*path, "metadata"), value, dict, "a mapping"):
            return dict(value)
        return None

    def region(self, path: Path_, entry: Mapping[str, Any]) -> str | None:
        value = entry.get("region")
        if value is None:
            return None
        if _expect(self.doc, (*path, "region"), value, str, "a string"):
            return str(value)
        return None

    def files(self, path: Path_, entry: Mapping[str, Any]) -> list[tuple[FileSpec, Path_]]:
        value = entry.get("files")
        if value is None:
            return []
        where = (*path, "files")
        if not _expect(self.doc, where, value, list, "a list of paths or {path, metadata}"):
            return []
        out: list[tuple[FileSpec, Path_]] = []
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

    def _expand(self, path: Path_, pattern: str) -> list[Path]:
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


def _build(doc: _Doc, value: Any, base_dir: Path) -> list[_Built]:
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
    d_files: list[tuple[FileSpec, Path_]] = []
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

    built: list[_Built] = []
    for i, entry in enumerate(entries):
        path: Path_ = ("assistants", i)
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
        built.append(_Built(spec=spec, path=path, files=[p for _, p in files]))
    return built


def _fleet(doc: _Doc, value: Any, base_dir: Path, api_version: str, source: Path | None) -> Fleet:
    built = _build(doc, value, base_dir)
    specs = [b.spec for b in built]
    for issue in check_specs(specs, api_version=api_version):
        b = built[issue.index]
        if issue.file_index is not None:
            where = b.files[issue.file_index]
        elif issue.field:
            where = (*b.path, issue.field)
        else:
            where = b.path
        doc.problem(where, issue.message)
    if doc.problems:
        problems = sorted(doc.problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
        raise FleetError(problems, source=doc.source)
    return Fleet(assistants=tuple(specs), source=source)


Format = Literal["yaml", "json"]


def parse_fleet(
    text: str,
    *,
    base_dir: str | Path = ".",
    format: Format = "yaml",
    api_version: str = DEFAULT_API_VERSION,
    source: str = "<fleet>",
) -> Fleet:
    """Parse and validate a fleet document given as text; paths are relative to ``base_dir``.

    Raises :class:`FleetError` listing every problem found.
    """
    doc = _Doc(source)
    parse: Callable[[str, _Doc], Any] = _parse_json if format == "json" else _parse_yaml
    value = parse(text, doc)
    if doc.problems and value is None:
        raise FleetError(doc.problems, source=source)
    return _fleet(doc, value, Path(base_dir), api_version, None)


def load_fleet(path: str | Path, *, api_version: str = DEFAULT_API_VERSION) -> Fleet:
    """Load and validate a fleet file (``.yaml``/``.yml`` or ``.json``).

    Globs and relative paths in it are resolved against the fleet file's directory. Names are
    checked by the rules of ``api_version``. Raises :class:`FleetError` listing every problem
    (with file, line and path) — nothing has been sent when it does.
    """
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FleetError([FleetProblem(message="fleet file not found", file=source)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError(
            [FleetProblem(message=f"cannot read fleet file: {exc}", file=source)]
        ) from None
    fmt: Format = "json" if file.suffix.lower() == ".json" else "yaml"
    doc = _Doc(source)
    value = (_parse_json if fmt == "json" else _parse_yaml)(text, doc)
    if doc.problems and value is None:
        raise FleetError(doc.problems, source=source)
    return _fleet(doc, value, file.parent, api_version, file)
