"""``import aiopinecone`` is light: the client path only, the rest loads when first used.

Each check runs in a fresh interpreter (this test process has long since loaded everything).
"""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiopinecone
import aiopinecone.models
from aiopinecone.emulator import ThreadedEmulator

REPO_ROOT = Path(__file__).resolve().parent.parent

LAZY_NAMES = (
    "AssistantSpec",
    "FileSpec",
    "FleetError",
    "Plan",
    "ProvisionReport",
    "Provisioner",
    "RateLimits",
    "load_fleet",
)


# The data-plane areas: `import aiopinecone` must not load them (they load on first use).
DATA_PLANE_MODULES = (
    "aiopinecone._sse",
    "aiopinecone._upload",
    "aiopinecone.models.chat",
    "aiopinecone.models.context",
    "aiopinecone.models.evaluation",
    "aiopinecone.models.files",
    "aiopinecone.models.operations",
    "aiopinecone.resources._chat_body",
    "aiopinecone.resources._streams",
)

# Public names of the top-level package that load a data-plane area on first use.
DATA_PLANE_NAMES = {
    "AlignmentResult": "aiopinecone.models.evaluation",
    "AssistantFile": "aiopinecone.models.files",
    "ChatCompletion": "aiopinecone.models.chat",
    "ChatCompletionStream": "aiopinecone.resources._streams",
    "ChatResponse": "aiopinecone.models.chat",
    "ChatStream": "aiopinecone.resources._streams",
    "ChunkType": "aiopinecone.models.chat",
    "ContextOptions": "aiopinecone.models.chat",
    "ContextResponse": "aiopinecone.models.context",
    "FileStatus": "aiopinecone.models.files",
    "Message": "aiopinecone.models.chat",
    "Operation": "aiopinecone.models.operations",
    "OperationStatus": "aiopinecone.models.operations",
}


def run_fresh(code: str) -> dict[str, Any]:
    """Run ``code`` in a new interpreter (warnings are errors); it prints one JSON object."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# What `import aiopinecone` loaded beyond what aiohttp (which it needs) loads by itself.
LOADED_BY_IMPORT = """
import json, sys
import aiohttp
before = set(sys.modules)
import aiopinecone
print(json.dumps({"loaded": sorted(set(sys.modules) - before), "file": aiopinecone.__file__}))
"""


def test_import_runs_the_source_under_test() -> None:
    assert run_fresh(LOADED_BY_IMPORT)["file"] == aiopinecone.__file__


def test_import_loads_the_client_path_only() -> None:
    loaded = set(run_fresh(LOADED_BY_IMPORT)["loaded"])
    assert "aiopinecone._client" in loaded  # the check can see what the import loads
    for module in (
        "yaml",
        "aiopinecone.provision",
        "aiopinecone.emulator",
        "aiopinecone.cli",
        "importlib.metadata",
        "cattrs",  # built on first need (aiopinecone._convert)
        "backoff",  # imported on the first retry or wait (aiopinecone._retry)
    ):
        assert module not in loaded, f"import aiopinecone loads {module}"
    assert not [m for m in loaded if m.startswith(("aiopinecone.provision.", "yaml."))]


def test_import_does_not_load_the_data_plane_areas() -> None:
    loaded = set(run_fresh(LOADED_BY_IMPORT)["loaded"])
    assert "aiopinecone.resources._chat" in loaded  # the mixins themselves are there
    assert "aiopinecone.models.assistants" in loaded  # the control plane's models too
    early = sorted(set(DATA_PLANE_MODULES) & loaded)
    assert early == [], f"import aiopinecone loads {early}"


def test_data_plane_names_resolve_on_first_use() -> None:
    result = run_fresh(
        f"""
import importlib, json, sys
import aiopinecone
names = {dict(DATA_PLANE_NAMES)!r}
loaded_before = [m for m in set(names.values()) if m in sys.modules]
listed = [name for name in names if name in dir(aiopinecone)]
exported = [name for name in names if name in aiopinecone.__all__]
same = [name for name, module in names.items()
        if getattr(aiopinecone, name) is getattr(importlib.import_module(module), name)]
from aiopinecone import ChatResponse, ChatStream
from aiopinecone.resources import ChatStream as ResourcesChatStream
print(json.dumps({{
    "loaded_before": loaded_before, "listed": listed, "exported": exported, "same": same,
    "from_import": ChatResponse.__module__ == "aiopinecone.models.chat"
    and ChatStream is ResourcesChatStream,
}}))
"""
    )
    assert result["loaded_before"] == []
    assert result["listed"] == list(DATA_PLANE_NAMES)
    assert result["exported"] == list(DATA_PLANE_NAMES)
    assert result["same"] == list(DATA_PLANE_NAMES)
    assert result["from_import"] is True


def test_every_model_name_resolves_through_the_models_package() -> None:
    result = run_fresh(
        """
import importlib, json, sys
import aiopinecone.models as models
lazy_loaded = [m for m in sys.modules if m.startswith("aiopinecone.models.")
               and m != "aiopinecone.models.assistants"]
missing = [name for name in models.__all__ if name not in dir(models)]
wrong = []
for name in models.__all__:
    value = getattr(models, name)
    home = importlib.import_module(f"aiopinecone.models.{models._LAZY.get(name, 'assistants')}")
    if value is not getattr(home, name):
        wrong.append(name)
from aiopinecone.models import MultimodalSnippet, Usage
try:
    models.NoSuchModel
    unknown = "resolved"
except AttributeError as exc:
    unknown = str(exc)
print(json.dumps({"lazy_loaded": lazy_loaded, "missing": missing, "wrong": wrong,
                  "count": len(models.__all__), "unknown": unknown}))
"""
    )
    assert result["lazy_loaded"] == []
    assert result["missing"] == []
    assert result["wrong"] == []
    assert result["count"] == len(aiopinecone.models.__all__)
    assert "NoSuchModel" in result["unknown"]


# A fresh process that imports only `aiopinecone` and then uses the lazily loaded areas.
DATA_PLANE_AFTER_BARE_IMPORT = """
import asyncio, json, sys
import aiopinecone

async def main():
    async with aiopinecone.AsyncPinecone(api_key="any-key", host={url!r}) as pc:
        before = [m for m in {modules!r} if m in sys.modules]
        await pc.assistants.create(name="lazy", wait=True)
        uploaded = await pc.assistants.upload_file(
            assistant_name="lazy", file=b"Lazy areas load on first use.", file_name="lazy.txt",
            wait=True,
        )
        answer = await pc.assistants.chat(
            assistant_name="lazy", messages=[{{"role": "user", "content": "What loads?"}}]
        )
        chunks = []
        async with await pc.assistants.chat(
            assistant_name="lazy", messages=[{{"content": "And streamed?"}}], stream=True
        ) as stream:
            async for chunk in stream:
                chunks.append(type(chunk).__name__)
        context = await pc.assistants.context(assistant_name="lazy", query="loads")
        files = await pc.assistants.list_files(assistant_name="lazy")
        return {{
            "before": before,
            "uploaded": [type(uploaded).__name__, uploaded.status],
            "answer": [type(answer).__name__, bool(answer.message.content)],
            "chunks": chunks,
            "context": type(context).__name__,
            "files": [f.id for f in files] == [uploaded.id],
            "status_is_public": uploaded.status == aiopinecone.FileStatus.AVAILABLE,
        }}

print(json.dumps(asyncio.run(main())))
"""


# A fresh process's first answer: the client path parses it without cattrs (and retries nothing,
# so backoff is not needed); a malformed answer loads cattrs for the detailed error.
FIRST_DESCRIBE = """
import asyncio, json, sys
import aiopinecone
from aiopinecone._convert import parse
from aiopinecone.models import Assistant

async def main():
    async with aiopinecone.AsyncPinecone(api_key="any-key", host={url!r}) as pc:
        await pc.assistants.create(name="first")
        loaded_after_create = [m for m in ("cattrs", "backoff") if m in sys.modules]
        described = await pc.assistants.describe(name="first")
        listed = await pc.assistants.list()
    loaded = [m for m in ("cattrs", "backoff") if m in sys.modules]
    try:
        parse(b'{{"name": "x", "status": "Ready", "created_at": 3}}', Assistant)
        error = None
    except aiopinecone.ResponseParseError as exc:
        error = exc.path
    return {{
        "loaded_after_create": loaded_after_create, "loaded": loaded,
        "described": [described.name, type(described.created_at).__name__],
        "listed": [a.name for a in listed], "error": error,
        "cattrs_after_error": "cattrs" in sys.modules,
    }}

print(json.dumps(asyncio.run(main())))
"""


def test_first_answers_need_neither_cattrs_nor_backoff(
    pinecone_emulator: ThreadedEmulator,
) -> None:
    result = run_fresh(FIRST_DESCRIBE.format(url=pinecone_emulator.url))
    assert result["loaded_after_create"] == []
    assert result["loaded"] == []
    assert result["described"] == ["first", "datetime"]
    assert result["listed"] == ["first"]
    assert result["error"] == "$.created_at"
    assert result["cattrs_after_error"] is True


def test_chat_and_upload_work_after_a_bare_import(pinecone_emulator: ThreadedEmulator) -> None:
    result = run_fresh(
        DATA_PLANE_AFTER_BARE_IMPORT.format(url=pinecone_emulator.url, modules=DATA_PLANE_MODULES)
    )
    assert result["before"] == []
    assert result["uploaded"] == ["AssistantFile", "Available"]
    assert result["answer"] == ["ChatResponse", True]
    assert result["chunks"][0] == "MessageStartChunk"
    assert result["chunks"][-1] == "MessageEndChunk"
    assert "ContentChunk" in result["chunks"]
    assert result["context"] == "ContextResponse"
    assert result["files"] is True
    assert result["status_is_public"] is True


def test_provisioning_names_resolve_on_first_use() -> None:
    result = run_fresh(
        f"""
import json, sys
import aiopinecone
yaml_before = "yaml" in sys.modules
names = {LAZY_NAMES!r}
listed = [name for name in names if name in dir(aiopinecone)]
exported = [name for name in names if name in aiopinecone.__all__]
import aiopinecone.provision as provision
same = [name for name in names if getattr(aiopinecone, name) is getattr(provision, name)]
from aiopinecone import load_fleet, AssistantSpec
print(json.dumps({{
    "listed": listed, "exported": exported, "same": same,
    "from_import": load_fleet is provision.load_fleet and AssistantSpec is provision.AssistantSpec,
    "cli_loaded": "aiopinecone.cli" in sys.modules, "yaml_before": yaml_before,
}}))
"""
    )
    assert result["listed"] == list(LAZY_NAMES)
    assert result["exported"] == list(LAZY_NAMES)
    assert result["same"] == list(LAZY_NAMES)
    assert result["from_import"] is True
    assert result["cli_loaded"] is False
    assert result["yaml_before"] is False


def test_provision_subpackage_is_reachable_as_an_attribute() -> None:
    result = run_fresh(
        """
import json
import aiopinecone
print(json.dumps({"plan": aiopinecone.provision.Plan is aiopinecone.Plan}))
"""
    )
    assert result == {"plan": True}


def test_version_is_the_installed_distributions() -> None:
    assert aiopinecone.__version__ == importlib.metadata.version("aiopinecone")
