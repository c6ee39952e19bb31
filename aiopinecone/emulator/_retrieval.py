"""Deterministic keyword retrieval over the text of uploaded files.

A file's text is split into pages (form feeds in text files, the pages of PDFs, see
``_documents``) and paragraph chunks; a query is scored against every chunk with BM25 over
lowercase word stems.
The same query over the same files always gives the same chunks in the same order.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import attrs

from ._documents import DocumentError, PageImage, kind_of, read_document
from ._records import FileRecord

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
    return kind_of(file_name)


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
    """The readable text of a file, page by page (none if it cannot be read)."""
    try:
        return [page.text for page in read_document(name, content)]
    except DocumentError:
        return []


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


def page_images(hit: Hit) -> tuple[PageImage, ...]:
    """The images of the page a hit is on (PDFs)."""
    try:
        pages = read_document(hit.file.name, hit.file.content)
    except DocumentError:
        return ()
    index = hit.chunk.page - 1
    return pages[index].images if 0 <= index < len(pages) else ()


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
