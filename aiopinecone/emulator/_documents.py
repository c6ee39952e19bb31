"""Reading uploaded documents: text (and images of PDFs) page by page, or why it cannot be read.

The service types a file by its extension and fails processing when the content is not what the
extension says (a ``.pdf`` that is not a PDF ends ``ProcessingFailed``). PDFs are read with
``pypdf`` (the ``emulator-pdf`` extra), which handles compressed content streams, the form every
PDF generator writes; without it a PDF fails processing with a message saying what to install.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import importlib
import io
import logging
import re
import struct
import zipfile
import zlib
from typing import Any

import attrs
import orjson

_log = logging.getLogger("aiopinecone.emulator")

PDF_EXTRA_HINT = (
    "The aiopinecone emulator needs the 'pypdf' package to read PDF files: "
    "pip install 'aiopinecone[emulator-pdf]'."
)


class DocumentError(Exception):
    """The file cannot be processed; the message is the file's ``error_message``."""


@attrs.frozen
class PageImage:
    """An image of a PDF page: base64 data in a format a browser shows, and a caption."""

    mime_type: str
    data: str
    caption: str


@attrs.frozen
class Page:
    """One page: its text and (PDFs) its images."""

    text: str
    images: tuple[PageImage, ...] = ()


def kind_of(file_name: str) -> str:
    """The document kind by extension: text, markdown, json, pdf or doc_x."""
    lowered = file_name.lower()
    if lowered.endswith(".pdf"):
        return "pdf"
    if lowered.endswith(".docx"):
        return "doc_x"
    if lowered.endswith(".md"):
        return "markdown"
    if lowered.endswith(".json"):
        return "json"
    return "text"


def check_document(file_name: str, content: bytes) -> str | None:
    """``None`` if the file can be processed, else the processing error message."""
    if kind_of(file_name) not in ("pdf", "doc_x"):
        return None  # text formats are read whatever their bytes
    try:
        read_document(file_name, content)
    except DocumentError as exc:
        return str(exc)
    return None


def read_document(file_name: str, content: bytes) -> tuple[Page, ...]:
    """The pages of a file; :class:`DocumentError` if it is not what its extension says."""
    return _read(kind_of(file_name), content)


@functools.lru_cache(maxsize=64)
def _read(kind: str, content: bytes) -> tuple[Page, ...]:
    if kind == "pdf":
        return _pdf_pages(content)
    if kind == "doc_x":
        return (Page(_docx_text(content)),)
    text = content.decode("utf-8", errors="replace")
    if kind == "json":
        with contextlib.suppress(orjson.JSONDecodeError):
            text = _flatten_json(orjson.loads(content))
    return tuple(Page(t) for t in text.split("\f"))


def _flatten_json(value: object, prefix: str = "") -> str:
    if isinstance(value, dict):
        return "\n\n".join(_flatten_json(v, f"{prefix}{k}: ") for k, v in value.items())
    if isinstance(value, list):
        return "\n\n".join(_flatten_json(v, prefix) for v in value)
    return f"{prefix}{value}"


def _docx_text(content: bytes) -> str:
    # A .docx is a zip; its text is in word/document.xml, one <w:p> per paragraph.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            xml = archive.read("word/document.xml").decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise DocumentError(
            "File processing failed: the file is not a valid DOCX document."
        ) from None
    paragraphs = re.split(r"</w:p>", xml)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in paragraphs]
    return "\n\n".join(t for t in texts if t)


def _load_pypdf() -> Any:
    try:
        return importlib.import_module("pypdf")
    except ImportError:
        _log.error("%s", PDF_EXTRA_HINT)
        raise DocumentError(f"File processing failed: {PDF_EXTRA_HINT}") from None


def _pdf_pages(content: bytes) -> tuple[Page, ...]:
    if not content.lstrip()[:1024].startswith(b"%PDF-"):
        raise DocumentError("File processing failed: the file is not a valid PDF document.")
    pypdf = _load_pypdf()
    try:
        reader = pypdf.PdfReader(io.BytesIO(content))
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            pages.append(Page(text, tuple(_page_images(page, number))))
    except Exception as exc:  # pypdf raises many types for broken files
        message = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DocumentError(
            f"File processing failed: the PDF document could not be read ({message})."
        ) from None
    if not pages:
        raise DocumentError("File processing failed: the PDF document has no pages.")
    return tuple(pages)


def _page_images(page: Any, number: int) -> list[PageImage]:
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is None:
        return []
    images: list[PageImage] = []
    for name in sorted(xobjects.get_object()):
        xobj = xobjects.get_object()[name].get_object()
        if xobj.get("/Subtype") != "/Image":
            continue
        encoded = _encode_image(xobj)
        if encoded is None:
            continue
        mime, data = encoded
        caption = f"Image {len(images) + 1} on page {number} ({xobj.get('/Width')}x" + (
            f"{xobj.get('/Height')} pixels)"
        )
        images.append(PageImage(mime, base64.b64encode(data).decode("ascii"), caption))
    return images


def _encode_image(xobj: Any) -> tuple[str, bytes] | None:
    filters = xobj.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]
    if names[-1] == "/DCTDecode" and len(names) == 1:
        return "image/jpeg", bytes(xobj._data)
    if names[-1] == "/JPXDecode" and len(names) == 1:
        return "image/jp2", bytes(xobj._data)
    space = xobj.get("/ColorSpace")
    channels = {"/DeviceRGB": 3, "/DeviceGray": 1}.get(str(space))
    if channels is None or xobj.get("/BitsPerComponent") != 8:
        return None
    width, height = int(xobj["/Width"]), int(xobj["/Height"])
    pixels = xobj.get_data()
    if len(pixels) < width * height * channels:
        return None
    return "image/png", _png(width, height, channels, pixels)


def _png(width: int, height: int, channels: int, pixels: bytes) -> bytes:
    row = width * channels
    raw = b"".join(b"\x00" + pixels[y * row : (y + 1) * row] for y in range(height))
    color_type = 2 if channels == 3 else 0

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
