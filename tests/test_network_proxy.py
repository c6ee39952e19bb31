"""Requests through a real forward proxy process (proxy.py on loopback): plain http and CONNECT
tunnels to https, with and without credentials, from ``proxy=`` and from the environment
(``trust_env=True``, ``NO_PROXY`` honoured), and the rule that keeps the API key off a proxy in
clear text. The proxy's access log says what went through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import API_KEY
from proxy_server import ProxyServer
from tls_certs import TlsFiles

from aiopinecone import APIError, AsyncPinecone, TransportError, ValidationError
from aiopinecone.emulator import Emulator

PROXY_USER = "proxy-user"
PROXY_PASSWORD = "s3cret-proxy-pass"


@pytest.fixture(scope="module")
def open_proxy() -> Iterator[ProxyServer]:
    with ProxyServer() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def auth_proxy() -> Iterator[ProxyServer]:
    with ProxyServer(basic_auth=f"{PROXY_USER}:{PROXY_PASSWORD}") as proxy:
        yield proxy


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1]


async def test_plain_http_through_a_loopback_proxy(
    open_proxy: ProxyServer, emulator: Emulator
) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, proxy=open_proxy.url) as pc:
        await pc.assistants.create(name="via-proxy")
        assert await pc.assistants.list_files(assistant_name="via-proxy") == []
    lines = open_proxy.wait_for_access(f"127.0.0.1:{_port(emulator.url)}/assistant/")
    assert any("POST" in line for line in lines)
    assert emulator.log.count() == 2


async def test_https_tunnel_with_credentials_in_the_url(
    auth_proxy: ProxyServer, tls_emulator: Emulator, tls_files: TlsFiles
) -> None:
    proxy = auth_proxy.url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@")
    async with AsyncPinecone(
        api_key=API_KEY, host=tls_emulator.url, proxy=proxy, ssl=tls_files.ca_pem
    ) as pc:
        assert await pc.assistants.list() == []
    lines = auth_proxy.wait_for_access(f"CONNECT 127.0.0.1:{_port(tls_emulator.url)}")
    assert lines
    assert tls_emulator.log.count(path="/assistant/assistants") == 1


async def test_credentials_as_proxy_auth(auth_proxy: ProxyServer, emulator: Emulator) -> None:
    async with AsyncPinecone(
        api_key=API_KEY,
        host=emulator.url,
        proxy=auth_proxy.url,
        proxy_auth=(PROXY_USER, PROXY_PASSWORD),
    ) as pc:
        assert await pc.assistants.list() == []
    assert auth_proxy.wait_for_access(f"127.0.0.1:{_port(emulator.url)}/assistant/assistants")


async def test_wrong_credentials_tunnel_refused_without_leaking(
    auth_proxy: ProxyServer, tls_emulator: Emulator, tls_files: TlsFiles
) -> None:
    async with AsyncPinecone(
        api_key=API_KEY,
        host=tls_emulator.url,
        proxy=auth_proxy.url,
        proxy_auth=(PROXY_USER, "wrong-password"),
        ssl=tls_files.ca_pem,
    ) as pc:
        with pytest.raises(TransportError) as caught:
            await pc.assistants.list()
    text = f"{caught.value} {caught.value!r}"
    assert "407" in text
    assert "proxy credentials" in text
    for secret in (API_KEY, "wrong-password", PROXY_PASSWORD):
        assert secret not in text
    assert caught.value.ambiguous is False
    assert tls_emulator.log.count() == 0


async def test_missing_credentials_on_plain_http_is_a_typed_error(
    auth_proxy: ProxyServer, emulator: Emulator
) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, proxy=auth_proxy.url) as pc:
        with pytest.raises(APIError) as caught:
            await pc.assistants.list()
    assert caught.value.status == 407
    assert API_KEY not in str(caught.value)
    assert emulator.log.count() == 0


@pytest.mark.usefixtures("instant_retries")  # the 30 s connect budget is charged, not slept
async def test_unreachable_proxy(emulator: Emulator) -> None:
    async with AsyncPinecone(
        api_key=API_KEY,
        host=emulator.url,
        proxy=f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:9",
    ) as pc:
        with pytest.raises(TransportError) as caught:
            await pc.assistants.list()
    assert "cannot connect to the proxy 127.0.0.1:9" in str(caught.value)
    assert PROXY_PASSWORD not in str(caught.value)
    assert caught.value.ambiguous is False


async def test_trust_env_uses_the_environment_and_honours_no_proxy(
    open_proxy: ProxyServer, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", open_proxy.url)
    needle = f"127.0.0.1:{_port(emulator.url)}/assistant/assistants"
    # Off by default: the environment is not read.
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url) as pc:
        await pc.assistants.list()
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, trust_env=True) as pc:
        await pc.assistants.list()
    assert len(open_proxy.wait_for_access(needle)) == 1
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, trust_env=True) as pc:
        await pc.assistants.list()
    assert emulator.log.count(path="/assistant/assistants") == 3
    # The bypassed request never reached the proxy (its line would have come with the first).
    assert len(open_proxy.wait_for_access(needle, timeout=1.0)) == 1


def test_the_key_never_reaches_a_remote_proxy_in_clear_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote = "http://proxy.corp.example:3128"
    with pytest.raises(ValidationError, match="clear text through the proxy"):
        AsyncPinecone(api_key=API_KEY, host="http://127.0.0.1:8765", proxy=remote)
    # https origins tunnel through it (CONNECT): allowed.
    AsyncPinecone(api_key=API_KEY, host="https://api.pinecone.io", proxy=remote)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", remote)
    with pytest.raises(ValidationError, match="clear text"):
        AsyncPinecone(api_key=API_KEY, host="http://127.0.0.1:8765", trust_env=True)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    AsyncPinecone(api_key=API_KEY, host="http://127.0.0.1:8765", trust_env=True)


def test_proxy_values_are_checked_without_echoing_them() -> None:
    with pytest.raises(ValidationError) as caught:
        AsyncPinecone(api_key=API_KEY, proxy=f"socks5://u:{PROXY_PASSWORD}@127.0.0.1:1080")
    assert PROXY_PASSWORD not in str(caught.value)
    with pytest.raises(ValidationError, match="once"):
        AsyncPinecone(
            api_key=API_KEY,
            proxy=f"http://u:{PROXY_PASSWORD}@127.0.0.1:3128",
            proxy_auth=("u", "p"),
        )
    with pytest.raises(ValidationError, match="needs proxy="):
        AsyncPinecone(api_key=API_KEY, proxy_auth=("u", "p"))
    pc = AsyncPinecone(api_key=API_KEY, proxy=f"http://u:{PROXY_PASSWORD}@127.0.0.1:3128")
    assert PROXY_PASSWORD not in repr(pc)


async def test_mcp_helpers_use_the_clients_proxy(
    open_proxy: ProxyServer, emulator: Emulator
) -> None:
    emulator.store.create_assistant("docs")
    emulator.store.put_file("docs", name="faq.txt", content=b"Shipping takes 5 days.\n")
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, proxy=open_proxy.url) as pc:
        result = await pc.assistants.mcp_context(assistant_name="docs", query="shipping")
    assert result.content
    assert open_proxy.wait_for_access(f"127.0.0.1:{_port(emulator.url)}/mcp/assistants/docs")


@pytest.mark.parametrize("where", ["url", "proxy_auth"])
async def test_proxy_credentials_echoed_by_a_server_are_redacted(
    open_proxy: ProxyServer, emulator: Emulator, where: str
) -> None:
    import base64

    from aiopinecone import BadRequestError, RetryPolicy
    from aiopinecone.emulator.faults import Fault

    token = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    emulator.faults.script(
        "GET",
        "/assistant/assistants/echo",
        Fault.status(400, "INVALID_ARGUMENT", f"saw {PROXY_PASSWORD} and Basic {token}"),
    )
    if where == "url":
        options: dict[str, object] = {
            "proxy": open_proxy.url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@")
        }
    else:
        options = {"proxy": open_proxy.url, "proxy_auth": (PROXY_USER, PROXY_PASSWORD)}
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, **options) as pc:  # type: ignore[arg-type]
        with pytest.raises(BadRequestError) as caught:
            await pc.assistants.describe(name="echo", retry=RetryPolicy.none())
    text = f"{caught.value} {caught.value!r} {caught.value.details!r}"
    assert "<redacted>" in text
    assert PROXY_PASSWORD not in text
    assert token not in text
