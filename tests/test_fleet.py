"""Fleet files: parsing, defaults, globs, and precise errors (all of them, with lines)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from aiopinecone import ValidationError
from aiopinecone.provision import AssistantSpec, FileSpec, FleetError, load_fleet, parse_fleet


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path / "docs" / "billing" / "faq.md", "# Billing FAQ\n")
    write(tmp_path / "docs" / "billing" / "refunds.txt", "Refunds within 30 days.\n")
    write(tmp_path / "docs" / "shared" / "handbook.md", "# Handbook\n")
    write(tmp_path / "prompts" / "billing.md", "You answer billing questions.\n")
    return tmp_path


def test_full_fleet_file_with_defaults_globs_and_instruction_files(tree: Path) -> None:
    fleet_file = write(
        tree / "fleet.yaml",
        """\
version: 1
defaults:
  region: eu
  metadata: {owner: platform, tier: gold}
  instructions: Be concise.
  files: [docs/shared/*.md]
assistants:
  - name: billing
    instructions_file: prompts/billing.md
    metadata: {team: billing, tier: silver}
    files:
      - docs/billing/*.md
      - path: docs/billing/refunds.txt
        metadata: {kind: policy}
  - name: plain
    region: us
""",
    )
    fleet = load_fleet(fleet_file)
    assert fleet.source == fleet_file
    billing, plain = fleet.assistants
    assert billing == AssistantSpec(
        name="billing",
        instructions="You answer billing questions.\n",
        metadata={"owner": "platform", "tier": "silver", "team": "billing"},
        region="eu",
        files=(
            FileSpec(path=tree / "docs/shared/handbook.md"),
            FileSpec(path=tree / "docs/billing/faq.md"),
            FileSpec(path=tree / "docs/billing/refunds.txt", metadata={"kind": "policy"}),
        ),
    )
    assert billing.metadata == {"owner": "platform", "tier": "silver", "team": "billing"}
    assert billing.files[2].metadata == {"kind": "policy"}
    assert plain.instructions == "Be concise."
    assert plain.region == "us"
    assert plain.metadata == {"owner": "platform", "tier": "gold"}
    assert [f.name for f in plain.files] == ["handbook.md"]


def test_json_fleet_file_is_equivalent(tree: Path) -> None:
    doc = {
        "assistants": [
            {"name": "billing", "instructions": "x", "files": ["docs/billing/faq.md"]},
        ]
    }
    fleet = load_fleet(write(tree / "fleet.json", orjson.dumps(doc).decode()))
    assert fleet.assistants == (
        AssistantSpec(
            name="billing", instructions="x", files=(FileSpec(path=tree / "docs/billing/faq.md"),)
        ),
    )


def test_unmanaged_fields_stay_none(tree: Path) -> None:
    fleet = parse_fleet("assistants:\n  - name: a\n", base_dir=tree)
    (spec,) = fleet.assistants
    assert spec.instructions is None
    assert spec.metadata is None
    assert spec.files == ()


def test_every_problem_is_reported_with_line_and_path(tree: Path) -> None:
    fleet_file = write(
        tree / "bad.yaml",
        """\
assistants:
  - name: Bad Name
    instructions: ok
  - name: good
    instrutions: typo
    region: mars
    files:
      - docs/missing.md
      - docs/nothing/*.md
      - docs/billing/refunds.txt
      - path: prompts/billing.md
        metadata: {aiopinecone_sha256: nope}
  - name: good
  - instructions: no name
""",
    )
    with pytest.raises(FleetError) as info:
        load_fleet(fleet_file)
    err = info.value
    assert isinstance(err, ValidationError)
    assert isinstance(err, ValueError)
    got = [(p.line, p.path) for p in err.problems]
    assert got == [
        (2, "assistants[0].name"),
        (5, "assistants[1].instrutions"),
        (6, "assistants[1].region"),
        (8, "assistants[1].files[0]"),
        (9, "assistants[1].files[1]"),
        (11, "assistants[1].files[3]"),
        (13, "assistants[2].name"),
        (14, "assistants[3]"),
    ]
    text = str(err)
    assert text.startswith(f"{fleet_file}: 8 problems found, nothing was sent:")
    assert f"{fleet_file}:2:11: assistants[0].name: name 'Bad Name' is invalid" in text
    assert "unknown key 'instrutions' (did you mean 'instructions'?)" in text
    assert "region must be one of us, eu, got 'mars'" in text
    assert "file not found:" in text
    assert "missing.md" in text
    assert "glob 'docs/nothing/*.md' matches no file" in text
    assert "'aiopinecone_sha256' is reserved" in text
    assert "duplicate assistant name 'good' (first used by assistant #2)" in text
    assert "missing required key 'name'" in text


def test_names_follow_the_api_version(tree: Path) -> None:
    long_name = "a" * 50
    text = f"assistants:\n  - name: {long_name}\n"
    assert parse_fleet(text, base_dir=tree, api_version="2025-10").assistants[0].name == long_name
    with pytest.raises(FleetError, match="allows at most 45"):
        parse_fleet(text, base_dir=tree, api_version="2025-04")


def test_yaml_syntax_error_names_the_line(tree: Path) -> None:
    with pytest.raises(FleetError) as info:
        load_fleet(write(tree / "broken.yaml", "assistants:\n  - name: a\n   bad: [\n"))
    (problem,) = info.value.problems
    assert problem.line == 3
    assert problem.message.startswith("invalid YAML")


def test_json_syntax_error_names_the_line(tree: Path) -> None:
    with pytest.raises(FleetError) as info:
        load_fleet(write(tree / "broken.json", '{\n  "assistants": [\n    {"name": "a",}\n  ]\n}'))
    (problem,) = info.value.problems
    assert problem.line == 3
    assert problem.message.startswith("invalid JSON")


def test_json_errors_carry_lines_and_duplicate_keys_are_caught(tree: Path) -> None:
    text = '{\n  "assistants": [\n    {"name": "a", "region": "us", "region": "xx"}\n  ]\n}\n'
    with pytest.raises(FleetError) as info:
        load_fleet(write(tree / "dup.json", text))
    messages = [(p.line, p.message) for p in info.value.problems]
    assert (3, "duplicate key 'region'") in messages


def test_duplicate_yaml_keys_are_errors_not_silently_last(tree: Path) -> None:
    with pytest.raises(FleetError, match="duplicate key 'name'"):
        parse_fleet("assistants:\n  - name: a\n    name: b\n", base_dir=tree)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the fleet file is empty"),
        ("[1, 2]", "must be a mapping with 'assistants'"),
        ("version: 2\nassistants: []\n", "unsupported fleet file version 2"),
        ("defaults: {}\n", "missing required key 'assistants'"),
        ("assistants: {a: 1}\n", "must be a list of assistants"),
        ("assistants:\n  - name: 12\n", "must be a string, got int"),
        ("assistants:\n  - name: a\n    metadata: [1]\n", "must be a mapping, got list"),
        ("assistants:\n  - name: a\n    metadata: {since: 2024-01-01}\n", "quote it"),
        ("assistants:\n  - name: a\n    files: x.md\n", "must be a list of paths"),
        ("assistants:\n  - name: a\n    files: [{metadata: {}}]\n", "missing required key 'path'"),
        ("assistants:\n  - name: a\n    files: [{path: 3}]\n", r"must be a path \(string\)"),
        ("assistants:\n  - name: a\n    files: [7]\n", "must be a path or {path, metadata}"),
        (
            "assistants:\n  - name: a\n    instructions: x\n    instructions_file: y.md\n",
            "not both",
        ),
        ("assistants:\n  - name: a\n    instructions_file: nope.md\n", "instructions file not"),
        ("assistants:\n  - name: a\n    files: [prompts]\n", "not a regular file"),
    ],
)
def test_structural_problems(tree: Path, text: str, message: str) -> None:
    with pytest.raises(FleetError, match=message):
        parse_fleet(text, base_dir=tree)


def test_unsupported_file_type_and_same_name_twice(tree: Path) -> None:
    write(tree / "a" / "notes.md", "a")
    write(tree / "b" / "notes.md", "b")
    write(tree / "image.png", "png")
    text = "assistants:\n  - name: a\n    files: [a/notes.md, b/notes.md, image.png]\n"
    with pytest.raises(FleetError) as info:
        parse_fleet(text, base_dir=tree)
    messages = " | ".join(p.message for p in info.value.problems)
    assert "two files named 'notes.md'" in messages
    assert "image.png" in messages
    assert "extension" in messages


def test_missing_fleet_file() -> None:
    with pytest.raises(FleetError, match="fleet file not found"):
        load_fleet("/nonexistent/fleet.yaml")


def test_anchors_and_merge_keys_work(tree: Path) -> None:
    text = """\
common: &common
  region: eu
  instructions: shared
assistants:
  - <<: *common
    name: a
"""
    # `common` is not a known top-level key: anchors must live inside known keys.
    with pytest.raises(FleetError, match="unknown key 'common'"):
        parse_fleet(text, base_dir=tree)
    text = """\
assistants:
  - &base {name: a, region: eu, instructions: shared}
  - <<: *base
    name: b
"""
    a, b = parse_fleet(text, base_dir=tree).assistants
    assert (b.name, b.region, b.instructions) == ("b", "eu", "shared")
    assert a.name == "a"


def test_specs_copy_metadata_and_accept_a_lone_path(tmp_path: Path) -> None:
    meta = {"team": "x"}
    spec = AssistantSpec(name="a", metadata=meta, files="doc.md")
    meta["team"] = "changed"
    assert spec.metadata == {"team": "x"}
    assert spec.files == (FileSpec(path=Path("doc.md")),)
    assert spec.files[0].name == "doc.md"
