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
    ):
        assert module not in loaded, f"import aiopinecone loads {module}"
    assert not [m for m in loaded if m.startswith(("aiopinecone.provision.", "yaml."))]


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
