"""Command-line parts for fleets across machines: shards, the Redis lease, report merging.

``cli.py`` adds these options to ``provision`` and the ``report`` command; the logic lives in
``provision/_shard.py``, ``provision/_merge.py`` and ``_lease.py``, imported when used: building
the parser loads no provisioning code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from ._redisconn import REDIS_URL_ENV

if TYPE_CHECKING:
    from ._governor import RateLimits
    from ._lease import Lease
    from .provision import Shard

__all__ = [
    "add_fleet_options",
    "add_report_command",
    "client_rate_limits",
    "fleet_lease",
    "redis_url",
    "report_command",
    "shard_from_args",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2


def add_fleet_options(p: argparse.ArgumentParser) -> None:
    """``provision``'s options for sharded fleets, the shared rate budget and the lease."""
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="apply only shard I of N (0-based; assistants split by a stable hash of their "
        "name); 'auto/N' or 'auto' read the index from $JOB_COMPLETION_INDEX (Kubernetes "
        "Indexed Jobs) and N from the option or $AIOPINECONE_SHARD_COUNT",
    )
    p.add_argument(
        "--redis",
        metavar="URL",
        help=f"share the rate budget with other processes through this Redis and take a lease "
        f"so no other apply of the fleet that would touch the same assistants runs at once "
        f"(shards of one count run together) (default: ${REDIS_URL_ENV})",
    )
    p.add_argument(
        "--lease-name",
        metavar="NAME",
        help="what the lease is named after (default: the fleet file's name without extension)",
    )
    p.add_argument(
        "--lease-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another apply holding the lease (default 0: exit at once)",
    )
    p.add_argument(
        "--lease-ttl",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a crashed holder's lease outlives it (default 30; renewed while alive)",
    )
    p.add_argument(
        "--no-lease", action="store_true", help="do not take the lease even with a Redis URL"
    )


def shard_from_args(args: argparse.Namespace) -> Shard | None:
    """The ``--shard`` option, parsed (``None`` without it)."""
    from .provision import Shard

    text: str | None = args.shard
    return None if text is None else Shard.parse(text)


def redis_url(args: argparse.Namespace) -> str | None:
    """``--redis``, else ``$AIOPINECONE_RATE_REDIS_URL``, else ``None``."""
    chosen: str | None = args.redis or os.environ.get(REDIS_URL_ENV) or None
    return chosen


def client_rate_limits(args: argparse.Namespace) -> RateLimits | None:
    """The client's rate limits for ``--redis URL`` (adaptive, shared through that Redis; a
    ``--rate-preset`` then sets the budget); None without it (the client's default, which
    also follows ``$AIOPINECONE_RATE_REDIS_URL``)."""
    url: str | None = getattr(args, "redis", None)
    if not url:
        return None
    from ._governor import RateLimits

    return RateLimits.preset("adaptive", redis_url=url)


def lease_fleet(args: argparse.Namespace, fleet: Path) -> str:
    """The fleet the lease is about: ``--lease-name``, else the fleet file's name."""
    name: str = args.lease_name or fleet.stem
    return name


@contextlib.asynccontextmanager
async def fleet_lease(
    args: argparse.Namespace, fleet: Path, shard: Shard | None, err: TextIO
) -> AsyncIterator[Lease | None]:
    """Hold the fleet's (or shard's) lease for the block when a Redis URL is known.

    If the lease is lost while the block runs (Redis unreachable for a whole ttl, or the hold
    taken over), the block is cancelled and :class:`LeaseLostError` raised: another apply may
    be running, so this one must not go on.
    """
    url = redis_url(args)
    if url is None or args.no_lease:
        yield None
        return
    from ._lease import Lease, LeaseLostError

    lease = Lease(
        url,
        lease_fleet(args, fleet),
        shard=shard,
        ttl=args.lease_ttl,
        wait=args.lease_wait,
        description=f"aiopinecone provision {fleet.name}",
    )
    async with lease:
        err.write(f"lease: {lease.name!r} held by {lease.holder}\n")
        task = asyncio.current_task()
        assert task is not None

        async def stop_when_lost() -> None:
            await lease.lost.wait()
            task.cancel(msg="lease lost")

        watcher = asyncio.create_task(stop_when_lost(), name=f"watch lease {lease.name}")
        try:
            yield lease
        except asyncio.CancelledError:
            if not lease.lost.is_set() or task.uncancel() > 0:
                raise  # an interrupt (or another cancellation as well): not ours to turn
            raise LeaseLostError(
                f"the lease {lease.name!r} was lost while applying (Redis unreachable, or this "
                f"process stalled, for longer than the lease ttl of {lease.ttl:g} s): another "
                f"apply may have taken it, so this one stopped. Re-run it: applying converges."
            ) from None
        else:
            if watcher.done() and not watcher.cancelled():
                # Lost as the block ended: the work is done, but our cancel is still pending.
                try:
                    await asyncio.sleep(0)
                except asyncio.CancelledError:
                    task.uncancel()
        finally:
            watcher.cancel()


def add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``report merge A.json B.json ... [-o ALL.json]``."""
    r = commands.add_parser("report", help="work with provisioning reports (merge shards)")
    r_cmds = r.add_subparsers(dest="action", required=True, metavar="ACTION")
    m = r_cmds.add_parser(
        "merge",
        help="merge the JSON reports of a fleet's shards into one",
        description="Merge the --report files of a sharded provisioning run into one report "
        "of the whole fleet (counters summed, assistants listed once; exit 1 if a shard "
        "failed or is missing).",
    )
    m.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    m.add_argument(
        "-o", "--output", type=Path, metavar="OUT.json", help="write here (default: stdout)"
    )


def report_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``report merge``; the summary goes to stderr when the JSON goes to stdout."""
    from .provision._merge import ReportMergeError, dumps, merge_files, summary

    try:
        merged = merge_files(args.reports)
    except ReportMergeError as exc:
        err.write(f"aiopinecone: error: {exc}\n")
        return EXIT_BAD_INPUT
    text = dumps(merged) + "\n"
    if args.output is None:
        out.write(text)
        err.write(summary(merged) + "\n")
    else:
        args.output.write_text(text, encoding="utf-8")
        out.write(summary(merged) + f"\nwritten to {args.output}\n")
    return EXIT_OK if merged["ok"] else EXIT_FAILED
