"""The ``aiopinecone`` command line: global options, then one ``_add_*`` per command.

What each command does is in ``cli.py``; fleet-across-machines options in ``_cli_fleet.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeAlias

from ._cli_fleet import add_fleet_options, add_report_command
from ._client import API_KEY_ENV, HOST_ENV
from ._validation import API_VERSIONS, DEFAULT_API_VERSION

__all__ = ["RATE_PRESETS", "build_parser"]

RATE_PRESETS: Final = ("adaptive", "starter", "standard", "enterprise", "unlimited")


Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface: global options, then one ``_add_*`` per command."""
    parser = argparse.ArgumentParser(
        prog="aiopinecone",
        description="Provision and drive Pinecone Assistants (asyncio client).",
        epilog="Exit codes: 0 success, 1 failure or partial failure, 2 bad input, "
        "130 interrupted (Ctrl-C), 143 terminated (SIGTERM). "
        "The API key is read from --api-key or $PINECONE_API_KEY.",
    )
    parser.add_argument(
        "--api-key",
        help=f"API key (default: ${API_KEY_ENV}; prefer the variable: flags show in ps)",
    )
    parser.add_argument("--host", help=f"control-plane origin (default: ${HOST_ENV} or Pinecone)")
    parser.add_argument(
        "--api-version",
        choices=API_VERSIONS,
        default=DEFAULT_API_VERSION,
        help=f"API version ({DEFAULT_API_VERSION})",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow sending the API key over plain http to a host that is not loopback",
    )
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help="http(s) proxy (credentials in a flag show in ps: prefer $HTTPS_PROXY + --trust-env)",
    )
    parser.add_argument(
        "--trust-env",
        action="store_true",
        help="honour $HTTPS_PROXY, $HTTP_PROXY and $NO_PROXY",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="PEM",
        help="trust this CA bundle (a private or TLS-inspecting CA) instead of the system's",
    )
    parser.add_argument("--source-tag", metavar="TAG", help="appended to the User-Agent")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    adders: tuple[Callable[[Subcommands], object], ...] = (
        _add_provision,
        _add_assistants,
        _add_files,
        _add_chat,
        add_report_command,
        _add_emulator,
    )
    for add in adders:
        add(commands)
    return parser


def _add_provision(commands: Subcommands) -> argparse.ArgumentParser:
    p = commands.add_parser(
        "provision",
        help="create/update assistants and their files from a fleet file",
        description="Bring the project to the fleet file: plan, then apply. Safe to re-run.",
    )
    p.add_argument("fleet", type=Path, help="fleet file (.yaml, .yml or .json)")
    p.add_argument("--plan", action="store_true", help="only show what would change")
    p.add_argument(
        "--prune", action="store_true", help="also delete assistants and files not in the fleet"
    )
    p.add_argument("--concurrency", type=int, default=16, metavar="N", help="requests in flight")
    p.add_argument(
        "--rate-preset",
        choices=RATE_PRESETS,
        default="adaptive",
        help="client-side rate limits: a plan's, or adaptive (learn from 429s; default)",
    )
    p.add_argument("--report", type=Path, metavar="OUT.json", help="write the JSON report here")
    p.add_argument(
        "--emulator",
        action="store_true",
        help="run against an embedded emulator with time-scaled Standard-plan rate limits",
    )
    p.add_argument(
        "--emulator-state",
        type=Path,
        metavar="PATH",
        help="with --emulator: keep the emulator's assistants and files in this sqlite file, so "
        "a second run starts from what the first one left",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="list unchanged assistants too")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    add_fleet_options(p)
    return p


def _add_assistants(commands: Subcommands) -> argparse.ArgumentParser:
    a = commands.add_parser("assistants", help="list, describe or delete assistants")
    a_cmds = a.add_subparsers(dest="action", required=True, metavar="ACTION")
    a_list = a_cmds.add_parser("list", help="list assistants")
    a_list.add_argument("--json", action="store_true", help="JSON output")
    a_desc = a_cmds.add_parser("describe", help="describe one assistant (JSON)")
    a_desc.add_argument("name")
    a_del = a_cmds.add_parser("delete", help="delete one assistant")
    a_del.add_argument("name")
    a_del.add_argument("--wait", action="store_true", help="wait until it is gone")
    return a


def _add_files(commands: Subcommands) -> argparse.ArgumentParser:
    f = commands.add_parser("files", help="upload, list or delete an assistant's files")
    f_cmds = f.add_subparsers(dest="action", required=True, metavar="ACTION")
    f_up = f_cmds.add_parser("upload", help="upload a file")
    f_up.add_argument("assistant")
    f_up.add_argument("path", type=Path)
    f_up.add_argument("--metadata", help="file metadata as a JSON object")
    f_up.add_argument("--wait", action="store_true", help="wait until it is processed")
    f_up.add_argument(
        "--no-check-limits",
        action="store_true",
        help="send it even if its type or size is beyond the documented limits",
    )
    f_list = f_cmds.add_parser("list", help="list files")
    f_list.add_argument("assistant")
    f_list.add_argument("--json", action="store_true", help="JSON output")
    f_del = f_cmds.add_parser("delete", help="delete a file")
    f_del.add_argument("assistant")
    f_del.add_argument("file_id")
    return f


def _add_chat(commands: Subcommands) -> argparse.ArgumentParser:
    c = commands.add_parser("chat", help="ask an assistant a question (streams the answer)")
    c.add_argument("name")
    c.add_argument("question")
    c.add_argument("--model", help="model name (server default otherwise)")
    return c


def _add_emulator(commands: Subcommands) -> argparse.ArgumentParser:
    e = commands.add_parser(
        "emulator",
        help="run the local emulator (same options as python -m aiopinecone.emulator)",
        add_help=False,
    )
    e.add_argument("args", nargs=argparse.REMAINDER)
    return e
