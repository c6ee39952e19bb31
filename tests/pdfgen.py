"""Tiny real PDFs for tests: compressed content streams (as every PDF generator writes them),
one page per text, optionally an RGB image on a page. Written by hand so that no PDF writer is
needed; read back by the emulator with pypdf."""

from __future__ import annotations

import zlib
from collections.abc import Sequence


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: Sequence[str], *, image_on: Sequence[int] = ()) -> bytes:
    """A PDF with one page per entry of ``pages`` (lines split on ``\\n``); the 1-based page
    numbers in ``image_on`` also show a 2x2 RGB image."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pixels = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0])
    packed = zlib.compress(pixels)
    image = add(
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(packed)
        + packed
        + b"\nendstream"
    )
    kids = []
    for number, text in enumerate(pages, start=1):
        ops = ["BT /F1 12 Tf 72 720 Td 14 TL"]
        for line in text.split("\n"):
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        if number in image_on:
            ops.append("q 100 0 0 100 72 500 cm /Im1 Do Q")
        stream = zlib.compress("\n".join(ops).encode("latin-1"))
        content = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        xobject = b" /XObject << /Im1 %d 0 R >>" % image if number in image_on else b""
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >>%s >> >>" % (tree, content, font, xobject)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)
