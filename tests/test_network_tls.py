"""https against the emulator over real TLS: a custom CA accepted, a wrong CA and a hostname
mismatch refused with a clear ``TransportError``; the emulator's CLI and thread-hosted TLS."""

from __future__ import annotations

import logging
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from conftest import API_KEY
from tls_certs import TlsFiles, make_tls_files

from aiopinecone import AsyncPinecone, RetryPolicy, TransportError, ValidationError
from aiopinecone.emulator import Emulator, EmulatorConfig


async def test_custom_ca_bundle_path_is_accepted(
    tls_emulator: Emulator, tls_files: TlsFiles
) -> None:
    assert tls_emulator.url.startswith("https://")
    async with AsyncPinecone(api_key=API_KEY, host=tls_emulator.url, ssl=tls_files.ca_pem) as pc:
        created = await pc.assistants.create(name="tls-one")
        assert (created.host or "").startswith("https://")
        # The data plane (the assistant's host) goes over the same verified TLS.
        assert await pc.assistants.list_files(assistant_name="tls-one") == []
    assert tls_emulator.log.count(path="/assistant/files/tls-one") == 1


async def test_ssl_context_is_used_as_given(tls_emulator: Emulator, tls_files: TlsFiles) -> None:
    context = ssl.create_default_context(cafile=str(tls_files.ca_pem))
    async with AsyncPinecone(api_key=API_KEY, host=tls_emulator.url, ssl=context) as pc:
        assert await pc.assistants.list() == []
        assert pc.connector is not None


async def test_default_trust_refuses_the_private_ca(tls_emulator: Emulator) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=tls_emulator.url) as pc:
        with pytest.raises(TransportError) as caught:
            await pc.assistants.list()
    message = str(caught.value)
    assert "TLS certificate verification failed" in message
    assert "ssl=" in message
    assert caught.value.ambiguous is False
    assert API_KEY not in message


async def test_wrong_ca_is_refused(tls_emulator: Emulator, tmp_path: Path) -> None:
    other = make_tls_files(tmp_path, label="other")
    async with AsyncPinecone(api_key=API_KEY, host=tls_emulator.url, ssl=other.ca_pem) as pc:
        with pytest.raises(TransportError, match="certificate verif"):
            await pc.assistants.list()
    assert tls_emulator.log.count() == 0  # nothing reached the application


async def test_hostname_mismatch_is_refused(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path, "api.example.test", label="mismatch")
    async with Emulator(
        api_keys=(API_KEY,), tls_cert=str(files.cert_pem), tls_key=str(files.key_pem)
    ) as emu:
        async with AsyncPinecone(api_key=API_KEY, host=emu.url, ssl=files.ca_pem) as pc:
            with pytest.raises(TransportError) as caught:
                await pc.assistants.list()
        assert "mismatch" in str(caught.value).lower() or "127.0.0.1" in str(caught.value)
        assert "TLS certificate verification failed" in str(caught.value)
        assert emu.log.count() == 0


async def test_ssl_false_logs_the_risk_and_connects(
    tls_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="aiopinecone"):
        pc = AsyncPinecone(api_key=API_KEY, host=tls_emulator.url, ssl=False)
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    assert "verification is OFF" in warning[0].getMessage()
    assert "API key" in warning[0].getMessage()
    async with pc:
        assert await pc.assistants.list() == []


def test_bad_ssl_values_are_refused_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot load the CA bundle"):
        AsyncPinecone(api_key=API_KEY, ssl=tmp_path / "missing.pem")
    not_pem = tmp_path / "garbage.pem"
    not_pem.write_text("not a certificate")
    with pytest.raises(ValidationError, match="cannot load the CA bundle"):
        AsyncPinecone(api_key=API_KEY, ssl=not_pem)
    with pytest.raises(ValidationError, match="ssl must be"):
        AsyncPinecone(api_key=API_KEY, ssl=3)  # type: ignore[arg-type]


async def test_network_options_are_refused_with_a_callers_session() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValidationError, match="your own session"):
            AsyncPinecone(api_key=API_KEY, session=session, ssl=False)


def test_threaded_emulator_serves_tls(tls_files: TlsFiles) -> None:
    config = EmulatorConfig(tls_cert=str(tls_files.cert_pem), tls_key=str(tls_files.key_pem))
    with Emulator(config=config).in_thread() as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(tls_files.ca_pem))
        import urllib.request

        request = urllib.request.Request(
            emu.url + "/assistant/assistants", headers={"Api-Key": "any"}
        )
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            assert answer.status == 200


def test_tls_key_needs_a_certificate() -> None:
    with pytest.raises(ValueError, match="tls_key needs tls_cert"):
        EmulatorConfig(tls_key="key.pem")


def test_emulator_cli_serves_tls(tls_files: TlsFiles) -> None:
    command = [
        sys.executable,
        "-m",
        "aiopinecone.emulator",
        "--port",
        "0",
        "--tls-cert",
        str(tls_files.cert_pem),
        "--tls-key",
        str(tls_files.key_pem),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on https://127.0.0.1:" in line
        url = line.strip().rsplit(" ", 1)[1]
        context = ssl.create_default_context(cafile=str(tls_files.ca_pem))
        import urllib.request

        request = urllib.request.Request(url + "/assistant/assistants", headers={"Api-Key": "k"})
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_emulator_cli_reports_a_bad_certificate(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    done = subprocess.run(
        [sys.executable, "-m", "aiopinecone.emulator", "--port", "0", "--tls-cert", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot load the TLS certificate" in done.stderr
    missing = tmp_path / "missing.pem"
    done = subprocess.run(
        [sys.executable, "-m", "aiopinecone.emulator", "--port", "0", "--tls-cert", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot load the TLS certificate" in done.stderr
    assert "missing.pem" in done.stderr


@pytest.mark.usefixtures("instant_retries")  # the 30 s connect budget is charged, not slept
def test_cli_ca_bundle_and_proxy_flags(
    tls_files: TlsFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    from aiopinecone.cli import main

    config = EmulatorConfig(
        api_keys=(API_KEY,), tls_cert=str(tls_files.cert_pem), tls_key=str(tls_files.key_pem)
    )
    with Emulator(config=config).in_thread() as emu:
        base = ["--api-key", API_KEY, "--host", emu.url, "--source-tag", "cli test"]
        assert main([*base, "--ca-bundle", str(tls_files.ca_pem), "assistants", "list"]) == 0
        capsys.readouterr()
        assert main([*base, "assistants", "list"]) == 1
        err = capsys.readouterr().err
        assert "TLS certificate verification failed" in err
        assert "--ca-bundle" in err
        assert API_KEY not in err
        # An unreachable proxy: the typed transport error, on one line.
        proxied = [*base, "--ca-bundle", str(tls_files.ca_pem), "--proxy", "127.0.0.1:9"]
        assert main([*proxied, "assistants", "list"]) == 1
        assert "cannot connect to the proxy 127.0.0.1:9" in capsys.readouterr().err


async def test_client_certificate_through_an_ssl_context(tmp_path: Path) -> None:
    """A server that requires client certificates (mutual TLS): an ``ssl.SSLContext`` with the
    client's certificate chain gets through; the same CA without it is refused, typed."""
    import trustme
    from aiohttp import web

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = ca.issue_cert("client@example.test")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_context)
    ca.configure_trust(server_context)
    server_context.verify_mode = ssl.CERT_REQUIRED

    async def assistants(_: web.Request) -> web.Response:
        return web.json_response({"assistants": []})

    app = web.Application()
    app.router.add_get("/assistant/assistants", assistants)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context).start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        with_cert = ssl.create_default_context()
        ca.configure_trust(with_cert)
        client_cert.configure_cert(with_cert)
        async with AsyncPinecone(api_key=API_KEY, host=url, ssl=with_cert) as pc:
            assert await pc.assistants.list() == []
        ca_pem = tmp_path / "mtls-ca.pem"
        ca.cert_pem.write_to_path(str(ca_pem))
        async with AsyncPinecone(
            api_key=API_KEY, host=url, ssl=ca_pem, retry=RetryPolicy.none()
        ) as pc:
            with pytest.raises(TransportError) as caught:
                await pc.assistants.list()
        # TLS 1.3 refuses a missing client certificate after the handshake, with an alert.
        assert "closed the connection" in str(caught.value) or "TLS" in str(caught.value)
        assert API_KEY not in str(caught.value)
    finally:
        await runner.cleanup()
