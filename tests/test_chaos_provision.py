"""Chaos: provision a fleet of 200 assistants (with files) while the emulator misbehaves.

The emulator injects a seeded mix of 429s (with and without ``Retry-After``), 500/502/503,
lost responses (performed, then 500), connections dropped before and after the request is
performed, and slow answers. Afterwards the emulator's state must equal the fleet exactly (no
missing, duplicated or half-configured assistant or file) and the report must tell the truth.

Seeds: three by default, one per API version. ``AIOPINECONE_CHAOS_SEEDS=20`` runs seeds 1-20,
``AIOPINECONE_CHAOS_SEEDS=7,42`` runs those. The fault a request gets is a pure function of
the seed, its method and path and how many requests chaos saw on that path before it; a
failure message names the seed and the command that replays it (concurrency can reorder
requests on one path, so a replay is likely, not certain, to take the same turns).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from aiopinecone import AsyncPinecone, RetryPolicy, set_retry_testing
from aiopinecone.emulator import Emulator, LogEntry, Store
from aiopinecone.provision import HASH_METADATA_KEY, AssistantSpec, FileSpec, ProvisionReport

KEY = "chaos-key"
FLEET_SIZE = 200
VERSIONS = ("2025-10", "2026-04", "2025-04")
pytestmark = pytest.mark.slow


def _seeds() -> list[int]:
    raw = os.environ.get("AIOPINECONE_CHAOS_SEEDS", "3").strip()
    if "," in raw:
        return [int(s) for s in raw.split(",") if s.strip()]
    return list(range(1, int(raw) + 1))


SEEDS = _seeds()


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    set_retry_testing(True)
    try:
        yield
    finally:
        set_retry_testing(False)


def make_fleet(seed: int, root: Path, size: int = FLEET_SIZE) -> list[AssistantSpec]:
    """``size`` assistants; each gets 0-2 of 12 small documents, metadata and instructions."""
    rnd = random.Random(seed)
    docs = []
    for i in range(12):
        path = root / f"doc-{i:02d}.{'md' if i % 2 else 'txt'}"
        path.write_text(f"Document {i} (seed {seed}): refunds take {i + 2} days.\n")
        docs.append(path)
    return [
        AssistantSpec(
            name=f"chaos-{seed}-{i:03d}",
            instructions=f"You are assistant {i}. Be brief.",
            metadata={"team": rnd.choice(["billing", "support", "sales"]), "n": i},
            region=rnd.choice(["us", "eu"]),
            files=[
                FileSpec(path=p, metadata={"doc": p.stem} if rnd.random() < 0.5 else None)
                for p in rnd.sample(docs, rnd.randint(0, 2))
            ],
        )
        for i in range(size)
    ]


def differences(
    store: Store, fleet: list[AssistantSpec], only: set[str] | None = None
) -> list[str]:
    """Every way the emulator's state differs from the fleet (empty: identical)."""
    problems: list[str] = []
    wanted = {s.name: s for s in fleet}
    present = {a.name: a for a in store.list_assistants()}
    problems += [f"missing assistant {n}" for n in sorted(wanted.keys() - present.keys())]
    problems += [f"unexpected assistant {n}" for n in sorted(present.keys() - wanted.keys())]
    for name, spec in wanted.items():
        record = present.get(name)
        if record is None or (only is not None and name not in only):
            continue
        if record.instructions != spec.instructions:
            problems.append(f"{name}: instructions {record.instructions!r}")
        if record.metadata != spec.metadata:
            problems.append(f"{name}: metadata {record.metadata!r} != {spec.metadata!r}")
        if record.region != spec.region:
            problems.append(f"{name}: region {record.region!r} != {spec.region!r}")
        files = store.list_files(name)
        copies = Counter(f.name for f in files)
        problems += [f"{name}: {n} copies of {f}" for f, n in copies.items() if n > 1]
        want_files = {f.name: f for f in spec.files}
        if set(copies) != set(want_files):
            problems.append(f"{name}: files {sorted(copies)} != {sorted(want_files)}")
        for f in files:
            file_spec = want_files.get(f.name)
            if file_spec is None:
                continue
            meta = dict(f.metadata or {})
            digest = meta.pop(HASH_METADATA_KEY, None)
            if meta != dict(file_spec.metadata or {}):
                problems.append(f"{name}/{f.name}: metadata {meta!r}")
            if f.content != file_spec.path.read_bytes() or not digest:
                problems.append(f"{name}/{f.name}: content or hash differs")
            if f.status(store.now()) != "Available":
                problems.append(f"{name}/{f.name}: {f.status(store.now())}")
    return problems


def report_lies(report: ProvisionReport, store: Store, fleet: list[AssistantSpec]) -> list[str]:
    """Where the report disagrees with the state it left."""
    lies: list[str] = []
    by_name = {a.name: a for a in report.assistants}
    if sorted(by_name) != sorted(s.name for s in fleet):
        lies.append("the report does not list exactly the fleet's assistants")
    ok = {n for n, a in by_name.items() if a.outcome == "ok"}
    lies += differences(store, fleet, only=ok)  # "ok" must mean exactly as specified
    for spec in fleet:
        entry = by_name.get(spec.name)
        if entry is None:
            continue
        if entry.planned != "create":
            lies.append(f"{spec.name}: planned {entry.planned} on an empty project")
        if entry.outcome == "ok" and entry.files_uploaded != len(spec.files):
            lies.append(f"{spec.name}: {entry.files_uploaded} uploads for {len(spec.files)} files")
        if entry.outcome == "failed" and not (entry.error and entry.error_type):
            lies.append(f"{spec.name}: failed without saying why")
        if entry.outcome not in ("ok", "failed"):
            lies.append(f"{spec.name}: outcome {entry.outcome} in a run that was not cancelled")
        if entry.outcome == "ok" and entry.requests < 1:
            lies.append(f"{spec.name}: ok with {entry.requests} requests counted")
    if report.cancelled:
        lies.append("a run nobody cancelled says it was cancelled")
    return lies


def emulator_failures(entries: list[LogEntry]) -> list[str]:
    """Requests the emulator itself failed (not an injected fault): there must be none."""
    return [
        f"{e.method} {e.path} -> {e.status} ({e.outcome})"
        for e in entries
        if e.fault is None and (e.outcome == "error" or (e.status or 0) >= 500)
    ]


def replay(seed: int, version: str) -> str:
    return (
        f"chaos seed {seed}, api version {version}; replay with "
        f"AIOPINECONE_CHAOS_SEEDS={seed} pytest tests/test_chaos_provision.py"
    )


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_fleet_provisioned_under_chaos_matches_exactly(seed: int, tmp_path: Path) -> None:
    version = VERSIONS[(seed - 1) % len(VERSIONS)]
    where = replay(seed, version)
    fleet = make_fleet(seed, tmp_path)
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(
            api_key=KEY,
            host=emu.url,
            api_version=version,
            retry=RetryPolicy(max_attempts=8, max_retry_after=5.0),
        ) as pc,
    ):
        chaos = emu.faults.chaos(seed, delay=(0.001, 0.02), retry_after=(0, 1))
        report = await pc.assistants.provision(
            fleet,
            concurrency=32,
            poll_interval=(0.01, 0.05),
            ready_estimate=0.0,
        )
        injected = emu.faults.snapshot()["chaos_injected"]
        emu.faults.clear()
        entries = emu.log.entries
        assert chaos.seed == seed
        assert injected > FLEET_SIZE // 2, f"{where}: chaos barely happened ({injected} faults)"
        kinds = {e.fault.split(":")[1] for e in entries if e.fault}
        assert {"status", "perform_then_status", "drop_before", "drop_after", "delay"} <= kinds, (
            f"{where}: the seed did not exercise every kind of fault: {sorted(kinds)}"
        )
        statuses = {e.fault.rsplit(":", 1)[1] for e in entries if e.fault and ":status:" in e.fault}
        assert {"429", "500", "502", "503"} <= statuses, f"{where}: {sorted(statuses)}"
        assert not emulator_failures(entries), where
        lies = report_lies(report, emu.store, fleet)
        assert not lies, f"{where}: the report is not true:\n" + "\n".join(lies[:20])
        # Failures are allowed under chaos (retry budgets run out), never lasting damage: a
        # second run, without faults, converges to the fleet and does only what was missing.
        if not report.ok:
            again = await pc.assistants.provision(fleet, concurrency=32, poll_interval=(0.01, 0.05))
            assert again.ok, f"{where}: the second run did not converge: {again.failed}"
            redone = {a.name for a in again.assistants if a.actions}
            assert redone <= {a.name for a in report.failed}, where
        problems = differences(emu.store, fleet)
        assert not problems, f"{where}: state differs from the fleet:\n" + "\n".join(problems[:20])
        # And a run on the converged state changes nothing.
        emu.log.clear()
        final = await pc.assistants.provision(fleet, concurrency=32)
        assert final.ok, where
        assert all(not a.actions for a in final.assistants), where
        assert not [e for e in emu.log.entries if e.method != "GET"], where


async def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The comparison above notices a missing file, a duplicate and a changed field."""
    fleet = make_fleet(99, tmp_path, size=3)
    fleet[0] = attrs.evolve(fleet[0], files=[FileSpec(path=tmp_path / "doc-01.md")])
    async with Emulator() as emu:
        store = emu.store
        assert len(differences(store, fleet)) == 3  # three missing assistants
        for spec in fleet:
            store.create_assistant(
                spec.name,
                instructions=spec.instructions,
                metadata=dict(spec.metadata or {}),
                region=spec.region,
            )
            for f in spec.files:
                meta = {**(f.metadata or {}), HASH_METADATA_KEY: "x"}
                store.put_file(spec.name, name=f.name, content=f.path.read_bytes(), metadata=meta)
        assert differences(store, fleet) == []
        doc = fleet[0].files[0]
        store.put_file(fleet[0].name, name=doc.name, content=doc.path.read_bytes())
        store.update_assistant(fleet[0].name, instructions="changed", set_instructions=True)
        problems = differences(store, fleet)
        assert any("2 copies" in p for p in problems), problems
        assert any("instructions" in p for p in problems), problems


# -- chaos findings, replayed deterministically ---------------------------------------------------

FILES_OF = "/assistant/files/{name}"
ONE_FILE = "/assistant/files/{name}/{file_id}"


@pytest.mark.parametrize(
    ("version", "script"),
    [
        # 2026-04: the PUT lands, the describe_file that follows it meets a 429 whose
        # Retry-After the provisioner waits out itself; it used to call upload_file again with
        # a new file id (a second copy, deleted later as a duplicate).
        ("2026-04", [("GET", ONE_FILE, "429")]),
        # <= 2025-10: the POST lands but its answer is lost (500); the list that checks for it
        # meets a 429 with Retry-After.
        ("2025-10", [("POST", FILES_OF, "500_after"), ("GET", FILES_OF, "429")]),
    ],
)
async def test_a_429_after_a_landed_upload_does_not_upload_it_again(
    version: str, script: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    from aiopinecone.emulator.faults import Fault

    faults = {
        "429": Fault.status(429, retry_after=0.2),
        "500_after": Fault.perform_then_status(500),
    }
    doc = tmp_path / "faq.md"
    doc.write_text("Refunds take five days.\n")
    spec = AssistantSpec(name="once", files=[FileSpec(path=doc)])
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url, api_version=version) as pc,
    ):
        emu.store.create_assistant("once")
        for method, path, fault in script:
            emu.faults.script(method, path, [faults[fault]])
        report = await pc.assistants.provision([spec])
        uploads = [
            e
            for e in emu.log.entries
            if e.method in ("POST", "PUT")
            and (e.status == 200 or e.status == 202 or e.fault)
            and e.path.startswith("/assistant/files/")
            and (e.fault is None or "perform" in e.fault)
        ]
        assert report.ok
        assert differences(emu.store, [spec]) == []
        assert len(uploads) == 1, [(e.method, e.path, e.status, e.fault) for e in uploads]
        assert report["once"].files_deleted == 0
