"""The ``aiopinecone`` command: provision fleets, manage assistants and files, chat, emulate.

Exit codes: ``0`` success; ``1`` failure (a provisioning run with failed assistants, or an API
error); ``2`` bad input (usage, an invalid fleet file, a missing API key: nothing was sent);
``130`` interrupted by Ctrl-C, ``143`` by SIGTERM (a provisioning run still prints its summary
and writes its report; a second signal stops at once).

The API key comes from ``--api-key`` or ``PINECONE_API_KEY`` and is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeAlias

import orjson

from ._cli_fleet import (
    client_rate_limits,
    fleet_lease,
    report_command,
    shard_from_args,
)
from ._cli_io import (
    Interrupts,
    cli_message,
    emulator_argv,
    quiet_broken_pipe,
    terminal_width,
)
from ._cli_parser import build_parser
from ._client import AsyncPinecone
from ._table import fit_table
from .exceptions import PineconeError, ValidationError

if TYPE_CHECKING:
    from .provision import ProvisionOptions, ProvisionReport

__all__ = ["build_parser", "main"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_INTERRUPTED: Final = 130
EXIT_TERMINATED: Final = 143
EXIT_SIGPIPE: Final = 141

READ_ONLY_COMMANDS: Final = frozenset({"assistants", "files", "chat", "report"})
"""Commands whose output a reader may stop reading (``| head``) without it being a failure."""

# The embedded emulator of `provision --emulator`: the Standard plan's limits with a "minute"
# of two seconds, so that a fleet of a few dozen assistants with files runs in seconds while
# meeting realistic limits (uploads are the bottleneck: 20 per "minute").
EMULATOR_PLAN: Final = "standard"
EMULATOR_MINUTE: Final = 2.0
EMULATOR_READY_DELAY: Final = 0.5
EMULATOR_PROCESSING_DELAY: Final = 0.3


class _Usage(Exception):
    """Bad command-line input found after parsing (exit code 2)."""


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def _model_dict(model: Any) -> dict[str, Any]:
    from ._convert import converter

    data: dict[str, Any] = converter.unstructure(model)
    return {k: v for k, v in data.items() if v is not None and k != "signed_url"}


@asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(
        api_key=args.api_key,
        host=args.host,
        api_version=args.api_version,
        allow_insecure_http=args.allow_insecure_http,
        proxy=getattr(args, "proxy", None),
        trust_env=getattr(args, "trust_env", False),
        ssl=getattr(args, "ca_bundle", None),
        source_tag=getattr(args, "source_tag", None),
        rate_limits=client_rate_limits(args),
    ) as pc:
        yield pc


def provision_options(args: argparse.Namespace, window: float, err: TextIO) -> ProvisionOptions:
    """The provisioning options the command line asks for (``window``: the limits' minute;
    ``err``: where the progress display goes)."""
    from .provision import ProgressDisplay, ProvisionOptions, RateLimits

    scale = window / 60.0
    show_progress = not args.no_progress and not args.plan
    return ProvisionOptions(
        prune=args.prune,
        concurrency=args.concurrency,
        rate_limits=RateLimits.preset(args.rate_preset, window=window),
        progress=ProgressDisplay(err) if show_progress else None,
        poll_interval=(max(0.05, 1.0 * scale), max(0.2, 10.0 * scale)),
    )


@asynccontextmanager
async def _target(args: argparse.Namespace, err: TextIO) -> AsyncIterator[float]:
    """The server to provision (``--emulator``: an embedded one, pointed at by ``args``);
    yields the length of its rate-limit minute in seconds."""
    if not args.emulator:
        yield 60.0
        return
    from .emulator import Emulator, StateFileError

    key = secrets.token_urlsafe(16)
    emulator = Emulator(
        api_keys=(key,),
        ready_delay=EMULATOR_READY_DELAY,
        file_processing_delay=EMULATOR_PROCESSING_DELAY,
        rate_limits=EMULATOR_PLAN,
        time_scale=EMULATOR_MINUTE / 60.0,
        state_path=args.emulator_state,
    )
    try:
        await emulator.start()
    except StateFileError as exc:
        raise _Usage(f"--emulator-state: {exc}") from None
    try:
        err.write(
            f"emulator: {emulator.url} ({EMULATOR_PLAN} plan rate limits, one minute = "
            f"{EMULATOR_MINUTE:g} s)\n"
        )
        args.api_key, args.host = key, emulator.url
        yield EMULATOR_MINUTE
    finally:
        await emulator.stop()


def _write_report(args: argparse.Namespace, report: ProvisionReport, out: TextIO) -> None:
    out.write("\n" + report.summary_table(width=terminal_width(out)) + "\n")
    if args.report is not None:
        args.report.write_text(report.to_json() + "\n", encoding="utf-8")


async def _provision(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .provision import load_fleet

    if args.concurrency < 1:
        raise _Usage(f"--concurrency must be >= 1, got {args.concurrency}")
    if args.emulator_state is not None and not args.emulator:
        raise _Usage("--emulator-state needs --emulator")
    shard = shard_from_args(args)
    fleet = load_fleet(args.fleet, api_version=args.api_version)
    lease = contextlib.nullcontext() if args.plan else fleet_lease(args, args.fleet, shard, err)
    async with _target(args, err) as window, _client(args) as pc, lease:
        options = provision_options(args, window, err)
        run = pc.assistants.provisioner(fleet, options=options, shard=shard)
        plan = await run.plan()
        out.write(plan.render(verbose=args.verbose, width=terminal_width(out)) + "\n")
        if args.plan:
            return EXIT_OK
        try:
            report = await run.apply(plan)
        except asyncio.CancelledError:
            _write_report(args, run.report, out)
            raise
        _write_report(args, report, out)
        return EXIT_OK if report.ok else EXIT_FAILED


async def _assistants(args: argparse.Namespace, out: TextIO) -> int:
    async with _client(args) as pc:
        if args.action == "list":
            assistants = await pc.assistants.list()
            if args.json:
                out.write(_json([_model_dict(a) for a in assistants]) + "\n")
                return EXIT_OK
            rows = [("name", "status", "host")] + [
                (a.name, a.status, a.host or "") for a in assistants
            ]
            lines = fit_table(rows, terminal_width(out), steps=(("trim", 2), ("trim", 0)))
            out.write("".join(line + "\n" for line in lines))
            return EXIT_OK
        if args.action == "describe":
            out.write(_json(_model_dict(await pc.assistants.describe(name=args.name))) + "\n")
            return EXIT_OK
        await pc.assistants.delete(name=args.name, wait=args.wait)
        out.write(f"deleted {args.name}\n")
        return EXIT_OK


async def _files(args: argparse.Namespace, out: TextIO) -> int:
    metadata = None
    if getattr(args, "metadata", None):
        try:
            metadata = orjson.loads(args.metadata)
        except orjson.JSONDecodeError as exc:
            raise _Usage(f"--metadata is not valid JSON: {exc}") from None
        if not isinstance(metadata, dict):
            raise _Usage("--metadata must be a JSON object")
    async with _client(args) as pc:
        if args.action == "upload":
            uploaded = await pc.assistants.upload_file(
                assistant_name=args.assistant,
                file_path=args.path,
                metadata=metadata,
                wait=args.wait,
                check_limits=not args.no_check_limits,
            )
            out.write(f"{uploaded.id}  {uploaded.name}  {uploaded.status or ''}\n".rstrip() + "\n")
            return EXIT_OK
        if args.action == "list":
            files = await pc.assistants.list_files(assistant_name=args.assistant)
            if args.json:
                out.write(_json([_model_dict(f) for f in files]) + "\n")
                return EXIT_OK
            rows = [("id", "name", "status")] + [(f.id, f.name, f.status or "") for f in files]
            lines = fit_table(rows, terminal_width(out), steps=(("trim", 1),))
            out.write("".join(line + "\n" for line in lines))
            return EXIT_OK
        await pc.assistants.delete_file(assistant_name=args.assistant, file_id=args.file_id)
        out.write(f"deleted {args.file_id}\n")
        return EXIT_OK


async def _chat(args: argparse.Namespace, out: TextIO) -> int:
    async with _client(args) as pc:
        options: dict[str, Any] = {"model": args.model} if args.model else {}
        stream = await pc.assistants.chat(
            assistant_name=args.name,
            messages=[{"role": "user", "content": args.question}],
            stream=True,
            **options,
        )
        async for piece in stream.text():
            out.write(piece)
            out.flush()
        out.write("\n")
        return EXIT_OK


Command: TypeAlias = Callable[[argparse.Namespace, TextIO, TextIO], Awaitable[int]]

COMMANDS: Final[dict[str, Command]] = {
    "provision": _provision,
    "assistants": lambda args, out, err: _assistants(args, out),
    "files": lambda args, out, err: _files(args, out),
    "chat": lambda args, out, err: _chat(args, out),
}
"""The commands run in an event loop, by name (``emulator`` runs its own)."""


async def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the command; a first SIGINT/SIGTERM cancels it (exit 130/143), a second kills."""
    task = asyncio.current_task()
    assert task is not None

    def announce(name: str) -> None:
        err.write(f"\n{name}: stopping (send it again to stop at once)\n")
        err.flush()

    with Interrupts(task, announce) as interrupts:
        try:
            return await COMMANDS[args.command](args, out, err)
        except asyncio.CancelledError:
            if interrupts.exit_code is None:
                raise
            # The command has cleaned up (a provisioning run wrote its summary and report).
            task.uncancel()
            err.write(
                "interrupted\n" if interrupts.exit_code == EXIT_INTERRUPTED else "terminated\n"
            )
            return interrupts.exit_code


def _is_fleet_error(exc: BaseException) -> bool:
    # Only a loaded provisioning package can have raised one: do not load it to find out.
    provision = sys.modules.get("aiopinecone.provision")
    return provision is not None and isinstance(exc, provision.FleetError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    out, err = sys.stdout, sys.stderr
    argv = sys.argv[1:] if argv is None else list(argv)
    emulator_args = emulator_argv(argv)
    if emulator_args is not None:
        # Everything after `emulator` goes to the emulator's parser, as written.
        from .emulator import main as emulator_main

        try:
            return emulator_main(emulator_args, prog="aiopinecone emulator")
        except SystemExit as exc:  # its argparse: --help or a usage error
            return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    parser = build_parser()
    try:
        # Known args only: everything after `emulator` belongs to the emulator's own parser.
        args, extra = parser.parse_known_args(argv)
        if extra and args.command != "emulator":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.command == "report":
        return report_command(args, out, err)
    try:
        return asyncio.run(_run(args, out, err))
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `aiopinecone assistants list | head`: the reader has what it wanted.
        quiet_broken_pipe()
        return EXIT_OK if args.command in READ_ONLY_COMMANDS else EXIT_SIGPIPE
    except (ValidationError, _Usage) as exc:
        text = cli_message(str(exc))
        err.write(f"{text}\n" if _is_fleet_error(exc) else f"aiopinecone: error: {text}\n")
        return EXIT_BAD_INPUT
    except PineconeError as exc:  # APIError and the rest
        err.write(f"aiopinecone: {type(exc).__name__}: {cli_message(str(exc))}\n")
        return EXIT_FAILED
    except OSError as exc:
        err.write(f"aiopinecone: error: {exc}\n")
        return EXIT_FAILED
