"""Provisioning against the emulator: apply, idempotence, prune, resume, isolation, cancellation."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from aiopinecone import AsyncPinecone
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault
from aiopinecone.provision import (
    HASH_METADATA_KEY,
    AssistantSpec,
    FileSpec,
    FleetError,
    ProgressDisplay,
    RateLimits,
)
from aiopinecone.provision._files import sha256_file

KEY = "provision-key"
FAST: dict[str, Any] = {"poll_interval": (0.01, 0.05), "ready_estimate": 0.02}


@pytest.fixture
def docs(tmp_path: Path) -> list[Path]:
    paths = []
    for name, text in [
        ("faq.md", "# FAQ\nQ: Is it fast? A: Yes.\n"),
        ("guide.txt", "Step 1. Open the app.\n"),
        ("policy.md", "# Policy\nBe kind.\n"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    return paths


def fleet(docs: Sequence[Path], n: int = 4, prefix: str = "a") -> list[AssistantSpec]:
    return [
        AssistantSpec(
            name=f"{prefix}{i}",
            instructions=f"You are assistant {i}.",
            metadata={"team": f"t{i % 2}"},
            files=tuple(FileSpec(path=p, metadata={"n": i}) for p in docs[: 1 + i % 3]),
        )
        for i in range(n)
    ]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(
        api_keys=(KEY,), ready_delay=0.05, file_processing_delay=0.03, delete_delay=0.0
    ) as e:
        yield e


@pytest.fixture
async def pc(emu: Emulator) -> AsyncIterator[AsyncPinecone]:
    # 2025-10, where an upload is one POST (the faults below target it); 2026-04+ PUTs by id
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version="2025-10") as client:
        yield client


def server_state(emu: Emulator) -> dict[str, list[tuple[str, str | None, str]]]:
    """Assistant name -> sorted (file name, content hash, status) of every file."""
    out = {}
    for a in emu.store.list_assistants():
        files = emu.store.list_files(a.name)
        out[a.name] = sorted(
            (f.name, (f.metadata or {}).get(HASH_METADATA_KEY), f.status(emu.store.now()))
            for f in files
        )
    return out


def expected_state(specs: Sequence[AssistantSpec]) -> dict[str, list[tuple[str, str | None, str]]]:
    return {
        s.name: sorted((f.name, sha256_file(f.path), "Available") for f in s.files) for s in specs
    }


def writes_since(emu: Emulator, seq: int) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in emu.log.entries if e.seq > seq and e.method != "GET"]


async def test_plan_then_apply_then_noop(
    emu: Emulator, pc: AsyncPinecone, docs: list[Path]
) -> None:
    specs = fleet(docs)
    plan = await pc.assistants.plan(specs)
    assert [a.action for a in plan] == ["create"] * 4
    assert emu.log.count(method="POST") == 0  # planning sends no write

    report = await pc.assistants.provision(specs, **FAST)
    assert report.ok, report.summary_table()
    assert server_state(emu) == expected_state(specs)
    for spec in specs:
        record = emu.store.get_assistant(spec.name)
        assert (record.instructions, record.metadata) == (spec.instructions, spec.metadata)
        a = report[spec.name]
        assert a.actions[:2] == ("created", "ready")
        assert a.files_uploaded == len(spec.files)
    # Readiness came from list polls, never from describing each assistant.
    assert emu.log.count(method="GET", path="/assistant/assistants/{name}") == 0
    assert report.polls["readiness"] >= 1
    assert (
        emu.log.count(method="GET", path="/assistant/assistants") == report.polls["readiness"] + 2
    )  # + the plan() above and the plan inside provision()

    mark = emu.log.total
    again = await pc.assistants.provision(specs, **FAST)
    assert again.ok
    assert writes_since(emu, mark) == []  # the request log proves it: a no-op
    assert all(a.actions == () for a in again.assistants)
    plan = await pc.assistants.plan(specs)
    assert not plan.has_changes
    assert plan.render().endswith("Nothing to do.")


async def test_changes_are_applied_and_stale_files_replaced(
    emu: Emulator, pc: AsyncPinecone, docs: list[Path]
) -> None:
    specs = fleet(docs, n=3)
    assert (await pc.assistants.provision(specs, **FAST)).ok
    old_ids = {f.id for f in emu.store.list_files("a2") if f.name == "faq.md"}
    docs[0].write_text("# FAQ\nQ: Is it fast? A: Even faster now.\n")
    specs[1] = AssistantSpec(
        name="a1",
        instructions="New instructions.",
        metadata={"team": "x"},
        files=specs[1].files,
    )
    plan = await pc.assistants.plan(specs)
    kinds = {a.name: (a.action, [(f.kind, f.name) for f in a.file_changes]) for a in plan}
    assert kinds == {
        "a0": ("unchanged", [("replace", "faq.md")]),
        "a1": ("update", [("replace", "faq.md")]),
        "a2": ("unchanged", [("replace", "faq.md")]),
    }
    report = await pc.assistants.provision(specs, **FAST)
    assert report.ok, report.summary_table()
    assert server_state(emu) == expected_state(specs)
    assert not old_ids & {f.id for f in emu.store.list_files("a2")}
    assert emu.store.get_assistant("a1").instructions == "New instructions."
    assert report["a1"].actions[0] == "updated"
    assert report["a2"].files_deleted == 1


async def test_prune_deletes_only_when_asked(
    emu: Emulator, pc: AsyncPinecone, docs: list[Path]
) -> None:
    specs = fleet(docs, n=2)
    assert (await pc.assistants.provision(specs, **FAST)).ok
    emu.store.create_assistant("stray")
    emu.store.put_file("a1", name="extra.md", content=b"# extra\n")
    report = await pc.assistants.provision(specs, **FAST)
    assert report.ok
    assert "stray" in server_state(emu)
    assert "extra.md" in [f[0] for f in server_state(emu)["a1"]]

    plan = await pc.assistants.plan(specs, prune=True)
    assert [(a.name, a.action) for a in plan.by_action("delete")] == [("stray", "delete")]
    report = await pc.assistants.provision(specs, prune=True, **FAST)
    assert report.ok, report.summary_table()
    assert report["stray"].actions == ("deleted",)
    assert server_state(emu) == expected_state(specs)  # stray and extra.md are gone


async def test_one_failing_assistant_does_not_stop_the_others(
    emu: Emulator, pc: AsyncPinecone, docs: list[Path]
) -> None:
    specs = fleet(docs, n=4)
    emu.faults.script(
        "POST",
        "/assistant/files/a2",
        Fault.status(400, "INVALID_ARGUMENT", "this file is cursed"),
        repeat=True,
    )
    report = await pc.assistants.provision(specs, **FAST)
    assert not report.ok
    assert [a.name for a in report.failed] == ["a2"]
    assert report["a2"].error_type == "BadRequestError"
    assert "this file is cursed" in (report["a2"].error or "")
    state = server_state(emu)
    expected = expected_state(specs)
    for name in ("a0", "a1", "a3"):
        assert state[name] == expected[name]
    emu.faults.clear()
    report = await pc.assistants.provision(specs, **FAST)
    assert report.ok
    assert server_state(emu) == expected


async def test_blocked_and_failed_processing_are_reported(
    emu: Emulator, pc: AsyncPinecone, docs: list[Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("EMULATOR_FAIL_PROCESSING\n")
    emu.store.create_assistant("broken")
    emu.store.fail_assistant("broken")
    specs = [
        AssistantSpec(name="broken"),
        AssistantSpec(name="ok", files=(FileSpec(path=docs[0]),)),
        AssistantSpec(name="badfile", files=(FileSpec(path=bad),)),
    ]
    report = await pc.assistants.provision(specs, **FAST)
    outcomes = {a.name: (a.planned, a.outcome, a.error_type) for a in report.assistants}
    assert outcomes == {
        "broken": ("blocked", "failed", "BlockedError"),
        "ok": ("create", "ok", None),
        "badfile": ("create", "failed", "FileProcessingError"),
    }
    assert "Failed" in (report["broken"].error or "")


async def test_lost_create_response_is_reconciled_without_duplicates(
    emu: Emulator, pc: AsyncPinecone, docs: list[Path]
) -> None:
    specs = fleet(docs, n=3)
    emu.faults.script("POST", "/assistant/assistants", Fault.perform_then_status(503))
    emu.faults.script("POST", "/assistant/files/a1", Fault.drop_after())
    report = await pc.assistants.provision(specs, **FAST)
    assert report.ok, report.summary_table()
    assert server_state(emu) == expected_state(specs)  # exactly one copy of everything


async def test_invalid_specs_fail_before_any_request(emu: Emulator, pc: AsyncPinecone) -> None:
    specs = [AssistantSpec(name="Bad Name"), AssistantSpec(name="x", files=("/nope/missing.md",))]
    with pytest.raises(FleetError) as info:
        await pc.assistants.provision(specs)
    assert len(info.value.problems) == 2
    assert "specs[0].name (Bad Name)" in str(info.value)
    assert emu.log.total == 0


async def test_cancel_then_resume_converges_without_duplicates(
    emu: Emulator, docs: list[Path]
) -> None:
    specs = fleet(docs, n=8)
    # Slow uploads so that the cancellation lands in the middle of the run.
    emu.faults.script("POST", "/assistant/files/{name}", [Fault.delay(0.05)] * 100)
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version="2025-10") as pc:
        run = pc.assistants.provisioner(specs, **FAST)
        task = asyncio.ensure_future(run.apply())
        for _ in range(500):
            await asyncio.sleep(0.01)
            if emu.log.count(method="POST", path="/assistant/files/{name}") >= 4:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        report = run.report
        assert report.cancelled
        assert not report.ok
        outcomes = Counter(a.outcome for a in report.assistants)
        assert outcomes["cancelled"] >= 1
        assert set(outcomes) <= {"ok", "cancelled", "not_started"}
        # Every request of the run has ended: no connection is still in use.
        connector = pc.connector
        assert connector is not None
        assert len(connector._acquired) == 0
        # Cut in the middle: assistants were created, uploads were under way.
        assert any("created" in a.actions for a in report.assistants)
    emu.faults.clear()
    # The same API version as the cut run: its uploads are POSTs too, counted below.
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version="2025-10") as pc:
        report = await pc.assistants.provision(specs, **FAST)
        assert report.ok, report.summary_table()
    assert server_state(emu) == expected_state(specs)
    total_uploads = emu.log.count(method="POST", path="/assistant/files/{name}", status=200)
    assert total_uploads == sum(len(s.files) for s in specs)  # nothing uploaded twice


async def test_rate_limited_run_stays_under_the_server_limits(docs: list[Path]) -> None:
    # Starter limits with a "minute" of 0.6 s; the client learns them (adaptive).
    async with Emulator(
        api_keys=(KEY,), rate_limits="starter", time_scale=0.01, ready_delay=0.02
    ) as emu:
        specs = [AssistantSpec(name=f"r{i}", files=(FileSpec(path=docs[0]),)) for i in range(12)]
        progress = ProgressDisplay(__import__("io").StringIO(), tty=False)
        async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
            report = await pc.assistants.provision(
                specs,
                rate_preset=RateLimits.preset("adaptive", window=0.6),
                progress=progress,
                **FAST,
            )
        assert report.ok, report.summary_table()
        counters = emu.limiter.snapshot()["classes"]
        assert isinstance(counters, dict)
        rejected = sum(c["rejected"] for c in counters.values())
        accepted = sum(c["accepted"] for c in counters.values())
        assert rejected <= 0.1 * accepted
        assert report.counts()["rate_limited"] == rejected
        assert progress.counts("upload") == (12, 12, 0)
        assert progress.counts("create") == (12, 12, 0)


@pytest.mark.parametrize("api_version", ["2025-04", "2026-04"])
async def test_other_api_versions_converge_too(
    emu: Emulator, docs: list[Path], api_version: str
) -> None:
    specs = fleet(docs, n=3)
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=api_version) as pc:
        report = await pc.assistants.provision(specs, **FAST)
        assert report.ok, report.summary_table()
        assert server_state(emu) == expected_state(specs)
        docs[1].write_text("Step 1. Open the new app.\n")
        report = await pc.assistants.provision(specs, **FAST)
        assert report.ok, report.summary_table()
        assert server_state(emu) == expected_state(specs)
        mark = emu.log.total
        report = await pc.assistants.provision(specs, **FAST)
        assert report.ok
        assert writes_since(emu, mark) == []


@pytest.mark.parametrize(
    ("api_version", "method", "path"),
    [
        # 2026-04: the PUT lands; the describe_file that follows it in the same call gets a 429.
        ("2026-04", "GET", "/assistant/files/{name}/{file_id}"),
        # 2025-10: the POST lands, its answer is lost; the list that looks for it gets a 429.
        ("2025-10", "GET", "/assistant/files/{name}"),
    ],
)
async def test_a_429_after_a_landed_upload_does_not_send_it_again(
    emu: Emulator, docs: list[Path], api_version: str, method: str, path: str
) -> None:
    emu.store.create_assistant("once")
    if api_version == "2025-10":
        emu.faults.script("POST", "/assistant/files/once", Fault.perform_then_status(500))
    emu.faults.script(method, path, Fault.status(429, retry_after=0.05))
    spec = AssistantSpec(name="once", files=(FileSpec(path=docs[0]),))
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=api_version) as pc:
        report = await pc.assistants.provision([spec], **FAST)
    assert report.ok, report.summary_table()
    assert report["once"].rate_limited == 1
    assert server_state(emu) == expected_state([spec])
    writes = [e for e in emu.log.entries if e.method in ("POST", "PUT")]
    assert len(writes) == 1, writes
    assert report["once"].files_deleted == 0
