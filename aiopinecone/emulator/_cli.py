"""``python -m aiopinecone.emulator``: serve the emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import sys
from collections.abc import Sequence
from typing import TextIO

from ._config import DEFAULT_DELETE_DELAY, RATE_LIMIT_PRESETS, EmulatorConfig
from ._persistence import StateFileError
from ._server import Emulator


def build_parser(prog: str = "python -m aiopinecone.emulator") -> argparse.ArgumentParser:
    """The command-line options (shared with ``aiopinecone emulator``)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local Pinecone Assistant API (control, data and evaluation planes).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (8765; 0 picks a free one)")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        metavar="KEY",
        help="accepted Api-Key (repeatable; default: any non-empty key)",
    )
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds an assistant stays Initializing",
    )
    parser.add_argument(
        "--file-processing-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds a file stays Processing",
    )
    parser.add_argument(
        "--delete-delay",
        type=float,
        default=DEFAULT_DELETE_DELAY,
        metavar="S",
        help=f"seconds an assistant or file stays Terminating/Deleting ({DEFAULT_DELETE_DELAY})",
    )
    parser.add_argument(
        "--rate-limits",
        choices=RATE_LIMIT_PRESETS,
        default="unlimited",
        help="per-minute limits per operation class (unlimited)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="length of a rate-limit minute as a fraction of 60 s (1.0)",
    )
    parser.add_argument(
        "--quota",
        type=int,
        default=None,
        metavar="N",
        help="most assistants in the project (429 QUOTA_EXCEEDED beyond)",
    )
    parser.add_argument(
        "--duplicate-status",
        type=int,
        choices=(409, 429),
        default=409,
        help="status of a duplicate create (code ALREADY_EXISTS either way)",
    )
    parser.add_argument(
        "--state",
        default=None,
        metavar="PATH",
        help="sqlite file keeping assistants and files across restarts",
    )
    parser.add_argument(
        "--tls-cert",
        default=None,
        metavar="PEM",
        help="serve https with this certificate chain (PEM; with --tls-key)",
    )
    parser.add_argument(
        "--tls-key",
        default=None,
        metavar="PEM",
        help="private key of --tls-cert (PEM; default: in the --tls-cert file)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The configuration the parsed options describe."""
    return EmulatorConfig(
        api_keys=tuple(args.api_keys),
        ready_delay=args.ready_delay,
        file_processing_delay=args.file_processing_delay,
        delete_delay=args.delete_delay,
        duplicate_status=args.duplicate_status,
        quota=args.quota,
        rate_limits=args.rate_limits,
        time_scale=args.time_scale,
        state_path=args.state,
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )


async def serve(config: EmulatorConfig, out: TextIO = sys.stdout) -> None:
    """Serve until SIGINT or SIGTERM, printing the URL once the socket is bound."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        async with Emulator(config=config) as emu:
            print(f"Pinecone Assistant emulator listening on {emu.url}", file=out, flush=True)
            if config.state_path:
                print(f"State file: {config.state_path}", file=out, flush=True)
            print("Press Ctrl-C to stop.", file=out, flush=True)
            await stop.wait()
        print("Emulator stopped.", file=out, flush=True)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the emulator from the command line; the exit status."""
    parser = build_parser(prog) if prog else build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    try:
        asyncio.run(serve(config))
    except KeyboardInterrupt:
        return 0
    except StateFileError as exc:
        print(f"{parser.prog}: error: --state: {exc}", file=sys.stderr)
        return 2
    except ssl.SSLError as exc:
        print(f"error: cannot load the TLS certificate or key: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
