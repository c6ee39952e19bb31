"""Shards of a fleet: split one fleet's assistants between N machines, each applying its part.

Membership is by a stable hash of the assistant's *name* (jump consistent hash, Lamping & Veach
2014, over the first 8 bytes of its SHA-256), not by position in the fleet file:

- adding, removing or reordering assistants in the file never moves another assistant to another
  shard (by index, inserting one line would shift every assistant after it, so two shards could
  both think they own one assistant while their runs overlap);
- an assistant that exists only on the server (to delete with ``prune``) has no index in the file
  at all, but it has a name: exactly one shard owns it and prunes it;
- going from N to N+1 shards moves only about 1/(N+1) of the assistants (jump hash).

Shard indexes are 0-based, like Kubernetes Indexed Jobs' ``JOB_COMPLETION_INDEX``. ``auto`` takes
the index from that variable; the count comes from ``auto/N`` or from ``AIOPINECONE_SHARD_COUNT``
(Kubernetes does not put the Job's ``completions`` in the pod's environment: set that variable
to the same number in the manifest).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar

import attrs

from ..exceptions import ValidationError

__all__ = ["COUNT_ENV", "INDEX_ENV", "Shard", "shard_of"]

INDEX_ENV: Final = "JOB_COMPLETION_INDEX"
"""Set by Kubernetes in each pod of an Indexed Job: 0 .. completions-1."""
COUNT_ENV: Final = "AIOPINECONE_SHARD_COUNT"
"""The number of shards when ``--shard auto`` is given without ``/N``."""

_T = TypeVar("_T")


def _jump(key: int, buckets: int) -> int:
    # Jump consistent hash: "A Fast, Minimal Memory, Consistent Hash Algorithm" (Lamping, Veach).
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % (1 << 64)
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


def shard_of(name: str, count: int) -> int:
    """The shard (0 .. count-1) that owns the assistant called ``name``."""
    if count < 1:
        raise ValueError(f"the shard count must be >= 1, got {count}")
    digest = hashlib.sha256(name.encode()).digest()
    return _jump(int.from_bytes(digest[:8], "big"), count)


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValidationError(f"{what} must be a whole number, got {text!r}") from None


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count`` (0-based): the assistants whose name hashes to ``index``."""

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        if self.count < 1:
            raise ValidationError(f"the shard count must be >= 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValidationError(
                f"shard index {self.index} is out of range for {self.count} shards: indexes are "
                f"0-based (0 .. {self.count - 1}), like Kubernetes' JOB_COMPLETION_INDEX"
            )

    @classmethod
    def parse(cls, text: str, *, environ: Mapping[str, str] | None = None) -> Shard:
        """``"I/N"``, ``"auto/N"`` or ``"auto"`` (see the module docstring)."""
        env = os.environ if environ is None else environ
        raw_index, sep, raw_count = text.strip().partition("/")
        if raw_index.strip() == "auto":
            if INDEX_ENV not in env:
                raise ValidationError(
                    f"--shard auto needs {INDEX_ENV} in the environment (set by Kubernetes "
                    f"Indexed Jobs); give the shard as I/N otherwise"
                )
            index = _int(env[INDEX_ENV], INDEX_ENV)
            if not sep:
                if COUNT_ENV not in env:
                    raise ValidationError(
                        f"--shard auto needs the shard count: give auto/N, or set {COUNT_ENV} "
                        f"(to the Job's completions)"
                    )
                return cls(index, _int(env[COUNT_ENV], COUNT_ENV))
            return cls(index, _int(raw_count, "the shard count"))
        if not sep:
            raise ValidationError(f"a shard is I/N (0-based), auto/N or auto, got {text!r}")
        return cls(_int(raw_index, "the shard index"), _int(raw_count, "the shard count"))

    def owns(self, name: str) -> bool:
        """Whether this shard owns the assistant called ``name``."""
        return self.count == 1 or shard_of(name, self.count) == self.index

    def select(self, items: Iterable[_T], *, name: str = "name") -> list[_T]:
        """The items (specs, plans, server assistants: anything with a ``name``) this shard owns."""
        return [item for item in items if self.owns(getattr(item, name))]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def to_dict(self) -> dict[str, int]:
        """``{"index": I, "count": N}`` for reports."""
        return {"index": self.index, "count": self.count}
