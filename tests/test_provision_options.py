"""Provisioning options (one frozen object, built from keywords in one place), the rules with
one home (file identity, JSON metadata, fleet keys from the spec classes) and the renamed
progress display."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from aiopinecone import AsyncPinecone, ValidationError
from aiopinecone.emulator import Emulator
from aiopinecone.models.assistants import Assistant
from aiopinecone.models.files import AssistantFile
from aiopinecone.provision import (
    HASH_METADATA_KEY,
    AssistantSpec,
    FileSpec,
    FleetError,
    ProgressDisplay,
    ProvisionKeywords,
    ProvisionOptions,
    RateLimits,
    make_plan,
    parse_fleet,
    plan_files,
)

KEY = "options-test-key"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
async def pc() -> AsyncIterator[AsyncPinecone]:
    async with (
        Emulator(api_keys=(KEY,), ready_delay=0.01) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as client,
    ):
        yield client


def test_defaults_and_keywords_on_top_of_an_options_object() -> None:
    default = ProvisionOptions()
    assert (default.prune, default.concurrency, default.ready_batch) == (False, 16, 12)
    assert default.rate_limits == RateLimits.preset("adaptive")
    assert default.progress is None
    base = ProvisionOptions(concurrency=4, prune=True)
    built = ProvisionOptions.build(base, concurrency=2, rate_preset="standard")
    assert (built.concurrency, built.prune) == (2, True)
    assert built.rate_limits == RateLimits.preset("standard")
    assert ProvisionOptions.build(base) is base
    assert ProvisionOptions.build(rate_limits="unlimited").rate_limits.limits == {}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.concurrency = 3  # type: ignore[misc]


def test_the_keywords_are_the_fields_plus_the_rate_preset_alias() -> None:
    fields = {f.name for f in attrs.fields(ProvisionOptions)}
    assert set(ProvisionKeywords.__annotations__) == fields | {"rate_preset"}


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"concurrency": 0}, "concurrency must be an integer >= 1"),
        ({"concurrency": True}, "concurrency must be an integer >= 1"),
        ({"ready_timeout": -1}, "ready_timeout must be a number of seconds > 0"),
        ({"processing_timeout": "9"}, "processing_timeout must be a number of seconds > 0"),
        ({"poll_interval": (1.0, 0)}, r"poll_interval\[1\] must be a number of seconds > 0"),
        ({"poll_interval": 3}, r"poll_interval must be \(first, max\)"),
        ({"rate_preset": "gold"}, "unknown rate preset 'gold'"),
        ({"rate_limits": 5}, "rate_limits must be a preset name or RateLimits"),
        ({"rate_preset": "starter", "rate_limits": "standard"}, "not both"),
        ({"progress": "yes"}, "progress must be a bool or a ProgressDisplay"),
        ({"ready_estimate": -1.0}, "ready_estimate must be a number of seconds >= 0"),
        ({"concurency": 3}, "unknown provisioning option: concurency"),
    ],
)
def test_bad_options_are_validation_errors(keywords: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProvisionOptions.build(**keywords)  # type: ignore[arg-type]


async def test_pc_assistants_takes_an_options_object_or_keywords(pc: AsyncPinecone) -> None:
    spec = AssistantSpec(name="opt-one")
    options = ProvisionOptions(ready_estimate=0.0)
    plan = await pc.assistants.plan([spec], options=options)
    assert [a.action for a in plan] == ["create"]
    run = pc.assistants.provisioner([spec], options=options, concurrency=3)
    assert run.options == attrs.evolve(options, concurrency=3)
    report = await run.apply()
    assert report.ok, report.summary_table()
    again = await pc.assistants.provision([spec], ready_estimate=0.0, prune=False)
    assert again.ok
    assert again["opt-one"].planned == "unchanged"
    with pytest.raises(ValidationError, match="unknown provisioning option"):
        pc.assistants.provisioner([spec], colour="blue")  # type: ignore[call-arg]


async def test_a_provisioner_built_directly_takes_the_clients_settings(pc: AsyncPinecone) -> None:
    # 0.1's form, Provisioner(pc.assistants, specs), still works: version, retry policy and
    # governor come from the client, so the run shares the client's rate budget.
    from aiopinecone import Provisioner

    run = Provisioner(pc.assistants, [AssistantSpec(name="direct")], ready_estimate=0.0)
    assert pc.assistants.governor is pc.governor
    report = await run.apply()
    assert report.ok, report.summary_table()
    assert pc.governor.snapshot()["assistants_write"]["granted"] >= 1
    with pytest.raises(ValidationError, match="api_version"):
        Provisioner(object(), [])  # type: ignore[arg-type]


def test_progress_is_a_deprecated_name_of_the_display() -> None:
    import aiopinecone.provision as provision

    with pytest.warns(DeprecationWarning, match="use ProgressDisplay"):
        alias = provision.Progress
    assert alias is ProgressDisplay
    assert isinstance(ProvisionOptions(progress=ProgressDisplay(io.StringIO())).progress, alias)
    with pytest.raises(AttributeError):
        provision.Nope  # noqa: B018


# -- one home per rule ----------------------------------------------------------------------


def test_a_file_is_the_spec_file_only_with_its_name_hash_and_metadata() -> None:
    spec = FileSpec(path=Path("/docs/faq.md"), metadata={"tags": ("a", "b")})
    digests = {spec.path: "a" * 64}

    def server(name: str, **meta: object) -> AssistantFile:
        return AssistantFile(
            id=name + "-id",
            name=name,
            status="Available",
            metadata={HASH_METADATA_KEY: "a" * 64, **meta},
        )

    # A tuple is sent as a JSON list: the listed list is the same metadata, not a change.
    (same,) = plan_files([spec], digests, [server("faq.md", tags=["a", "b"])])
    assert same.kind == "unchanged"
    (other,) = plan_files([spec], digests, [server("faq.md", tags=["a"])])
    assert other.kind == "replace"
    # Same content and metadata under another name is not this file.
    (absent,) = plan_files([spec], digests, [server("faq-copy.md", tags=["a", "b"])])
    assert absent.kind == "upload"


def test_assistant_metadata_is_compared_as_sent() -> None:
    spec = AssistantSpec(name="a", metadata={"tags": ("x",), "n": 1})
    listed = Assistant(name="a", status="Ready", metadata={"tags": ["x"], "n": 1})
    (a,) = make_plan([spec], [listed], digests={})
    assert a.action == "unchanged"


async def test_metadata_checks_are_the_clients(pc: AsyncPinecone) -> None:
    bad = [
        AssistantSpec(name="nan", metadata={"v": float("nan")}),
        AssistantSpec(name="keys", metadata={"v": {1: 2}}),
        AssistantSpec(name="big", metadata={"v": "x" * 20_000}),
    ]
    with pytest.raises(FleetError) as info:
        pc.assistants.provisioner(bad)
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 3
    assert "NaN or an infinity" in messages[0]
    assert "not JSON-serializable" in messages[1]
    assert "the limit is" in messages[2]


def test_an_unquoted_yaml_date_is_pointed_at(tmp_path: Path) -> None:
    text = "assistants:\n  - name: a\n    metadata:\n      since: 2024-01-01\n"
    with pytest.raises(FleetError) as info:
        parse_fleet(text, base_dir=tmp_path)
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (4, "assistants[0].metadata.since")
    assert "quote it" in problem.message
    quoted = parse_fleet(text.replace("2024-01-01", "'2024-01-01'"), base_dir=tmp_path)
    assert quoted.assistants[0].metadata == {"since": "2024-01-01"}


def test_fleet_keys_follow_the_spec_classes(tmp_path: Path) -> None:
    for field in attrs.fields(AssistantSpec):
        if field.name in ("name", "files"):
            continue
        value = {"instructions": "x", "metadata": {"k": 1}, "region": "eu"}[field.name]
        fleet = parse_fleet(
            f"assistants:\n  - name: a\n    {field.name}: {value}\n", base_dir=tmp_path
        )
        assert getattr(fleet.assistants[0], field.name) == value
    with pytest.raises(FleetError) as info:
        parse_fleet("assistants:\n  - name: a\n    regoin: eu\n", base_dir=tmp_path)
    assert "did you mean 'region'?" in str(info.value)
    with pytest.raises(FleetError) as info:
        parse_fleet("assistants:\n  - {name: a, files: [{path: x, tags: 1}]}\n", base_dir=tmp_path)
    assert "(allowed: path, metadata)" in str(info.value)


async def test_processing_that_outlives_its_timeout_fails_its_assistant(tmp_path: Path) -> None:
    doc = tmp_path / "slow.md"
    doc.write_text("# never processed in time\n")
    spec = AssistantSpec(name="slow", files=[FileSpec(path=doc)])
    async with (
        Emulator(api_keys=(KEY,), ready_delay=0.01, file_processing_delay=600.0) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as client,
    ):
        report = await client.assistants.provision(
            [spec],
            ready_estimate=0.0,
            poll_interval=(0.01, 0.02),
            processing_timeout=0.2,
        )
    (slow,) = report.assistants
    assert slow.outcome == "failed"
    assert slow.error_type == "WaitTimeoutError"
    assert slow.error == "files of assistant 'slow' still processing after 0.2 s: slow.md"
    assert report.polls["processing"] >= 2


def test_provisioning_specs_built_in_python_loads_no_yaml() -> None:
    probe = (
        "import sys\n"
        "import aiopinecone\n"
        "from aiopinecone.provision import AssistantSpec\n"
        "pc = aiopinecone.AsyncPinecone(api_key='k', host='http://127.0.0.1:9')\n"
        "pc.assistants.provisioner([AssistantSpec(name='a')])\n"
        "print('before:', 'yaml' in sys.modules)\n"
        "from aiopinecone.provision import parse_fleet\n"
        "print('after:', 'yaml' in sys.modules, len(parse_fleet('assistants: [{name: b}]')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["before: False", "after: True 1"]
