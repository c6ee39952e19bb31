"""Asyncio workers sharing one client: bounded concurrency and graceful cancellation.

A fixed number of worker tasks take questions from a queue and ask an assistant; all of them share
one ``AsyncPinecone`` (one connection pool). Ctrl-C (or a deadline) cancels the workers cleanly:
in-flight requests are abandoned, connections are released and the client is closed.

Run it against the embedded emulator::

    python examples/workers.py --emulator --questions 200 --workers 20

It exits 0 when every question was answered, 1 when some failed or were dropped at the deadline
(the summary says how many), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

import attrs

import aiopinecone


@attrs.define
class Tally:
    """What the workers did."""

    answered: int = 0
    failed: int = 0
    dropped: int = 0
    """Questions never answered because the deadline cancelled the workers first."""
    errors: dict[str, int] = attrs.field(factory=dict)

    @property
    def complete(self) -> bool:
        """Every question was answered."""
        return self.failed == 0 and self.dropped == 0


async def worker(
    client: aiopinecone.AsyncPinecone,
    assistant: str,
    questions: asyncio.Queue[str],
    tally: Tally,
) -> None:
    """Answer questions until the queue is empty; one failure does not stop the worker."""
    while True:
        try:
            question = questions.get_nowait()
        except asyncio.QueueEmpty:
            return
        try:
            await client.assistants.context(assistant_name=assistant, query=question)
        except aiopinecone.PineconeError as error:
            tally.failed += 1
            name = type(error).__name__
            tally.errors[name] = tally.errors.get(name, 0) + 1
        else:
            tally.answered += 1
        finally:
            questions.task_done()


async def run_workers(
    client: aiopinecone.AsyncPinecone,
    *,
    assistant: str,
    questions: list[str],
    workers: int,
    deadline: float | None = None,
) -> Tally:
    """Run ``workers`` tasks over ``questions``; stop early (cancelling cleanly) at ``deadline``."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for question in questions:
        queue.put_nowait(question)
    tally = Tally()
    try:
        async with asyncio.timeout(deadline), asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker(client, assistant, queue, tally))
    except TimeoutError:
        # The TaskGroup has already cancelled and awaited every worker: what was queued or in
        # flight was dropped, and the caller must hear about it.
        tally.dropped = len(questions) - tally.answered - tally.failed
    return tally


async def _main(args: argparse.Namespace) -> int:
    async with contextlib.AsyncExitStack() as stack:
        if args.emulator:
            from aiopinecone.emulator import Emulator

            emulator = await stack.enter_async_context(Emulator(api_keys=("demo-key",)))
            client = await stack.enter_async_context(
                aiopinecone.AsyncPinecone(api_key="demo-key", host=emulator.url)
            )
            await client.assistants.create(name="docs", wait=True)
            await client.assistants.upload_file(
                assistant_name="docs",
                file=b"Workers share one pool. Cancellation releases every connection.",
                file_name="notes.txt",
                wait=True,
            )
        else:
            client = await stack.enter_async_context(aiopinecone.AsyncPinecone())
        questions = [f"question {i} about connections" for i in range(args.questions)]
        started = time.perf_counter()
        tally = await run_workers(
            client,
            assistant=args.assistant,
            questions=questions,
            workers=args.workers,
            deadline=args.deadline,
        )
        elapsed = time.perf_counter() - started
        print(
            f"answered {tally.answered}, failed {tally.failed}, dropped {tally.dropped}"
            f" {tally.errors or ''} in {elapsed:.2f}s with {args.workers} workers"
        )
        if tally.dropped:
            print(
                f"deadline of {args.deadline:g} s reached: {tally.dropped} of "
                f"{len(questions)} questions were dropped unanswered",
                file=sys.stderr,
            )
        return 0 if tally.complete else 1


def main() -> int:
    """Run the example; the exit status (0: everything answered)."""
    parser = argparse.ArgumentParser(description="asyncio workers sharing one aiopinecone client")
    parser.add_argument("--emulator", action="store_true", help="run against a local emulator")
    parser.add_argument("--assistant", default="docs")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--deadline", type=float, default=None, help="seconds before cancelling")
    try:
        return asyncio.run(_main(parser.parse_args()))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
