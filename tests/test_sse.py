"""The incremental SSE parser: field rules, chunk-boundary independence, big events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiopinecone._sse import DONE, SSEDecoder, SSEError, SSEEvent, aiter_sse


def parse(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, prev = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[prev:point])
        prev = point
    return pieces


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"data: hi\n\n", [SSEEvent(data="hi")]),
        (b"data:hi\n\n", [SSEEvent(data="hi")]),
        (b"data:  two spaces\n\n", [SSEEvent(data=" two spaces")]),
        (b"data: a\ndata: b\n\n", [SSEEvent(data="a\nb")]),
        (b"data: a\r\ndata: b\r\n\r\n", [SSEEvent(data="a\nb")]),
        (b"data: a\rdata: b\r\r", [SSEEvent(data="a\nb")]),
        (b": heartbeat\n\ndata: x\n\n", [SSEEvent(data="x")]),
        (b"event: ping\nid: 7\nretry: 1500\ndata: x\n\n", [SSEEvent("x", "ping", "7", 1500)]),
        (b"retry: soon\ndata: x\n\n", [SSEEvent(data="x")]),
        (b"data\n\n", [SSEEvent(data="")]),
        (b"data:\n\n", [SSEEvent(data="")]),
        (b"event: only\n\n", []),  # no data lines: nothing is dispatched
        (b"unknown: field\ndata: x\n\n", [SSEEvent(data="x")]),
        (b"\xef\xbb\xbfdata: bom\n\n", [SSEEvent(data="bom")]),
        (b"data: caf\xc3\xa9\n\n", [SSEEvent(data="café")]),
        (b'data: {"a": 1}\n\ndata: [DONE]\n\n', [SSEEvent('{"a": 1}'), SSEEvent(DONE)]),
        # An unterminated last event is kept (servers that close right after data:).
        (b"data: tail", [SSEEvent(data="tail")]),
        (b"data: tail\n", [SSEEvent(data="tail")]),
    ],
)
def test_fields(stream: bytes, expected: list[SSEEvent]) -> None:
    assert parse(stream) == expected


def test_id_persists_across_events() -> None:
    events = parse(b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
    assert [e.id for e in events] == ["1", "1", ""]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    # "\r" ends a chunk and "\n" starts the next: one terminator, not an empty line.
    assert parse(b"data: a\r", b"\ndata: b\r\n\r\n") == [SSEEvent(data="a\nb")]


def test_utf8_sequence_split_between_chunks() -> None:
    raw = "data: 日本語 ✓\n\n".encode()
    for cut in range(1, len(raw)):
        assert parse(raw[:cut], raw[cut:]) == [SSEEvent(data="日本語 ✓")]


def test_one_megabyte_event_fed_in_small_chunks() -> None:
    payload = "x" * (1024 * 1024)
    raw = f"event: citation\ndata: {payload}\n\n".encode()
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for i in range(0, len(raw), 7):
        events.extend(decoder.feed(raw[i : i + 7]))
    assert len(events) == 1
    assert events[0].event == "citation"
    assert events[0].data == payload


def test_event_larger_than_the_guard_is_an_error() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    decoder.feed(b"data: " + b"x" * 900 + b"\n")
    with pytest.raises(SSEError, match="exceeds 1000 bytes"):
        decoder.feed(b"data: " + b"y" * 200)


def test_guard_resets_per_event() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    for _ in range(50):
        assert decoder.feed(b"data: " + b"z" * 80 + b"\n\n") == [SSEEvent(data="z" * 80)]


_line_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=40
)
_event = st.tuples(
    st.sampled_from(["", "message", "citation", "content_chunk"]),
    st.lists(_line_text, min_size=1, max_size=4),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)


def encode(events: list[tuple[str, list[str], str, bool]]) -> tuple[bytes, list[SSEEvent]]:
    out, expected = [], []
    for name, lines, eol, comment in events:
        if comment:
            out.append(f": keepalive{eol}")
        if name:
            out.append(f"event: {name}{eol}")
        out.extend(f"data: {line}{eol}" for line in lines)
        out.append(eol)
        expected.append(SSEEvent(data="\n".join(lines), event=name or "message"))
    return "".join(out).encode(), expected


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_event, max_size=6), cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_any_chunking_yields_the_same_events(
    events: list[tuple[str, list[str], str, bool]], cuts: list[int]
) -> None:
    raw, expected = encode(events)
    assert parse(raw) == expected
    assert parse(*split_at(raw, cuts)) == expected
    assert parse(*(raw[i : i + 1] for i in range(len(raw)))) == expected


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_aiter_sse_stops_at_done() -> None:
    stream = _chunks(b"data: 1\n\nda", b"ta: [DONE]\n\ndata: after\n\n")
    assert [e.data async for e in aiter_sse(stream, stop_at_done=True)] == ["1"]


async def test_aiter_sse_keeps_done_when_not_asked() -> None:
    stream = _chunks(b"data: 1\n\ndata: [DONE]\n\n")
    assert [e.data async for e in aiter_sse(stream)] == ["1", DONE]


async def test_aiter_sse_flushes_unterminated_tail() -> None:
    assert [e.data async for e in aiter_sse(_chunks(b"data: 1\n\ndata: 2"))] == ["1", "2"]
