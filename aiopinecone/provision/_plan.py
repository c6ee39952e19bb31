"""The plan: desired specs against what the server has, as a list of actions. Pure functions only.

``make_plan`` reads nothing and sends nothing: the caller gives it the specs, the assistants the
server listed, the files listed per assistant (only where they were needed) and the content hash of
every local file. The same inputs always give the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs

from ..models.assistants import AssistantStatus
from ..models.files import FileStatus
from ._files import as_sent, is_same_file
from ._render import MISSING, render_plan
from ._specs import AssistantSpec, FileSpec

__all__ = [
    "ActualAssistant",
    "ActualFile",
    "AssistantPlan",
    "Change",
    "FileAction",
    "Plan",
    "make_plan",
    "needs_file_listing",
    "plan_files",
]

AssistantActionKind = Literal["create", "update", "unchanged", "delete", "blocked"]
FileActionKind = Literal["upload", "replace", "unchanged", "cleanup", "delete"]


class ActualAssistant(Protocol):
    """What the plan needs of an assistant the server listed (the client's model fits)."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def instructions(self) -> str | None: ...
    @property
    def metadata(self) -> Mapping[str, Any] | None: ...


class ActualFile(Protocol):
    """What the plan needs of a file the server listed (the client's model fits)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str | None: ...
    @property
    def metadata(self) -> Mapping[str, Any] | None: ...


@attrs.frozen
class Change:
    """One field that differs: ``field`` is ``instructions`` or ``metadata.<key>``."""

    field: str
    old: Any
    new: Any


@attrs.frozen(kw_only=True)
class FileAction:
    """What to do about one file name of one assistant.

    ``upload`` (absent on the server), ``replace`` (present but stale: upload, then delete
    ``delete_ids``), ``unchanged`` (a matching copy exists; ``pending`` when it is still
    processing), ``cleanup`` (a matching copy exists, extra copies in ``delete_ids`` go), ``delete``
    (not in the spec; only planned with ``prune``).
    """

    kind: FileActionKind
    name: str
    spec: FileSpec | None = None
    sha256: str | None = None
    delete_ids: tuple[str, ...] = ()
    pending: bool = False
    reason: str = ""

    @property
    def uploads(self) -> bool:
        """Whether this action uploads the local file."""
        return self.kind in ("upload", "replace")


@attrs.frozen(kw_only=True)
class AssistantPlan:
    """What to do about one assistant.

    ``files_known`` is false when the assistant's files could not be listed yet (it is not Ready):
    apply lists them once it is and plans its files then, with :func:`plan_files`.
    """

    name: str
    action: AssistantActionKind
    spec: AssistantSpec | None = None
    status: str | None = None
    changes: tuple[Change, ...] = ()
    files: tuple[FileAction, ...] = ()
    files_known: bool = True
    reason: str = ""

    @property
    def file_changes(self) -> tuple[FileAction, ...]:
        """The file actions that send something (everything but plain ``unchanged``)."""
        return tuple(f for f in self.files if f.kind != "unchanged")

    @property
    def has_changes(self) -> bool:
        """Whether applying this plan sends any write for this assistant."""
        return (
            self.action in ("create", "update", "delete")
            or bool(self.file_changes)
            or (not self.files_known and self.action != "blocked")
        )


@attrs.frozen(kw_only=True)
class Plan:
    """The actions that bring the server to the fleet, in fleet order (deletions last)."""

    assistants: tuple[AssistantPlan, ...]
    prune: bool = False

    def __iter__(self) -> Any:
        return iter(self.assistants)

    def __len__(self) -> int:
        return len(self.assistants)

    def by_action(self, action: AssistantActionKind) -> tuple[AssistantPlan, ...]:
        """The assistants planned for ``action``."""
        return tuple(a for a in self.assistants if a.action == action)

    @property
    def has_changes(self) -> bool:
        """Whether applying the plan would send any write."""
        return any(a.has_changes for a in self.assistants)

    def counts(self) -> dict[str, int]:
        """How many assistants per action and files per file action (``files_<kind>``)."""
        out: dict[str, int] = dict.fromkeys(
            ("create", "update", "unchanged", "delete", "blocked"), 0
        )
        for kind in ("upload", "replace", "cleanup", "delete"):
            out[f"files_{kind}"] = 0
        out["files_unknown"] = 0
        for a in self.assistants:
            out[a.action] += 1
            if not a.files_known:
                out["files_unknown"] += 1
            for f in a.file_changes:
                out[f"files_{f.kind}"] += 1
        return out

    def summary(self) -> str:
        """One line: what the plan does, in numbers."""
        c = self.counts()
        head = (
            f"{c['create']} to create, {c['update']} to update, {c['unchanged']} unchanged, "
            f"{c['delete']} to delete"
        )
        if c["blocked"]:
            head += f", {c['blocked']} blocked"
        files = (
            f"files: {c['files_upload']} to upload, {c['files_replace']} to replace, "
            f"{c['files_cleanup']} to clean up, {c['files_delete']} to delete"
        )
        if c["files_unknown"]:
            n = c["files_unknown"]
            files += f" (files of {n} assistant{'s' if n != 1 else ''} checked once listed)"
        return f"Plan: {head}; {files}."

    def render(self, *, verbose: bool = False, width: int | None = None) -> str:
        """The plan as a readable diff; unchanged assistants are listed only when ``verbose``;
        lines longer than ``width`` (e.g. the terminal's) are wrapped."""
        return render_plan(self, verbose=verbose, width=width)


def _same_instructions(spec: AssistantSpec, actual: ActualAssistant) -> bool:
    return spec.instructions is None or spec.instructions == (actual.instructions or "")


def assistant_changes(spec: AssistantSpec, actual: ActualAssistant) -> tuple[Change, ...]:
    """The managed fields of ``spec`` that differ from ``actual``."""
    changes: list[Change] = []
    if not _same_instructions(spec, actual):
        changes.append(Change("instructions", actual.instructions, spec.instructions))
    if spec.metadata is not None:
        old = dict(actual.metadata or {})
        new = dict(spec.metadata)
        sent = as_sent(new)
        for key in sorted(old.keys() | new.keys()):
            if old.get(key, MISSING) != sent.get(key, MISSING):
                changes.append(
                    Change(f"metadata.{key}", old.get(key, MISSING), new.get(key, MISSING))
                )
    return tuple(changes)


def _preferred(files: Sequence[ActualFile]) -> ActualFile:
    for file in files:
        if file.status == FileStatus.AVAILABLE:
            return file
    return files[0]


def plan_files(
    desired: Sequence[FileSpec],
    digests: Mapping[Path, str],
    actual: Iterable[ActualFile] | None,
    *,
    prune: bool = False,
) -> tuple[FileAction, ...]:
    """File actions for one assistant; ``actual=None`` means it has no files (just created)."""
    by_name: dict[str, list[ActualFile]] = {}
    for file in actual or ():
        if file.status == FileStatus.DELETING:
            continue  # already going away: neither a match nor something to delete
        by_name.setdefault(file.name, []).append(file)

    actions: list[FileAction] = []
    for spec in desired:
        sha = digests[spec.path]
        present = by_name.pop(spec.name, [])
        matching = [
            f
            for f in present
            if f.status != FileStatus.PROCESSING_FAILED
            and is_same_file(f.name, f.metadata, spec, sha)
        ]
        if not present:
            actions.append(FileAction(kind="upload", name=spec.name, spec=spec, sha256=sha))
        elif not matching:
            stale = tuple(f.id for f in present)
            failed = any(f.status == FileStatus.PROCESSING_FAILED for f in present)
            reason = (
                "previous upload failed processing" if failed else "content or metadata changed"
            )
            actions.append(
                FileAction(
                    kind="replace",
                    name=spec.name,
                    spec=spec,
                    sha256=sha,
                    delete_ids=stale,
                    reason=reason,
                )
            )
        else:
            keep = _preferred(matching)
            extra = tuple(f.id for f in present if f is not keep)
            actions.append(
                FileAction(
                    kind="cleanup" if extra else "unchanged",
                    name=spec.name,
                    spec=spec,
                    sha256=sha,
                    delete_ids=extra,
                    pending=keep.status != FileStatus.AVAILABLE,
                    reason=f"{len(extra)} extra or stale copies" if extra else "",
                )
            )
    if prune:
        for name in sorted(by_name):
            actions.append(
                FileAction(
                    kind="delete",
                    name=name,
                    delete_ids=tuple(f.id for f in by_name[name]),
                    reason="not in the fleet",
                )
            )
    return tuple(actions)


def needs_file_listing(spec: AssistantSpec, actual: ActualAssistant, *, prune: bool) -> bool:
    """Whether planning this existing assistant needs its file list (and can get it now)."""
    return actual.status == AssistantStatus.READY and (bool(spec.files) or prune)


def make_plan(
    specs: Sequence[AssistantSpec],
    actual: Iterable[ActualAssistant],
    *,
    files: Mapping[str, Sequence[ActualFile]] | None = None,
    digests: Mapping[Path, str],
    prune: bool = False,
) -> Plan:
    """Compare desired ``specs`` with the server's ``actual`` assistants.

    ``files`` maps assistant names to their listed files; an existing assistant whose files are
    needed but absent from it gets ``files_known=False``. ``digests`` maps every spec file path to
    its SHA-256. With ``prune``, assistants and files absent from the specs are deleted.
    """
    files = files or {}
    existing = {a.name: a for a in actual}
    wanted = {s.name for s in specs}
    plans: list[AssistantPlan] = []
    for spec in specs:
        current = existing.get(spec.name)
        if current is None:
            plans.append(
                AssistantPlan(
                    name=spec.name,
                    action="create",
                    spec=spec,
                    files=plan_files(spec.files, digests, None),
                )
            )
            continue
        if current.status in AssistantStatus.TERMINAL_FAILURES:
            plans.append(
                AssistantPlan(
                    name=spec.name,
                    action="blocked",
                    spec=spec,
                    status=current.status,
                    reason=f"the assistant is {current.status}: delete it (or wait until it is "
                    "gone) and run again",
                )
            )
            continue
        changes = assistant_changes(spec, current)
        listed = files.get(spec.name)
        need_files = bool(spec.files) or prune
        if need_files and listed is not None:
            file_actions, known = plan_files(spec.files, digests, listed, prune=prune), True
        else:
            file_actions, known = (), not need_files
        plans.append(
            AssistantPlan(
                name=spec.name,
                action="update" if changes else "unchanged",
                spec=spec,
                status=current.status,
                changes=changes,
                files=file_actions,
                files_known=known,
            )
        )
    if prune:
        for name, current in sorted(existing.items()):
            if name in wanted or current.status == AssistantStatus.TERMINATING:
                continue
            plans.append(
                AssistantPlan(
                    name=name, action="delete", status=current.status, reason="not in the fleet"
                )
            )
    return Plan(assistants=tuple(plans), prune=prune)
