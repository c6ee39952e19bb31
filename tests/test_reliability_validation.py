"""Bad input found by fuzzing, pinned down: a clear ValidationError, and nothing sent.

Each case here was once a bare ``TypeError``/``UnicodeEncodeError``/``AttributeError``, a
request the server refused, or a silent change of the user's data
(``tests/test_fuzz_validation.py`` finds such inputs at random; these are the ones it found).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiopinecone import AsyncPinecone, NotFoundError, ValidationError
from aiopinecone.emulator import Emulator

KEY = "validation-key"
SURROGATE = "\ud800"

Call = Callable[[AsyncPinecone], Awaitable[Any]]


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Emulator, AsyncPinecone]]:
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        emu.store.create_assistant("home")
        await pc.assistants.describe(name="home")  # the data-plane host is known from here on
        yield emu, pc


async def refused_before_sending(pair: tuple[Emulator, AsyncPinecone], call: Call) -> str:
    emu, pc = pair
    before = emu.log.total
    with pytest.raises(ValidationError) as info:
        await call(pc)
    assert emu.log.total == before, "a request was sent"
    return str(info.value)


TEXT_WITH_A_SURROGATE: dict[str, Call] = {
    "chat": lambda pc: pc.assistants.chat(
        assistant_name="home", messages=[{"role": "user", "content": "hi " + SURROGATE}]
    ),
    "chat stream": lambda pc: pc.assistants.chat(
        assistant_name="home", messages=[{"role": "user", "content": SURROGATE}], stream=True
    ),
    "context": lambda pc: pc.assistants.context(assistant_name="home", query=SURROGATE),
    "evaluate": lambda pc: pc.assistants.evaluate_alignment(
        question=SURROGATE, answer="a", ground_truth_answer="b"
    ),
}


@pytest.mark.parametrize("call", TEXT_WITH_A_SURROGATE.values(), ids=TEXT_WITH_A_SURROGATE)
async def test_text_that_is_not_unicode_is_refused_before_sending(
    pair: tuple[Emulator, AsyncPinecone], call: Call
) -> None:
    assert "JSON" in await refused_before_sending(pair, call)


NOT_JSON_DATA: dict[str, Call] = {
    "create instructions": lambda pc: pc.assistants.create(name="x", instructions=SURROGATE),
    "update instructions": lambda pc: pc.assistants.update(name="home", instructions=SURROGATE),
    "create NaN": lambda pc: pc.assistants.create(name="x", metadata={"v": float("nan")}),
    "update infinity": lambda pc: pc.assistants.update(
        name="home", metadata={"deep": [1, {"v": float("-inf")}]}
    ),
    "upload NaN": lambda pc: pc.assistants.upload_file(
        assistant_name="home", file=b"x", file_name="a.txt", metadata={"v": float("inf")}
    ),
    "filter NaN": lambda pc: pc.assistants.list_files(
        assistant_name="home", filter={"score": {"$gt": float("nan")}}
    ),
}


@pytest.mark.parametrize("call", NOT_JSON_DATA.values(), ids=NOT_JSON_DATA)
async def test_data_json_cannot_carry_is_refused_not_altered(
    pair: tuple[Emulator, AsyncPinecone], call: Call
) -> None:
    message = await refused_before_sending(pair, call)
    assert "NaN" in message or "Unicode" in message


async def test_nulls_and_finite_floats_still_pass(pair: tuple[Emulator, AsyncPinecone]) -> None:
    emu, pc = pair
    await pc.assistants.update(name="home", metadata={"a": None, "b": [1.5, None], "c": 1e308})
    assert emu.store.get_assistant("home").metadata == {"a": None, "b": [1.5, None], "c": 1e308}


BAD_FILE_NAMES = ['a"b.md', "a\x1b.txt", "a\x00.txt", "tab\t.md", "new\nline.md", SURROGATE + ".md"]


@pytest.mark.parametrize("file_name", BAD_FILE_NAMES)
async def test_file_names_that_cannot_travel_unchanged_are_refused(
    pair: tuple[Emulator, AsyncPinecone], file_name: str
) -> None:
    await refused_before_sending(
        pair,
        lambda pc: pc.assistants.upload_file(assistant_name="home", file=b"x", file_name=file_name),
    )


@pytest.mark.parametrize("file_name", [5, b"a.txt", None])
async def test_a_file_name_that_is_not_a_string_is_refused(
    pair: tuple[Emulator, AsyncPinecone], file_name: Any
) -> None:
    await refused_before_sending(
        pair,
        lambda pc: pc.assistants.upload_file(assistant_name="home", file=b"x", file_name=file_name),
    )


async def test_unusual_but_valid_file_names_are_stored_exactly(
    pair: tuple[Emulator, AsyncPinecone],
) -> None:
    emu, pc = pair
    for name in ["résumé final.md", "a'b (2).txt", "100% done.md", "line\u2028sep.md"]:
        uploaded = await pc.assistants.upload_file(
            assistant_name="home", file=b"content", file_name=name
        )
        assert emu.store.get_file("home", uploaded.id).name == name


BAD_IDS = [SURROGATE, "x" * 129, "a\x00b", "a\nb", ".", ".."]


@pytest.mark.parametrize("file_id", BAD_IDS)
async def test_file_ids_that_cannot_be_a_path_segment_are_refused(
    pair: tuple[Emulator, AsyncPinecone], file_id: str
) -> None:
    for call in (
        lambda pc: pc.assistants.describe_file(assistant_name="home", file_id=file_id),
        lambda pc: pc.assistants.delete_file(assistant_name="home", file_id=file_id),
    ):
        await refused_before_sending(pair, call)


@pytest.mark.parametrize("file_id", ["../x", "a/b", "%2F", "...", "x" * 128, "é"])
async def test_odd_file_ids_travel_as_one_path_segment(
    pair: tuple[Emulator, AsyncPinecone], file_id: str
) -> None:
    _, pc = pair
    with pytest.raises(NotFoundError) as info:
        await pc.assistants.describe_file(assistant_name="home", file_id=file_id)
    assert f"File with id {file_id} not found" in info.value.message  # the server got it whole
