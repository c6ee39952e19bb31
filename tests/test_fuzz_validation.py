"""Random input: every call either sends a request the server accepts or raises ValidationError
before sending anything.

Random names, instructions, metadata, regions, file names, file ids, chat messages and queries
go through the public methods against the emulator (which applies Pinecone's rules on its own;
it shares no code with the client). For every call: a ``ValidationError`` means the emulator's
request log did not move; anything the client sends is accepted (never a 400 or a 5xx; names
are the exception: the client checks only what is certain about them and the server refuses the
rest) and stored exactly as given; no other exception ever escapes. Fleet files get the same
treatment: random documents give a fleet or a ``FleetError``, never anything else.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiopinecone import (
    AsyncPinecone,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PineconeError,
    ValidationError,
    set_retry_testing,
)
from aiopinecone.emulator import Emulator
from aiopinecone.provision import FleetError, parse_fleet

KEY = "fuzz-validation-key"
VERSIONS = ("2025-04", "2025-10", "2026-04")
SCALE = int(os.environ.get("AIOPINECONE_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=40 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- strategies --------------------------------------------------------------------------------

NASTY_CHARS = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x7f",
        "\n",
        "\r",
        "\t",
        " ",
        '"',
        "\\",
        "/",
        "%",
        "..",
        "\ud800",
        "é",
        "€",
        "\u2028",
        "\ufeff",
        "😀",
        "A",
        "_",
        ".",
    ]
)
NAME_CHARS = st.one_of(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), NASTY_CHARS)
NAMES = st.one_of(
    st.lists(NAME_CHARS, min_size=0, max_size=70).map("".join),
    st.text(max_size=70),
    st.integers(min_value=1, max_value=70).map(lambda n: "a" * n),
    st.sampled_from([None, 5, b"bytes", ["list"]]),
)
STRINGS = st.one_of(
    st.text(max_size=40),
    st.lists(NASTY_CHARS, max_size=8).map("".join),
    st.sampled_from(["x" * 16_384, "é" * 8_192, "é" * 8_193, "x" * 16_385]),
)
FLOATS = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 1e308]))
VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        FLOATS,
        STRINGS,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
        st.sets(st.integers(), max_size=2),
        st.just(b"raw bytes"),
    ),
    max_leaves=12,
)
SMALL_METADATA = st.one_of(
    st.dictionaries(st.one_of(STRINGS, st.integers(), st.none()), VALUES, max_size=5),
    st.sampled_from([[], "text", 5, None]),
)
METADATA = st.one_of(
    SMALL_METADATA,
    st.dictionaries(st.text(max_size=4), st.just("v" * 4_000), min_size=3, max_size=6),
)
# Up to 2025-10 upload metadata travels in the query string: a few KB at most fit in a request
# line (the emulator, like many servers, takes 8 KB), although the API allows 16 KB of JSON.
UPLOAD_METADATA = SMALL_METADATA.filter(lambda m: len(repr(m)) < 1_500)
FILE_NAMES = st.one_of(
    st.tuples(NAMES, st.sampled_from([".txt", ".md", ".pdf", ".json", ".docx", ".exe", ""])).map(
        lambda t: f"{t[0]}{t[1]}" if isinstance(t[0], str) else t[0]
    ),
    st.text(max_size=20),
)


def json_ready(value: Any) -> bool:
    """Whether ``value`` is a JSON value that survives encoding unchanged (what may be sent)."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")
        orjson.dumps(value)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return False
    return True


def wire_form(value: Any) -> Any:
    return json.loads(json.dumps(value))


# -- the harness: a private loop, the emulator and one client per version -------------------------


class Harness:
    def __init__(self, loop: asyncio.AbstractEventLoop, emu: Emulator) -> None:
        self.loop = loop
        self.emu = emu
        self.clients: dict[str, AsyncPinecone] = {}
        self.serial = 0

    def name(self) -> str:
        self.serial += 1
        return f"made-{self.serial}"

    def run(self, make: Callable[[], Awaitable[Any]]) -> tuple[Any, bool]:
        """Run a call; ``(result or error, whether anything reached the emulator)``."""
        before = self.emu.log.total

        async def go() -> Any:
            try:
                return await asyncio.wait_for(make(), 30)
            except PineconeError as exc:
                return exc

        outcome = self.loop.run_until_complete(go())
        return outcome, self.emu.log.total != before


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    set_retry_testing(True)
    loop = asyncio.new_event_loop()
    emu = Emulator(api_keys=(KEY,), delete_delay=0.0)
    loop.run_until_complete(emu.start())
    h = Harness(loop, emu)
    for version in VERSIONS:
        pc = AsyncPinecone(api_key=KEY, host=emu.url, api_version=version)
        loop.run_until_complete(pc.__aenter__())
        h.clients[version] = pc
        emu.store.create_assistant(f"home-{version}")
    try:
        yield h
    finally:
        for pc in h.clients.values():
            loop.run_until_complete(pc.close())
        loop.run_until_complete(emu.stop())
        loop.close()
        set_retry_testing(False)


def settled(outcome: Any, sent: bool, *, allowed: tuple[type[BaseException], ...] = ()) -> bool:
    """Common rules: a ValidationError sends nothing; a sent request is never refused as bad.

    Returns whether the call went through (so the caller can check what was stored).
    """
    if isinstance(outcome, ValidationError):
        assert not sent, f"ValidationError after a request was sent: {outcome}"
        assert str(outcome)
        return False
    assert sent
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, allowed), f"the server refused what the client sent: {outcome!r}"
        return False
    return True


VERSION = st.sampled_from(VERSIONS)
SERVICE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
"""The docs' name rule without its lowercase part: what the service accepts, as far as known."""


def server_decides(name: Any) -> tuple[type[BaseException], ...]:
    """A URL-safe name outside the service's rule is the server's to refuse (it is sent)."""
    if isinstance(name, str) and SERVICE_NAME.fullmatch(name) is None:
        return (BadRequestError,)
    return ()


@FUZZ
@given(
    version=VERSION,
    name=NAMES,
    instructions=st.one_of(STRINGS, st.none(), st.just(5)),
    metadata=METADATA,
    region=st.one_of(st.sampled_from(["us", "eu"]), STRINGS),
)
def test_create_sends_only_what_the_server_accepts(
    harness: Harness, version: str, name: Any, instructions: Any, metadata: Any, region: Any
) -> None:
    pc = harness.clients[version]
    outcome, sent = harness.run(
        lambda: pc.assistants.create(
            name=name, instructions=instructions, metadata=metadata, region=region
        )
    )
    if isinstance(outcome, BadRequestError):
        assert "Invalid assistant name" in outcome.message
    if settled(outcome, sent, allowed=(ConflictError, *server_decides(name))):
        stored = harness.emu.store.get_assistant(name)
        assert json_ready(metadata)
        assert stored.metadata == (wire_form(metadata) if metadata is not None else None)
        assert stored.instructions == instructions
        assert stored.region == region
        harness.emu.store.delete_assistant(name)


@FUZZ
@given(version=VERSION, instructions=st.one_of(STRINGS, st.none()), metadata=METADATA)
def test_update_sends_only_what_the_server_accepts(
    harness: Harness, version: str, instructions: Any, metadata: Any
) -> None:
    pc = harness.clients[version]
    name = harness.name()
    harness.emu.store.create_assistant(name)
    outcome, sent = harness.run(
        lambda: pc.assistants.update(name=name, instructions=instructions, metadata=metadata)
    )
    if settled(outcome, sent):
        stored = harness.emu.store.get_assistant(name)
        assert stored.instructions == instructions
        assert stored.metadata == wire_form(metadata)
    harness.emu.store.delete_assistant(name)


@FUZZ
@given(version=VERSION, name=NAMES)
def test_any_name_is_checked_before_describe_and_delete(
    harness: Harness, version: str, name: Any
) -> None:
    pc = harness.clients[version]
    for call in (pc.assistants.describe, pc.assistants.delete):
        outcome, sent = harness.run(lambda call=call: call(name=name))  # type: ignore[misc]
        settled(outcome, sent, allowed=(NotFoundError,))


@FUZZ
@given(version=VERSION, file_name=FILE_NAMES, metadata=st.one_of(UPLOAD_METADATA, st.none()))
def test_uploads_send_only_what_the_server_accepts(
    harness: Harness, version: str, file_name: Any, metadata: Any
) -> None:
    pc = harness.clients[version]
    home = f"home-{version}"
    outcome, sent = harness.run(
        lambda: pc.assistants.upload_file(
            assistant_name=home, file=b"Some content.", file_name=file_name, metadata=metadata
        )
    )
    if settled(outcome, sent):
        stored = harness.emu.store.get_file(home, outcome.id)
        assert stored.name == file_name, "the file must be stored under the name given"
        assert stored.metadata == (wire_form(metadata) if metadata is not None else None)
        harness.emu.store.delete_file(home, outcome.id)


@FUZZ
@given(version=VERSION, file_id=st.one_of(STRINGS, NAMES))
def test_any_file_id_is_checked_or_sent_safely(
    harness: Harness, version: str, file_id: Any
) -> None:
    pc = harness.clients[version]
    home = f"home-{version}"
    for call in (pc.assistants.describe_file, pc.assistants.delete_file):
        outcome, sent = harness.run(
            lambda call=call: call(assistant_name=home, file_id=file_id)  # type: ignore[misc]
        )
        settled(outcome, sent, allowed=(NotFoundError,))
        if sent:  # the id travelled whole, as one path segment, whatever it holds
            assert isinstance(outcome, NotFoundError)
            assert f"File with id {file_id} not found" in outcome.message


MESSAGE = st.fixed_dictionaries(
    {
        "role": st.one_of(st.sampled_from(["user", "assistant", "system"]), STRINGS),
        "content": st.one_of(STRINGS, st.just(5)),
    }
)


@FUZZ
@given(
    version=VERSION,
    messages=st.one_of(st.lists(MESSAGE, max_size=3), STRINGS),
    query=st.one_of(STRINGS, st.none()),
)
def test_chat_and_context_send_only_what_the_server_accepts(
    harness: Harness, version: str, messages: Any, query: Any
) -> None:
    pc = harness.clients[version]
    home = f"home-{version}"
    outcome, sent = harness.run(lambda: pc.assistants.chat(assistant_name=home, messages=messages))
    settled(outcome, sent)
    outcome, sent = harness.run(lambda: pc.assistants.context(assistant_name=home, query=query))
    settled(outcome, sent)
    outcome, sent = harness.run(
        lambda: pc.assistants.evaluate_alignment(
            question=query, answer="An answer.", ground_truth_answer="The truth."
        )
    )
    settled(outcome, sent)


# -- fleet files -------------------------------------------------------------------------------

FLEET_FILES = ("guide.md", "faq.txt", "notes.json")


def fleet_documents() -> st.SearchStrategy[Any]:
    file_entry = st.one_of(
        st.sampled_from([*FLEET_FILES, "*.md", "missing.md", "../guide.md", "/etc/passwd"]),
        st.fixed_dictionaries(
            {"path": st.one_of(st.sampled_from(FLEET_FILES), VALUES)},
            optional={"metadata": METADATA},
        ),
        VALUES,
    )
    assistant = st.fixed_dictionaries(
        {"name": NAMES},
        optional={
            "instructions": st.one_of(STRINGS, VALUES),
            "instructions_file": st.one_of(st.sampled_from(["guide.md", "nope.md", "."]), VALUES),
            "metadata": METADATA,
            "region": st.one_of(st.sampled_from(["us", "eu"]), VALUES),
            "files": st.one_of(st.lists(file_entry, max_size=3), VALUES),
            "surprise": VALUES,
        },
    )
    return st.one_of(
        st.fixed_dictionaries(
            {"assistants": st.one_of(st.lists(assistant, max_size=3), VALUES)},
            optional={"version": st.one_of(st.just(1), VALUES), "defaults": VALUES},
        ),
        VALUES,
    )


def _yaml(value: Any) -> str:
    try:
        return yaml.safe_dump(value, allow_unicode=True)
    except (yaml.YAMLError, TypeError, ValueError):
        return repr(value)


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    for name in FLEET_FILES:
        (root / name).write_text("Some knowledge.\n")
    return root


@FUZZ
@given(
    doc=fleet_documents(), raw=st.text(max_size=200), how=st.sampled_from(["yaml", "json", "raw"])
)
def test_fleet_documents_give_a_fleet_or_a_fleet_error(
    fleet_dir: Path, doc: Any, raw: str, how: str
) -> None:
    if how == "raw":
        text, fmt = raw, "yaml"
    elif how == "json":
        try:
            text, fmt = json.dumps(doc), "json"
        except (TypeError, ValueError):
            text, fmt = raw, "json"
    else:
        text, fmt = _yaml(doc), "yaml"
    outcome: Any
    try:
        outcome = parse_fleet(text, base_dir=fleet_dir, format=fmt)  # type: ignore[arg-type]
    except FleetError as exc:
        outcome = exc
    if isinstance(outcome, FleetError):
        assert outcome.problems
        assert str(outcome)
        return
    for spec in outcome:
        assert isinstance(spec.name, str)
        assert spec.metadata is None or json_ready(dict(spec.metadata))
        for f in spec.files:
            assert f.path.is_file()
