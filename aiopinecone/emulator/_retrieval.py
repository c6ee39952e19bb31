"""Deterministic keyword retrieval over the text of uploaded files.

A file's text is split into pages (form feeds in text files, page objects in simple PDFs) and
paragraph chunks; a query is scored against every chunk with BM25 over lowercase word stems.
The same query over the same files always gives the same chunks in the same order.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence

import attrs
import orjson

from ._store import FileRecord

SUPPORTED_EXTENSIONS = (".txt", ".md", ".json", ".pdf", ".docx")
"""Extensions the API accepts (it types files by extension)."""

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CHUNK_CHARS = 400
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be been but by can do does for from had has have how i if in into is "
        "it its me my of on or our so than that the their them then there these they this to was "
        "we were what when where which who why will with you your about tell please",
    )
)


def reference_type(file_name: str) -> str:
    """The ``reference.type`` of a snippet from this file (text, markdown, json, pdf, doc_x)."""
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


def stems(text: str) -> list[str]:
    """Content-word stems of ``text`` (lowercase, stopwords dropped, plural ``s`` removed)."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def sentences(text: str) -> list[str]:
    """``text`` split into sentences; a line break (a heading, a list item) also ends one."""
    out: list[str] = []
    for line in text.splitlines():
        flat = " ".join(line.split())
        out.extend(s for s in _SENTENCE.split(flat) if s)
    return out


@attrs.frozen
class Chunk:
    """A paragraph-sized piece of one file."""

    file_id: str
    index: int
    page: int
    text: str
    terms: Counter[str] = attrs.field(eq=False, repr=False)


def extract_pages(name: str, content: bytes) -> list[str]:
    """The readable text of a file, page by page."""
    kind = reference_type(name)
    if kind == "pdf":
        return _pdf_pages(content)
    if kind == "doc_x":
        return [_docx_text(content)]
    text = content.decode("utf-8", errors="replace")
    if kind == "json":
        with contextlib.suppress(orjson.JSONDecodeError):
            text = _flatten_json(orjson.loads(content))
    return text.split("\f")


def _flatten_json(value: object, prefix: str = "") -> str:
    if isinstance(value, dict):
        return "\n\n".join(_flatten_json(v, f"{prefix}{k}: ") for k, v in value.items())
    if isinstance(value, list):
        return "\n\n".join(_flatten_json(v, prefix) for v in value)
    return f"{prefix}{value}"


_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")
_PDF_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj|\[((?:[^\]])*)\]\s*TJ")


def _pdf_pages(content: bytes) -> list[str]:
    # Uncompressed text operators only: enough for test PDFs written by hand or by simple tools.
    pieces = _PDF_PAGE.split(content)
    pages = pieces[1:] if len(pieces) > 1 else pieces
    out = []
    for page in pages:
        words = []
        for match in _PDF_STRING.finditer(page):
            raw = match.group(1) if match.group(1) is not None else match.group(2)
            words.append(re.sub(rb"\\(.)", rb"\1", re.sub(rb"[()]", b"", raw)).decode("latin-1"))
        out.append(" ".join(words))
    return out if any(p.strip() for p in out) else [_printable_runs(content)]


def _docx_text(content: bytes) -> str:
    # A .docx is a zip; its text is in word/document.xml, one <w:p> per paragraph.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            xml = archive.read("word/document.xml").decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return _printable_runs(content)
    paragraphs = re.split(r"</w:p>", xml)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in paragraphs]
    return "\n\n".join(t for t in texts if t)


def _printable_runs(content: bytes) -> str:
    runs = re.findall(rb"[\x20-\x7e]{4,}", content)
    return " ".join(r.decode("ascii") for r in runs)


def chunk_file(record: FileRecord) -> tuple[Chunk, ...]:
    """The chunks of a file (cached per file version)."""
    return _chunks(record.id, record.name, record.updated_on, record.content)


@functools.lru_cache(maxsize=1024)
def _chunks(file_id: str, name: str, version: float, content: bytes) -> tuple[Chunk, ...]:
    del version  # part of the cache key only
    chunks: list[Chunk] = []
    for page_number, page in enumerate(extract_pages(name, content), start=1):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", page)]
        buffer = ""
        for paragraph in (p for p in paragraphs if p):
            if buffer and len(buffer) + len(paragraph) > _CHUNK_CHARS:
                chunks.append(_chunk(file_id, len(chunks), page_number, buffer))
                buffer = ""
            buffer = f"{buffer}\n\n{paragraph}" if buffer else paragraph
        if buffer:
            chunks.append(_chunk(file_id, len(chunks), page_number, buffer))
    return tuple(chunks)


def _chunk(file_id: str, index: int, page: int, text: str) -> Chunk:
    return Chunk(file_id=file_id, index=index, page=page, text=text, terms=Counter(stems(text)))


@attrs.frozen
class Hit:
    """A chunk that matched a query, with its normalized score in (0, 1]."""

    chunk: Chunk
    file: FileRecord
    score: float


def search(query: str, files: Iterable[FileRecord], top_k: int) -> list[Hit]:
    """The ``top_k`` best chunks for ``query`` (BM25), best first; only chunks that match."""
    query_terms = set(stems(query))
    corpus: list[tuple[Chunk, FileRecord]] = [
        (chunk, record) for record in files for chunk in chunk_file(record)
    ]
    if not query_terms or not corpus:
        return []
    doc_freq = Counter(term for chunk, _ in corpus for term in query_terms & chunk.terms.keys())
    total = len(corpus)
    avg_len = sum(sum(c.terms.values()) for c, _ in corpus) / total or 1.0
    scored = []
    for order, (chunk, record) in enumerate(corpus):
        length = sum(chunk.terms.values())
        score = 0.0
        for term in query_terms:
            tf = chunk.terms.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (total - doc_freq[term] + 0.5) / (doc_freq[term] + 0.5))
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg_len))
        if score > 0:
            scored.append((score, order, chunk, record))
    scored.sort(key=lambda item: (-item[0], item[1]))
    best = scored[0][0] if scored else 1.0
    return [
        Hit(chunk=chunk, file=record, score=round(score / best, 6))
        for score, _, chunk, record in scored[:top_k]
    ]


def best_sentences(query: str, hits: Sequence[Hit], limit: int) -> list[tuple[str, Hit]]:
    """Up to ``limit`` sentences of the hits that best match the query, in reading order.

    A sentence scores the summed rarity (among the candidate sentences) of the query words it
    contains, so "express shipping" prefers the sentence about express shipping over one that
    only shares "shipping". Sentences below two thirds of the best score are dropped.
    """
    query_terms = set(stems(query))
    candidates: list[tuple[set[str], int, int, str, Hit]] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        for position, sentence in enumerate(sentences(hit.chunk.text)):
            shared = query_terms & set(stems(sentence))
            if shared and sentence not in seen:
                seen.add(sentence)
                candidates.append((shared, rank, position, sentence, hit))
    if not candidates:
        return []
    doc_freq = Counter(term for shared, *_ in candidates for term in shared)
    total = len(candidates)
    scored = [
        (sum(math.log(1 + total / doc_freq[t]) for t in shared), rank, position, sentence, hit)
        for shared, rank, position, sentence, hit in candidates
    ]
    best = max(item[0] for item in scored)
    kept = [item for item in scored if 3 * item[0] >= 2 * best]
    kept.sort(key=lambda item: (-item[0], item[1], item[2]))
    chosen = sorted(kept[:limit], key=lambda item: (item[1], item[2]))
    return [(sentence, hit) for _, _, _, sentence, hit in chosen]


def token_count(text: str) -> int:
    """A rough, deterministic token count (about 4/3 tokens per word)."""
    return math.ceil(len(text.split()) * 4 / 3)
