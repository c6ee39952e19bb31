"""Lists are pagers (issue 14): awaitable for a list, async-iterable page by page, lazily."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aiopinecone import AsyncPinecone, ValidationError
from aiopinecone.emulator import Emulator

KEY = "pager-key"
LIST = "/assistant/assistants"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), ready_delay=0.0, delete_delay=0.0) as e:
        for i in range(230):
            e.store.create_assistant(f"a{i:03d}")
        yield e


def list_requests(emu: Emulator) -> int:
    return emu.log.count(method="GET", path=LIST)


@pytest.mark.parametrize("version", ["2026-07", "2026-04"])
async def test_a_list_is_awaitable_and_lazily_iterable(emu: Emulator, version: str) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=version) as pc:
        everything = await pc.assistants.list()
        assert len(everything) == 230
        assert list_requests(emu) == 3  # 100 + 100 + 30
        pager = pc.assistants.list()
        assert list_requests(emu) == 3  # nothing is sent before it is used
        names = []
        async for assistant in pager:
            names.append(assistant.name)
            if len(names) == 5:
                break  # stops fetching: one more page only
        assert names == [f"a{i:03d}" for i in range(5)]
        assert list_requests(emu) == 4
        limited = await pc.assistants.list(limit=150)
        assert [a.name for a in limited] == [f"a{i:03d}" for i in range(150)]
        assert list_requests(emu) == 6
        first = await pc.assistants.list_page(page_size=100)
        assert first.next is not None
        assert first.next == first.next_token
        rest = await pc.assistants.list(pagination_token=first.next)
        assert [a.name for a in rest] == [f"a{i:03d}" for i in range(100, 230)]
        pages = [page async for page in pc.assistants.list().pages()]
        assert [len(p.items) for p in pages] == [100, 100, 30]
        assert [p.has_more for p in pages] == [True, True, False]


async def test_before_2026_a_list_is_one_page(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version="2025-10") as pc:
        names = [a.name async for a in pc.assistants.list()]
        assert len(names) == 230
        assert list_requests(emu) == 1
        assert len(await pc.assistants.list(limit=3)) == 3
        page = await pc.assistants.list_page(page_size=10)  # not sent: the one page is all
        assert len(page.assistants) == 230
        assert page.next is None


async def test_file_and_operation_lists_are_pagers(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        for i in range(3):
            await pc.assistants.upload_file(
                assistant_name="a000",
                file=b"hello",
                file_name=f"f{i}.txt",
                metadata={"n": i},
                wait=True,
            )
        files = [f.name async for f in pc.assistants.list_files(assistant_name="a000")]
        assert sorted(files) == ["f0.txt", "f1.txt", "f2.txt"]
        one = await pc.assistants.list_files(assistant_name="a000", filter={"n": 1})
        assert [f.name for f in one] == ["f1.txt"]
        assert len(await pc.assistants.list_files(assistant_name="a000", limit=2)) == 2
        operations = await pc.assistants.list_operations(assistant_name="a000")
        assert len(operations) == 3
        assert {op.operation_id for op in operations} == {op.id for op in operations}
        async for op in pc.assistants.list_operations(assistant_name="a000", limit=1):
            assert op.status == "Completed"


async def test_file_pages_work_on_every_version(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version="2025-10") as pc:
        await pc.assistants.upload_file(assistant_name="a001", file=b"x", file_name="x.txt")
        page = await pc.assistants.list_files_page(assistant_name="a001", page_size=10)
        assert [f.name for f in page.files] == ["x.txt"]
        assert page.next is None
        with pytest.raises(ValidationError, match="no pagination"):
            await pc.assistants.list_files_page(assistant_name="a001", pagination_token="t")


def test_pager_arguments_are_checked() -> None:
    pc = AsyncPinecone(api_key=KEY, host="http://127.0.0.1:1")
    with pytest.raises(ValidationError, match="limit"):
        pc.assistants.list(limit=-1)
    with pytest.raises(ValidationError, match="pagination_token"):
        pc.assistants.list(pagination_token="")
