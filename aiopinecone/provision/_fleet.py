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

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import attrs
import orjson
import yaml

from .._validation import DEFAULT_API_VERSION as _DEFAULT_VERSION
from ._check import check_specs
from ._errors import FleetError, FleetProblem
from ._fleetbuild import build
from ._fleetdoc import Doc, DocPath
from ._specs import AssistantSpec

__all__ = ["Fleet", "load_fleet", "parse_fleet"]

DEFAULT_API_VERSION = _DEFAULT_VERSION

_MAX_DEPTH = 64
_MAX_NODES = 250_000
"""Every alias is expanded (each copy has its own path and line marks): a few lines of nested
aliases can stand for billions of values. Far above any real fleet (10,000 assistants)."""
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@attrs.frozen(kw_only=True)
class Fleet:
    """A loaded, validated fleet: the specs, in file order, and where they came from."""

    assistants: tuple[AssistantSpec, ...]
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.assistants)

    def __iter__(self) -> Iterator[AssistantSpec]:
        return iter(self.assistants)


class _TooManyNodes(Exception):
    pass


def _walk_yaml(loader: Any, node: yaml.Node, path: DocPath, doc: Doc, depth: int = 0) -> Any:
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
            child: DocPath = (*path, str(key))
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
    if node.tag == _TIMESTAMP_TAG:
        # YAML reads an unquoted 2024-01-01 as a date, which JSON (and the server) has not.
        doc.problem(
            path, f"{node.value} is read as a date, not a JSON value (quote it to make it a string)"
        )
        return node.value
    return loader.construct_object(node, deep=True)


def _yaml_loader() -> type[Any]:
    loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


def _parse_yaml(text: str, doc: Doc) -> Any:
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


def _parse_json(text: str, doc: Doc) -> Any:
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
    probe = Doc(doc.source)
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


def _fleet(doc: Doc, value: Any, base_dir: Path, api_version: str, source: Path | None) -> Fleet:
    built = build(doc, value, base_dir)
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
    doc = Doc(source)
    parse: Callable[[str, Doc], Any] = _parse_json if format == "json" else _parse_yaml
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
    doc = Doc(source)
    value = (_parse_json if fmt == "json" else _parse_yaml)(text, doc)
    if doc.problems and value is None:
        raise FleetError(doc.problems, source=source)
    return _fleet(doc, value, file.parent, api_version, file)
