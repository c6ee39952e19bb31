"""Bad input never crashes the emulator: every answer is a success or the error envelope."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiopinecone.emulator import Emulator

ROUTES = [
    ("GET", "/assistant/assistants"),
    ("POST", "/assistant/assistants"),
    ("GET", "/assistant/assistants/fuzz"),
    ("PATCH", "/assistant/assistants/fuzz"),
    ("DELETE", "/assistant/assistants/other"),
    ("GET", "/assistant/files/fuzz"),
    ("POST", "/assistant/files/fuzz"),
    ("GET", "/assistant/files/fuzz/some-id"),
    ("PUT", "/assistant/files/fuzz/some-id"),
    ("DELETE", "/assistant/files/fuzz/some-id"),
    ("GET", "/assistant/operations/fuzz"),
    ("GET", "/assistant/operations/fuzz/op-1"),
    ("POST", "/assistant/chat/fuzz"),
    ("POST", "/assistant/chat/fuzz/chat/completions"),
    ("POST", "/assistant/chat/fuzz/context"),
    ("POST", "/assistant/evaluation/metrics/alignment"),
    ("PUT", "/assistant/assistants"),
    ("GET", "/assistant/nowhere"),
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "name",
        "instructions",
        "metadata",
        "region",
        "messages",
        "stream",
        "query",
        "filter",
        "top_k",
        "snippet_size",
        "model",
        "question",
        "answer",
        "ground_truth_answer",
        "json_response",
        "include_highlights",
        "context_options",
        "temperature",
    ]
)
BODIES = st.one_of(
    st.binary(max_size=64),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(FIELDS, JSON_VALUES, max_size=5).map(lambda v: json.dumps(v).encode()),
)
QUERIES = st.dictionaries(
    st.sampled_from(
        [
            "limit",
            "pagination_token",
            "filter",
            "include_url",
            "metadata",
            "multimodal",
            "operation_type",
            "status",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
    max_size=3,
)
VERSIONS = st.sampled_from([None, "2025-04", "2025-10", "2026-04", "2026-07", "bad", ""])
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=b"]
)


def send(url: str, method: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def check_envelope(status: int, raw: bytes) -> None:
    assert status < 500, raw
    if status >= 400:
        body: Any = json.loads(raw)
        assert body["status"] == status
        assert isinstance(body["error"]["code"], str)
        assert isinstance(body["error"]["message"], str)
        assert "Traceback" not in body["error"]["message"]


def test_random_requests_get_envelopes() -> None:
    with Emulator(max_body_size=4096).in_thread() as emu:
        emu.store.create_assistant("fuzz")
        emu.store.put_file("fuzz", name="doc.txt", content=b"Fuzzing finds bugs early.")

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            route=st.sampled_from(ROUTES),
            body=BODIES,
            query=QUERIES,
            version=VERSIONS,
            content_type=CONTENT_TYPES,
        )
        def probe(
            route: tuple[str, str],
            body: bytes,
            query: dict[str, str],
            version: str | None,
            content_type: str,
        ) -> None:
            method, path = route
            url = emu.url + path
            if query:
                url += "?" + urllib.parse.urlencode(query)
            headers = {"Api-Key": "k", "Content-Type": content_type}
            if version is not None:
                headers["X-Pinecone-Api-Version"] = version
            status, raw = send(url, method, body, headers)
            check_envelope(status, raw)

        probe()
        # The emulator still answers normally afterwards.
        status, raw = send(emu.url + "/assistant/assistants/fuzz", "GET", b"", {"Api-Key": "k"})
        assert status == 200
        assert json.loads(raw)["name"] == "fuzz"


def test_oversized_json_body() -> None:
    with Emulator(max_body_size=1024).in_thread() as emu:
        emu.store.create_assistant("fuzz")
        body = json.dumps({"messages": [{"role": "user", "content": "x" * 5000}]}).encode()
        for path in (
            "/assistant/chat/fuzz",
            "/assistant/chat/fuzz/context",
            "/assistant/evaluation/metrics/alignment",
        ):
            status, raw = send(
                emu.url + path, "POST", body, {"Api-Key": "k", "Content-Type": "application/json"}
            )
            assert status == 413
            check_envelope(status, raw)
