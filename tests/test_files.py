"""Files against the emulator: every source kind, every version, failures, lost responses."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from aiopinecone import (
    AsyncPinecone,
    FileProcessingError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)
from aiopinecone.emulator import FAIL_MARKER, Emulator
from aiopinecone.emulator.faults import Fault
from aiopinecone.models.files import AssistantFile, FileStatus

KEY = "test-key"
OLD = ("2025-04", "2025-10")
ALL = (*OLD, "2026-04")
DOC = b"Returns are accepted within 30 days.\n\nShipping takes 5 business days.\n"
FILES = "/assistant/files/docs"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), delete_delay=0.0) as emulator:
        emulator.store.create_assistant("docs")
        yield emulator


ClientFactory = Callable[..., AsyncPinecone]


@pytest.fixture
async def make_client(emu: Emulator) -> AsyncIterator[ClientFactory]:
    clients: list[AsyncPinecone] = []

    def make(version: str = "2025-10", **kwargs: Any) -> AsyncPinecone:
        pc = AsyncPinecone(api_key=KEY, host=emu.url, api_version=version, **kwargs)
        clients.append(pc)
        return pc

    yield make
    for pc in clients:
        await pc.close()


def stored(emu: Emulator) -> list[Any]:
    return emu.store.list_files("docs")


@pytest.mark.parametrize("version", ALL)
async def test_upload_from_path_with_metadata(
    version: str, emu: Emulator, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "faq.txt"
    path.write_bytes(DOC)
    pc = make_client(version)
    f = await pc.assistants.upload_file(
        assistant_name="docs", file_path=path, metadata={"team": "x", "n": 1}, wait=True
    )
    assert isinstance(f, AssistantFile)
    assert (f.name, f.status, f.metadata) == (
        "faq.txt",
        FileStatus.AVAILABLE,
        {"team": "x", "n": 1},
    )
    [record] = stored(emu)
    assert (record.id, record.content, record.metadata) == (f.id, DOC, {"team": "x", "n": 1})
    [upload] = emu.log.filter(method="PUT") + emu.log.filter(method="POST")
    if version == "2026-04":
        # Sent as an upsert to a client-chosen id; metadata is a multipart field.
        assert (upload.method, upload.path) == ("PUT", f"{FILES}/{f.id}")
        assert "metadata" not in upload.query
    else:
        assert (upload.method, upload.path) == ("POST", FILES)
        assert orjson.loads(upload.query["metadata"]) == {"team": "x", "n": 1}


async def agen(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class OneWay(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize(
    "source",
    [
        lambda: {"file": DOC, "file_name": "a.md"},
        lambda: {"file": io.BytesIO(DOC), "file_name": "a.md"},
        lambda: {"file": OneWay(DOC), "file_name": "a.md"},
        lambda: {"file": agen(DOC[:10], DOC[10:]), "file_name": "a.md"},
    ],
    ids=["bytes", "seekable", "non-seekable", "async-iterator"],
)
async def test_upload_from_each_source_kind(
    version: str, source: Callable[[], dict[str, Any]], emu: Emulator, make_client: ClientFactory
) -> None:
    pc = make_client(version)
    f = await pc.assistants.upload_file(assistant_name="docs", **source())
    [record] = stored(emu)
    assert (record.id, record.name, record.content) == (f.id, "a.md", DOC)


@pytest.mark.parametrize("version", ALL)
async def test_processing_failure_raises_with_the_server_message(
    version: str, emu: Emulator, make_client: ClientFactory
) -> None:
    pc = make_client(version)
    with pytest.raises(FileProcessingError) as info:
        await pc.assistants.upload_file(
            assistant_name="docs", file=FAIL_MARKER.encode(), file_name="bad.txt", wait=True
        )
    assert "the emulator was asked to fail it" in str(info.value)
    assert info.value.reason is not None
    assert "the emulator was asked to fail it" in info.value.reason


@pytest.mark.parametrize("version", ALL)
async def test_wait_reports_progress(
    version: str, make_client: ClientFactory, instant_retries: None
) -> None:
    async with Emulator(api_keys=(KEY,), file_processing_delay=0.3) as emu:
        emu.store.create_assistant("docs")
        seen: list[float] = []
        async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=version) as pc:
            f = await pc.assistants.upload_file(
                assistant_name="docs", file=DOC, file_name="a.txt", wait=True, progress=seen.append
            )
    assert f.is_available
    assert seen[-1] == 100.0
    assert len(seen) >= 2
    assert seen == sorted(seen)
    assert all(0.0 <= p <= 100.0 for p in seen)


async def test_async_progress_callback(make_client: ClientFactory, instant_retries: None) -> None:
    seen: list[float] = []

    async def progress(percent: float) -> None:
        seen.append(percent)

    pc = make_client("2026-04")
    await pc.assistants.upload_file(
        assistant_name="docs", file=DOC, file_name="a.txt", wait=True, progress=progress
    )
    assert seen[-1] == 100.0


@pytest.mark.parametrize("version", OLD)
@pytest.mark.parametrize("fault", [Fault.drop_after(), Fault.perform_then_status(503)])
async def test_lost_response_upload_is_reconciled_not_duplicated(
    version: str, fault: Fault, emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    emu.faults.script("POST", FILES, [fault])
    pc = make_client(version)
    f = await pc.assistants.upload_file(
        assistant_name="docs", file=DOC, file_name="a.txt", metadata={"k": "v"}
    )
    [record] = stored(emu)
    assert f.id == record.id
    # One upload (performed, answer lost), then one list to find it; no second upload.
    assert emu.log.count(method="POST", path=FILES) == 1
    assert emu.log.count(method="GET", path=FILES) == 1


@pytest.mark.parametrize("version", OLD)
async def test_failed_upload_that_did_not_land_is_resent(
    version: str, emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    emu.faults.script("POST", FILES, [Fault.status(503), Fault.drop_before()])
    pc = make_client(version)
    f = await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
    [record] = stored(emu)
    assert f.id == record.id
    assert emu.log.count(method="POST", path=FILES) == 3
    assert emu.log.count(method="GET", path=FILES) == 2


@pytest.mark.parametrize("version", OLD)
async def test_reconcile_does_not_adopt_a_different_file(
    version: str, emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    pc = make_client(version)
    await pc.assistants.upload_file(
        assistant_name="docs", file=DOC, file_name="a.txt", metadata={"k": "other"}
    )
    emu.faults.script("POST", FILES, [Fault.status(503)])
    f = await pc.assistants.upload_file(
        assistant_name="docs", file=DOC, file_name="a.txt", metadata={"k": "v"}
    )
    assert f.metadata == {"k": "v"}
    assert len(stored(emu)) == 2


@pytest.mark.parametrize("version", OLD)
async def test_upload_gives_up_with_the_policy(
    version: str, emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    emu.faults.script("POST", FILES, [Fault.status(503)], repeat=True)
    pc = make_client(version, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ServerError) as info:
        await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
    assert info.value.attempts == 3
    assert info.value.ambiguous
    assert emu.log.count(method="POST", path=FILES) == 3
    assert stored(emu) == []


async def test_lost_response_upload_2026_is_an_idempotent_upsert(
    emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    emu.faults.script("PUT", FILES + "/*", [Fault.drop_after()])
    pc = make_client("2026-04")
    f = await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
    [record] = stored(emu)
    assert f.id == record.id
    puts = emu.log.filter(method="PUT", path=FILES + "/*")
    assert [p.path for p in puts] == [f"{FILES}/{f.id}"] * 2


@pytest.mark.parametrize("version", ALL)
async def test_rate_limited_upload_is_retried(
    version: str, emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    emu.faults.script("*", FILES + "/**", [Fault.status(429, retry_after=0.01)])
    emu.faults.script("POST", FILES, [Fault.status(429, retry_after=0.01)])
    pc = make_client(version)
    await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
    assert len(stored(emu)) == 1


async def test_upsert_by_file_id_replaces(emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client("2026-04")
    first = await pc.assistants.upload_file(
        assistant_name="docs", file=b"one", file_name="a.txt", file_id="doc-1", wait=True
    )
    second = await pc.assistants.upload_file(
        assistant_name="docs", file=b"two", file_name="a.txt", file_id="doc-1", wait=True
    )
    assert first.id == second.id == "doc-1"
    [record] = stored(emu)
    assert record.content == b"two"
    ops = await pc.assistants.list_operations(assistant_name="docs", operation_type="upsert_file")
    assert len(ops) == 2


@pytest.mark.parametrize("version", OLD)
async def test_file_id_needs_2026(version: str, emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client(version)
    with pytest.raises(ValidationError, match="2026-04"):
        await pc.assistants.upload_file(
            assistant_name="docs", file=DOC, file_name="a.txt", file_id="x"
        )
    assert emu.log.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"file": DOC, "file_name": "a.csv"}, r"\.txt \.pdf"),
        ({"file": b"", "file_name": "a.txt"}, "empty"),
        ({"file": DOC, "file_name": "a.txt", "metadata": ["x"]}, "JSON object"),
        ({"file": DOC, "file_name": "a.txt", "metadata": {"k": "x" * 17000}}, "16384"),
        ({"file": DOC, "file_name": "a.txt", "multimodal": True}, "PDF files only"),
        ({"file": DOC, "file_name": "a.txt", "multimodal": "yes"}, "True, False or None"),
        ({"file": DOC, "file_name": "a.txt", "file_id": "bad id"}, "1-128 characters"),
        ({"file": DOC, "file_name": "a.txt", "wait_timeout": -1}, "wait_timeout"),
        ({"file": DOC, "file_name": "a.txt", "progress": 3}, "progress"),
        ({"file_path": "/nonexistent/a.txt"}, "does not exist"),
    ],
)
async def test_bad_input_is_rejected_before_any_request(
    kwargs: dict[str, Any], message: str, emu: Emulator, make_client: ClientFactory
) -> None:
    pc = make_client("2026-04")
    with pytest.raises(ValidationError, match=message):
        await pc.assistants.upload_file(assistant_name="docs", **kwargs)
    assert emu.log.count() == 0


async def test_bad_assistant_name(emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client()
    with pytest.raises(ValidationError, match="assistant_name"):
        await pc.assistants.list_files(assistant_name="Not Valid")
    assert emu.log.count() == 0


async def test_multimodal_query_flag(emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client("2025-10")
    f = await pc.assistants.upload_file(
        assistant_name="docs", file=b"%PDF-1.4 x", file_name="m.pdf", multimodal=True
    )
    assert f.multimodal is True
    assert emu.log.filter(method="POST")[0].query["multimodal"] == "true"
    pc_old = make_client("2025-04")
    with pytest.raises(ValidationError, match="2025-10"):
        await pc_old.assistants.upload_file(
            assistant_name="docs", file=b"%PDF", file_name="m.pdf", multimodal=True
        )


@pytest.mark.parametrize("version", ALL)
async def test_describe_list_filter_delete(
    version: str, emu: Emulator, make_client: ClientFactory
) -> None:
    pc = make_client(version)
    a = await pc.assistants.upload_file(
        assistant_name="docs", file=DOC, file_name="a.txt", metadata={"team": "x"}
    )
    b = await pc.assistants.upload_file(
        assistant_name="docs", file=DOC, file_name="b.txt", metadata={"team": "y"}
    )
    described = await pc.assistants.describe_file(assistant_name="docs", file_id=a.id)
    assert (described.id, described.name, described.signed_url) == (a.id, "a.txt", None)
    with_url = await pc.assistants.describe_file(
        assistant_name="docs", file_id=a.id, include_url=True
    )
    assert with_url.signed_url is not None
    assert with_url.signed_url not in repr(with_url)
    everything = await pc.assistants.list_files(assistant_name="docs")
    assert {f.id for f in everything} == {a.id, b.id}
    team_x = await pc.assistants.list_files(assistant_name="docs", filter={"team": {"$eq": "x"}})
    assert [f.id for f in team_x] == [a.id]
    assert orjson.loads(emu.log.filter(method="GET", path=FILES)[-1].query["filter"]) == {
        "team": {"$eq": "x"}
    }
    await pc.assistants.delete_file(assistant_name="docs", file_id=a.id, wait=True)
    with pytest.raises(NotFoundError):
        await pc.assistants.describe_file(assistant_name="docs", file_id=a.id)
    with pytest.raises(NotFoundError):
        await pc.assistants.delete_file(assistant_name="docs", file_id=a.id)
    assert [f.id for f in stored(emu)] == [b.id]


@pytest.mark.parametrize("version", ALL)
async def test_delete_wait_polls_until_gone(version: str, instant_retries: None) -> None:
    async with Emulator(api_keys=(KEY,), delete_delay=0.2) as emu:
        emu.store.create_assistant("docs")
        async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=version) as pc:
            f = await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
            await pc.assistants.delete_file(assistant_name="docs", file_id=f.id, wait=True)
            assert emu.store.list_files("docs") == []
            polls = emu.log.filter(method="GET", path=FILES + "/*")
            polls += emu.log.filter(method="GET", path="/assistant/operations/docs/*")
            assert len(polls) >= 2


@pytest.mark.parametrize("version", ALL)
async def test_retried_delete_that_meets_404_succeeded(
    version: str, emu: Emulator, make_client: ClientFactory, instant_retries: None
) -> None:
    pc = make_client(version)
    f = await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
    emu.faults.script("DELETE", FILES + "/*", [Fault.drop_after()])
    await pc.assistants.delete_file(assistant_name="docs", file_id=f.id)
    assert stored(emu) == []
    assert emu.log.count(method="DELETE") == 2


async def test_list_files_follows_every_page_2026(
    emu: Emulator, make_client: ClientFactory
) -> None:
    for i in range(105):
        emu.store.put_file("docs", name=f"f{i}.txt", content=b"x", metadata={"i": i})
    pc = make_client("2026-04")
    files = await pc.assistants.list_files(assistant_name="docs")
    assert len({f.id for f in files}) == 105
    assert emu.log.count(method="GET", path=FILES) == 2
    page = await pc.assistants.list_files_page(assistant_name="docs", page_size=10)
    assert len(page.files) == 10
    assert page.pagination is not None
    assert page.pagination.next


@pytest.mark.parametrize("version", OLD)
async def test_pagination_tokens_need_2026(version: str, make_client: ClientFactory) -> None:
    pc = make_client(version)
    # issue 14: *_page works on every version (one page: every file, no token) ...
    page = await pc.assistants.list_files_page(assistant_name="docs", page_size=5)
    assert page.next is None
    # ... but a token to go on from does not exist before 2026-04
    with pytest.raises(ValidationError, match="2026-04"):
        await pc.assistants.list_files_page(assistant_name="docs", pagination_token="t")


async def test_operations_2026(emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client("2026-04")
    f = await pc.assistants.upload_file(assistant_name="docs", file=DOC, file_name="a.txt")
    await pc.assistants.delete_file(assistant_name="docs", file_id=f.id)
    ops = await pc.assistants.list_operations(assistant_name="docs")
    # Uploads without a file_id are upserts to a client-chosen id on 2026-04.
    assert {o.operation_type for o in ops} == {"upsert_file", "delete_file"}
    assert all(o.file_id == f.id for o in ops)
    deletes = await pc.assistants.list_operations(
        assistant_name="docs", operation_type="delete_file", status="Completed"
    )
    assert [o.operation_type for o in deletes] == ["delete_file"]
    op = await pc.assistants.describe_operation(assistant_name="docs", operation_id=ops[0].id)
    assert op.id == ops[0].id
    assert op.is_done
    done = await pc.assistants.wait_for_operation(assistant_name="docs", operation_id=op.id)
    assert done.status == "Completed"
    with pytest.raises(NotFoundError):
        await pc.assistants.describe_operation(assistant_name="docs", operation_id="nope")
    with pytest.raises(ValidationError, match="operation_type"):
        await pc.assistants.list_operations(assistant_name="docs", operation_type="nope")


@pytest.mark.parametrize("version", OLD)
async def test_operations_need_2026(
    version: str, emu: Emulator, make_client: ClientFactory
) -> None:
    pc = make_client(version)
    with pytest.raises(ValidationError, match="2026-04"):
        await pc.assistants.list_operations(assistant_name="docs")
    assert emu.log.count() == 0


async def test_failed_operation_wait(emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client("2026-04")
    f = await pc.assistants.upload_file(
        assistant_name="docs", file=FAIL_MARKER.encode(), file_name="a.txt"
    )
    [op] = await pc.assistants.list_operations(assistant_name="docs")
    assert op.file_id == f.id
    with pytest.raises(FileProcessingError, match="asked to fail"):
        await pc.assistants.wait_for_operation(assistant_name="docs", operation_id=op.id)


async def test_upload_to_missing_assistant(emu: Emulator, make_client: ClientFactory) -> None:
    pc = make_client()
    with pytest.raises(NotFoundError):
        await pc.assistants.upload_file(assistant_name="nope", file=DOC, file_name="a.txt")


async def test_transport_error_when_host_is_down(make_client: ClientFactory) -> None:
    async with Emulator(api_keys=(KEY,)) as other:
        other.store.create_assistant("docs")
        url = other.url
    async with AsyncPinecone(api_key=KEY, host=url, retry=RetryPolicy.none()) as pc:
        with pytest.raises(TransportError):
            await pc.assistants.list_files(assistant_name="docs")


async def test_large_upload_streams_in_chunks(
    emu: Emulator, make_client: ClientFactory, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "big.txt"  # random bytes: not a PDF, which would fail processing
    path.write_bytes(data)
    pc = make_client("2026-04")
    f = await pc.assistants.upload_file(assistant_name="docs", file_path=path, wait=True)
    [record] = stored(emu)
    assert (record.id, record.content) == (f.id, data)
    assert f.size == len(data)


@pytest.mark.parametrize(
    ("percent_done", "percent"),
    [(0.0, 0.0), (0.25, 25.0), (1.0, 100.0), (90.0, 90.0), (100.0, 100.0), (250.0, 100.0)],
)
def test_percent_done_is_read_as_a_fraction_or_a_percentage(
    percent_done: float, percent: float
) -> None:
    from aiopinecone.resources._files import as_percent as _as_percent

    assert _as_percent(percent_done) == percent
