"""The plan is a pure function of desired specs and the server's state; its rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiopinecone.models.assistants import Assistant
from aiopinecone.models.files import AssistantFile
from aiopinecone.provision import (
    HASH_METADATA_KEY,
    AssistantSpec,
    FileSpec,
    make_plan,
    plan_files,
)

SHA_A = "a" * 64
SHA_B = "b" * 64


def assistant(name: str, status: str = "Ready", **kw: Any) -> Assistant:
    return Assistant(name=name, status=status, **kw)


def server_file(
    fid: str, name: str, sha: str | None, status: str = "Available", **meta: Any
) -> AssistantFile:
    metadata = dict(meta)
    if sha is not None:
        metadata[HASH_METADATA_KEY] = sha
    return AssistantFile(id=fid, name=name, status=status, metadata=metadata)


FAQ = FileSpec(path=Path("/docs/faq.md"), metadata={"kind": "faq"})
GUIDE = FileSpec(path=Path("/docs/guide.md"))
DIGESTS = {FAQ.path: SHA_A, GUIDE.path: SHA_B}


def test_new_assistants_are_created_with_all_their_files() -> None:
    spec = AssistantSpec(name="new", instructions="hi", files=(FAQ, GUIDE))
    plan = make_plan([spec], [], digests=DIGESTS)
    (a,) = plan.assistants
    assert a.action == "create"
    assert [(f.kind, f.name, f.sha256) for f in a.files] == [
        ("upload", "faq.md", SHA_A),
        ("upload", "guide.md", SHA_B),
    ]
    assert plan.has_changes
    assert plan.counts()["create"] == 1
    assert plan.counts()["files_upload"] == 2


def test_update_only_for_managed_fields_that_differ() -> None:
    specs = [
        AssistantSpec(name="same", instructions="x", metadata={"t": 1}),
        AssistantSpec(name="unmanaged"),  # None = leave the server's values alone
        AssistantSpec(name="changed", instructions="new", metadata={"t": 2, "add": True}),
        AssistantSpec(name="cleared", instructions="", metadata={}),
    ]
    actual = [
        assistant("same", instructions="x", metadata={"t": 1}),
        assistant("unmanaged", instructions="whatever", metadata={"z": 0}),
        assistant("changed", instructions="old", metadata={"t": 1, "gone": 1}),
        assistant("cleared", instructions=None, metadata={"k": "v"}),
    ]
    plan = make_plan(specs, actual, digests={})
    got = {a.name: (a.action, [c.field for c in a.changes]) for a in plan.assistants}
    assert got == {
        "same": ("unchanged", []),
        "unmanaged": ("unchanged", []),
        "changed": ("update", ["instructions", "metadata.add", "metadata.gone", "metadata.t"]),
        "cleared": ("update", ["metadata.k"]),
    }


def test_files_of_existing_assistants_need_their_listing() -> None:
    spec = AssistantSpec(name="a", files=(FAQ,))
    plan = make_plan([spec], [assistant("a")], digests=DIGESTS)
    (a,) = plan.assistants
    assert a.action == "unchanged"
    assert not a.files_known
    assert a.has_changes  # the files still have to be checked


def test_file_rule_name_plus_hash_plus_metadata() -> None:
    listed = [
        server_file("f1", "faq.md", SHA_A, kind="faq"),  # exact match: unchanged
        server_file("g1", "guide.md", "0" * 64),  # stale content: replace
        server_file("x1", "extra.md", SHA_A),  # not in the spec: only pruned
    ]
    actions = plan_files([FAQ, GUIDE], DIGESTS, listed)
    assert [(a.kind, a.name, a.delete_ids) for a in actions] == [
        ("unchanged", "faq.md", ()),
        ("replace", "guide.md", ("g1",)),
    ]
    pruned = plan_files([FAQ, GUIDE], DIGESTS, listed, prune=True)
    assert (pruned[-1].kind, pruned[-1].name, pruned[-1].delete_ids) == (
        "delete",
        "extra.md",
        ("x1",),
    )


def test_changed_metadata_or_foreign_upload_replaces() -> None:
    listed = [server_file("f1", "faq.md", SHA_A, kind="other")]
    (action,) = plan_files([FAQ], DIGESTS, listed)
    assert (action.kind, action.delete_ids) == ("replace", ("f1",))
    listed = [server_file("f1", "faq.md", None, kind="faq")]  # uploaded by hand, no hash
    (action,) = plan_files([FAQ], DIGESTS, listed)
    assert action.kind == "replace"


def test_duplicates_are_cleaned_keeping_an_available_copy() -> None:
    listed = [
        server_file("p", "faq.md", SHA_A, status="Processing", kind="faq"),
        server_file("ok", "faq.md", SHA_A, kind="faq"),
        server_file("old", "faq.md", "0" * 64, kind="faq"),
        server_file("gone", "faq.md", SHA_A, status="Deleting", kind="faq"),
    ]
    (action,) = plan_files([FAQ], DIGESTS, listed)
    assert action.kind == "cleanup"
    assert action.delete_ids == ("p", "old")
    assert not action.pending


def test_processing_copy_is_kept_and_awaited() -> None:
    listed = [server_file("p", "faq.md", SHA_A, status="Processing", kind="faq")]
    (action,) = plan_files([FAQ], DIGESTS, listed)
    assert (action.kind, action.pending) == ("unchanged", True)


def test_failed_processing_is_retried_by_replacement() -> None:
    listed = [server_file("bad", "faq.md", SHA_A, status="ProcessingFailed", kind="faq")]
    (action,) = plan_files([FAQ], DIGESTS, listed)
    assert (action.kind, action.delete_ids) == ("replace", ("bad",))
    assert "failed" in action.reason


@pytest.mark.parametrize("status", ["Failed", "InitializationFailed", "Terminating"])
def test_assistants_in_dead_states_are_blocked(status: str) -> None:
    plan = make_plan([AssistantSpec(name="a")], [assistant("a", status)], digests={})
    (a,) = plan.assistants
    assert a.action == "blocked"
    assert status in a.reason


def test_prune_deletes_unlisted_assistants_but_not_terminating_ones() -> None:
    actual = [assistant("keep"), assistant("old"), assistant("dying", "Terminating")]
    specs = [AssistantSpec(name="keep")]
    assert [a.action for a in make_plan(specs, actual, digests={})] == ["unchanged"]
    plan = make_plan(specs, actual, digests={}, prune=True)
    assert [(a.name, a.action) for a in plan] == [("keep", "unchanged"), ("old", "delete")]
    # With prune, an existing assistant's files must be listed even if the spec has none.
    assert not plan.assistants[0].files_known


def test_initializing_assistant_waits_for_its_files() -> None:
    spec = AssistantSpec(name="a", files=(FAQ,))
    plan = make_plan([spec], [assistant("a", "Initializing")], digests=DIGESTS)
    (a,) = plan.assistants
    assert (a.action, a.files_known, a.status) == ("unchanged", False, "Initializing")


def test_no_op_plan_and_rendering() -> None:
    spec = AssistantSpec(name="a", instructions="x", files=(FAQ,))
    listed = {"a": [server_file("f1", "faq.md", SHA_A, kind="faq")]}
    plan = make_plan([spec], [assistant("a", instructions="x")], files=listed, digests=DIGESTS)
    assert not plan.has_changes
    text = plan.render()
    assert "(1 unchanged assistant not shown)" in text
    assert text.endswith("Nothing to do.")
    assert "= unchanged a" in plan.render(verbose=True)


def test_render_shows_a_readable_diff() -> None:
    specs = [
        AssistantSpec(name="billing", region="eu", files=(FAQ, GUIDE)),
        AssistantSpec(name="support", instructions="Be kind.", metadata={"team": "b"}),
        AssistantSpec(name="docs", files=(FAQ, GUIDE)),
    ]
    actual = [
        assistant("support", instructions="Be nice.", metadata={"team": "a"}),
        assistant("docs"),
        assistant("legacy"),
    ]
    files = {
        "docs": [
            server_file("1", "faq.md", SHA_A, kind="faq"),
            server_file("2", "guide.md", "0" * 64),
            server_file("3", "old.txt", "1" * 64),
        ]
    }
    plan = make_plan(specs, actual, files=files, digests=DIGESTS, prune=True)
    text = plan.render()
    lines = text.splitlines()
    assert lines[0] == "Plan for 4 assistants (prune on):"
    assert "+ create    billing  region eu; 2 files" in lines
    assert (
        '~ update    support  instructions: "Be nice." -> "Be kind."; '
        'metadata.team: "a" -> "b"; files not listed yet' in lines
    )
    assert "    ~ replace   guide.md  (content or metadata changed; removes 1 server copy)" in lines
    assert "    - delete    old.txt  (not in the fleet; removes 1 server copy)" in lines
    assert "- delete    legacy   not in the fleet" in lines
    assert lines[-1] == (
        "Plan: 1 to create, 1 to update, 1 unchanged, 1 to delete; files: 2 to upload, "
        "1 to replace, 0 to clean up, 1 to delete (files of 1 assistant checked once listed)."
    )
