"""Optional sqlite persistence: assistants, files and operations survive a restart."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import attrs
import orjson

from ._records import AssistantRecord, FileRecord, OperationRecord
from ._store import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assistants (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    assistant_name TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (assistant_name, id)
);
CREATE TABLE IF NOT EXISTS operations (
    assistant_name TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (assistant_name, id)
);
"""


class StateFileError(ValueError):
    """The state file cannot be used (a directory, not an sqlite database, not writable)."""


class SqlitePersistence:
    """Writes every store change through to one sqlite file (a :class:`StoreListener`).

    Raises :class:`StateFileError` (one line, naming the path) when ``path`` cannot be used.
    """

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        if Path(path).is_dir():
            raise StateFileError(f"state file {str(path)!r} is a directory, not an sqlite file")
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot open state file {str(path)!r}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self._db.close()
            raise StateFileError(
                f"state file {str(path)!r} is not a usable sqlite database ({exc})"
            ) from None

    def load_into(self, store: Store) -> None:
        """Replace ``store``'s state with what the file holds."""
        with self._lock:
            assistants = [
                AssistantRecord(**orjson.loads(row[0]))
                for row in self._db.execute("SELECT data FROM assistants")
            ]
            files = [
                FileRecord(**orjson.loads(row[0]), content=bytes(row[1]))
                for row in self._db.execute("SELECT data, content FROM files")
            ]
            operations = [
                OperationRecord(**orjson.loads(row[0]))
                for row in self._db.execute("SELECT data FROM operations")
            ]
        store.load(assistants, files, operations)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def save_assistant(self, record: AssistantRecord) -> None:
        """Insert or replace one assistant."""
        data = orjson.dumps(_fields(record))
        self._write("INSERT OR REPLACE INTO assistants VALUES (?, ?)", (record.name, data))

    def delete_assistant(self, name: str) -> None:
        """Remove an assistant with its files and operations."""
        with self._lock:
            self._db.execute("DELETE FROM assistants WHERE name = ?", (name,))
            self._db.execute("DELETE FROM files WHERE assistant_name = ?", (name,))
            self._db.execute("DELETE FROM operations WHERE assistant_name = ?", (name,))

    def save_file(self, record: FileRecord) -> None:
        """Insert or replace one file (content stored as a blob)."""
        fields = _fields(record)
        content = fields.pop("content")
        self._write(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
            (record.assistant_name, record.id, orjson.dumps(fields), content),
        )

    def delete_file(self, assistant_name: str, file_id: str) -> None:
        """Remove one file."""
        self._write(
            "DELETE FROM files WHERE assistant_name = ? AND id = ?", (assistant_name, file_id)
        )

    def save_operation(self, record: OperationRecord) -> None:
        """Insert or replace one operation."""
        self._write(
            "INSERT OR REPLACE INTO operations VALUES (?, ?, ?)",
            (record.assistant_name, record.id, orjson.dumps(_fields(record))),
        )


def _fields(record: AssistantRecord | FileRecord | OperationRecord) -> dict[str, Any]:
    return attrs.asdict(record, recurse=False)
