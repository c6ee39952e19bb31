"""The API key is redacted in every form a server may echo it in (issue 12).

As sent, upper- or lower-cased (or any mix), URL-encoded (``%2B``/``%2b``, once or twice),
JSON-escaped, and combinations; in error messages, details, request ids, non-JSON bodies and
stream events. Each form is echoed by the emulator (a scripted fault) and looked for,
case-insensitively and decoded, in everything the caller can see of the error.
"""

from __future__ import annotations

import traceback
import urllib.parse
from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from aiopinecone import APIError, AsyncPinecone, PineconeError, RetryPolicy, ServerError
from aiopinecone._redact import REDACTED, Redactor
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

KEY = "pcsk_Ab+9/xY=Zq_s3cret-Leak"
DESCRIBE = "/assistant/assistants/{name}"
CHAT = "/assistant/chat/{name}"


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def lower_hex(text: str) -> str:
    """Percent-encode every byte with lower-case hex digits (``%2b``)."""
    return "".join(f"%{b:02x}" for b in text.encode())


FORMS: dict[str, Callable[[str], str]] = {
    "as sent": lambda k: k,
    "upper": str.upper,
    "lower": str.lower,
    "swapped case": str.swapcase,
    "url-encoded": quote,
    "url-encoded, lower hex": lambda k: quote(k).replace("%2B", "%2b").replace("%2F", "%2f"),
    "every byte encoded": lower_hex,
    "upper then encoded": lambda k: quote(k.upper()),
    "encoded then lower": lambda k: quote(k).lower(),
    "encoded twice": lambda k: quote(quote(k)),
    "json-escaped slash": lambda k: k.replace("/", "\\/"),
    "form-decoded": lambda k: k.replace("+", " "),
    "mixed": lambda k: quote(k[:9]).lower() + k[9:].upper(),
}


def variants(key: str) -> list[str]:
    """What a leak could look like in the caller's text: every form, and its decodings."""
    out = set()
    for form in FORMS.values():
        text = form(key)
        out.update({text, urllib.parse.unquote(text), urllib.parse.unquote(text).lower()})
    return sorted(out)


def leaked(text: str) -> list[str]:
    low = text.lower()
    return [v for v in variants(KEY) if v.lower() in low]


def visible(exc: BaseException) -> str:
    """Everything a user can see of an error: str, repr, attributes, its whole traceback."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for attr in ("message", "code", "request_id", "details"):
        value = getattr(exc, attr, None)
        if value is not None:
            parts.append(repr(value))
    return "\n".join(parts)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), ready_delay=0.0, delete_delay=0.0) as e:
        e.store.create_assistant("docs")
        yield e


@pytest.fixture
async def pc(emu: Emulator) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(api_key=KEY, host=emu.url) as client:
        yield client


@pytest.mark.parametrize("form", FORMS)
async def test_an_echo_in_an_error_envelope_is_redacted(
    emu: Emulator, pc: AsyncPinecone, form: str
) -> None:
    echoed = FORMS[form](KEY)
    body = {
        "error": {
            "code": "INVALID_ARGUMENT",
            "message": f"bad key {echoed}!",
            "details": {"key": echoed, "seen": [echoed, {"nested": f"k={echoed}"}]},
        },
        "status": 400,
    }
    emu.faults.script(
        "GET",
        DESCRIBE,
        [
            Fault.status(
                400,
                body=orjson.dumps(body),
                content_type="application/json",
                headers={"x-pinecone-request-id": f"req-{echoed}"},
            )
        ],
    )
    with pytest.raises(APIError) as info:
        await pc.assistants.describe(name="docs")
    error = info.value
    assert leaked(visible(error)) == []
    assert error.message == f"bad key {REDACTED}!"
    assert error.details == {"key": REDACTED, "seen": [REDACTED, {"nested": f"k={REDACTED}"}]}
    assert error.request_id == f"req-{REDACTED}"


@pytest.mark.parametrize("form", FORMS)
async def test_an_echo_in_a_page_that_is_not_json_is_redacted(
    emu: Emulator, pc: AsyncPinecone, form: str
) -> None:
    echoed = FORMS[form](KEY)
    emu.faults.script(
        "GET",
        DESCRIBE,
        [Fault.status(502, body=f"<html>proxy saw Api-Key: {echoed}</html>")],
        repeat=True,
    )
    with pytest.raises(ServerError) as info:
        await pc.assistants.describe(name="docs", retry=RetryPolicy.none())
    assert leaked(visible(info.value)) == []
    assert REDACTED in str(info.value)


@pytest.mark.parametrize("form", ["as sent", "upper", "url-encoded", "encoded then lower"])
async def test_an_echo_in_a_stream_event_is_redacted(
    emu: Emulator, pc: AsyncPinecone, form: str
) -> None:
    echoed = FORMS[form](KEY)
    event = {"error": {"code": "INTERNAL", "message": f"stream saw {echoed}"}}
    body = b"data: " + orjson.dumps(event) + b"\n\n"
    emu.faults.script(
        "POST", CHAT, [Fault.status(200, body=body, content_type="text/event-stream")]
    )
    stream = await pc.assistants.chat(
        assistant_name="docs", messages=[{"role": "user", "content": "hi"}], stream=True
    )

    async def read_all() -> None:
        async with stream:
            async for _ in stream:
                pass

    with pytest.raises(PineconeError) as info:
        await read_all()
    assert leaked(visible(info.value)) == []
    assert REDACTED in str(info.value)


@pytest.mark.parametrize("form", FORMS)
def test_the_redactor_finds_every_form(form: str) -> None:
    redactor = Redactor(KEY)
    echoed = FORMS[form](KEY)
    assert redactor.text(f"a {echoed} b") == f"a {REDACTED} b"
    assert redactor.body(f"a {echoed} b".encode()) == f"a {REDACTED} b".encode()


def test_the_redactor_leaves_other_text_alone() -> None:
    redactor = Redactor(KEY)
    body = b'{"error": {"message": "nothing to see"}}'
    assert redactor.body(body) is body
    near = KEY[:-1]  # the key cut short is not the key
    assert redactor.text(near) == near
    assert redactor.text(quote(near)) == quote(near)
