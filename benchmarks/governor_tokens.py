"""Token budgets for chat: a burst of chats against the emulator's input-token limit.

``python -m benchmarks.governor_tokens [--n 60]`` writes ``RESULTS-governor-tokens.md``.

One emulator process with one assistant (one small file: each chat's input counts its question
and the retrieved snippet, about ``COUNTED`` tokens as the emulator counts them); its chat
input tokens are limited to ``LIMIT`` per (time-scaled) ``MINUTE``. Each row sends N chats at
once with ``asyncio.gather`` through one ``AsyncPinecone`` and is bounded (cancelled past
``TIMEOUT_FACTOR`` x ideal).

**Ideal** = ``floor((N * tokens - 1) / LIMIT)`` minutes: the minute in which the server's window
lets the last chat through (a fresh window's burst included; the service time of the chats
themselves, a few ms, is left out, so short rows read a little above 1).

**429s per accepted** = the 429 answers the emulator sent / N.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from aiopinecone import AsyncPinecone, RateLimits
from benchmarks._harness import API_KEY, EmulatorProcess, machine_info, table

HERE: Final = Path(__file__).resolve().parent
RESULTS_MD: Final = HERE / "RESULTS-governor-tokens.md"
MINUTE: Final = 2.0
LIMIT: Final = 2000
TIMEOUT_FACTOR: Final = 10.0
QUESTION: Final = "How long do customers have to return an item for a full refund?"
FAQ: Final = (
    "Returns\n\nCustomers can return any item within 30 days of delivery for a full refund. "
    "Refunds are paid to the original card within five business days.\n"
)
ROWS: Final[tuple[tuple[str, Mapping[str, float] | None, bool, float], ...]] = (
    ("told the limit", {"chat_tokens": LIMIT}, False, MINUTE),
    ("adaptive, told the minute", None, True, MINUTE),
    ("adaptive, not told the minute", None, True, 60.0),
)


async def _row(
    url: str,
    n: int,
    limits: Mapping[str, float] | None,
    adaptive: bool,
    window: float,
    ideal: float,
) -> dict[str, Any]:
    if adaptive:
        rate_limits = RateLimits.preset("adaptive", window=window)
    else:
        rate_limits = RateLimits(limits=limits or {}, window=window)
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits=rate_limits) as pc:
        began = time.monotonic()
        answers = await asyncio.wait_for(
            asyncio.gather(
                *(
                    pc.assistants.chat(
                        assistant_name="faq", messages=[{"role": "user", "content": QUESTION}]
                    )
                    for _ in range(n)
                )
            ),
            timeout=max(ideal, MINUTE) * TIMEOUT_FACTOR,
        )
        wall = time.monotonic() - began
        state = pc.governor.snapshot()["chat_tokens"]
    return {
        "wall": wall,
        "counted": sum(a.usage.prompt_tokens for a in answers),
        "learnt_limit": state["limit"],
        "overhead": state["overhead"],
        "estimated": state["tokens_estimated"],
        "rate_limited_seen": state["rate_limited"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rows and write ``RESULTS-governor-tokens.md``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.governor_tokens")
    parser.add_argument("--n", type=int, default=60, help="chats per row")
    args = parser.parse_args(argv)
    rows: list[list[object]] = []
    with EmulatorProcess(time_scale=MINUTE / 60, ready_delay=0.0) as emu:
        for name, limits, adaptive, window in ROWS:
            emu.reset()
            emu.admin("PUT", "rate-limits", {"tokens": {"chat": LIMIT}})
            asyncio.run(_setup(emu.url))
            emu.admin("DELETE", "counters")
            per_chat = asyncio.run(_probe(emu.url))
            emu.admin("DELETE", "counters")
            time.sleep(MINUTE)  # the probe's tokens leave the window
            ideal = math.floor((args.n * per_chat - 1) / LIMIT) * MINUTE
            result = asyncio.run(_row(emu.url, args.n, limits, adaptive, window, ideal))
            rejected = emu.admin("GET", "counters")["tokens"]["chat"]["rejected"]
            rows.append(
                [
                    name,
                    args.n,
                    per_chat,
                    f"{ideal:.1f}",
                    f"{result['wall']:.2f}",
                    f"{result['wall'] / ideal:.2f}" if ideal else "-",
                    f"{rejected / args.n:.3f}",
                    f"{result['learnt_limit']:.0f}",
                    result["overhead"],
                ]
            )
            print(rows[-1], flush=True)
    headers = [
        "row",
        "chats",
        "tokens/chat",
        "ideal s",
        "wall s",
        "wall/ideal",
        "429s/accepted",
        "chat_tokens limit",
        "overhead",
    ]
    text = (
        "# Token budgets for chat (issue 11 item 1)\n\n"
        f"`python -m benchmarks.governor_tokens --n {args.n}`: {args.n} chats at once against "
        f"the emulator's limit of {LIMIT} chat input tokens per {MINUTE:g} s minute; ideal and "
        "columns as defined in `benchmarks/governor_tokens.py`.\n\n"
        + table(headers, rows)
        + f"\n\nMachine: {machine_info().get('cpu', '')}\n"
    )
    RESULTS_MD.write_text(text)
    print(text)
    return 0


async def _setup(url: str) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits="off") as pc:
        await pc.assistants.create(name="faq", wait=True)
        await pc.assistants.upload_file(
            assistant_name="faq",
            file_stream=io.BytesIO(FAQ.encode()),
            file_name="faq.txt",
            wait=True,
        )


async def _probe(url: str) -> int:
    """The input tokens one chat costs on this emulator (what its usage reports)."""
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits="off") as pc:
        answer = await pc.assistants.chat(
            assistant_name="faq", messages=[{"role": "user", "content": QUESTION}]
        )
    return answer.usage.prompt_tokens


if __name__ == "__main__":
    raise SystemExit(main())
