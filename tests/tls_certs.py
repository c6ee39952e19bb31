"""Throwaway certificate authorities for the https tests (``trustme``): files on disk.

``TlsFiles`` holds a CA (``ca_pem``: what a client trusts) and a server certificate and key
issued by it (``cert_pem``, ``key_pem``: what the emulator serves).
"""

from __future__ import annotations

from pathlib import Path

import attrs
import trustme


@attrs.frozen
class TlsFiles:
    """PEM files of one CA and one server certificate it issued."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def make_tls_files(directory: Path, *names: str, label: str = "ca") -> TlsFiles:
    """A fresh CA and a certificate for ``names`` (default ``127.0.0.1`` and ``localhost``)."""
    ca = trustme.CA()
    server = ca.issue_cert(*(names or ("127.0.0.1", "localhost")))
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        ca_pem=directory / f"{label}.pem",
        cert_pem=directory / f"{label}-server.pem",
        key_pem=directory / f"{label}-server.key",
    )
    ca.cert_pem.write_to_path(str(files.ca_pem))
    server.private_key_pem.write_to_path(str(files.key_pem))
    # The chain: the leaf, then any intermediates.
    with files.cert_pem.open("wb") as out:
        for blob in server.cert_chain_pems:
            out.write(blob.bytes())
    return files
