"""Bulk provisioning: fleets of assistants from one declarative file, planned and applied.

- :class:`AssistantSpec` / :class:`FileSpec` say what should exist; :func:`load_fleet` reads them
  from a YAML or JSON fleet file (validated up front, every problem reported with its line).
- :func:`make_plan` compares them with what the server has (pure); :class:`Plan` renders as a
  readable diff.
- ``pc.assistants.provision(...)`` applies a plan under per-operation-class rate limits
  (:class:`RateLimits`, adaptive or from a plan preset) and returns a :class:`ProvisionReport`;
  its options are one frozen :class:`ProvisionOptions` (or the same keywords).
- Fleets across machines: :class:`Shard` (``shard="I/N"``: the assistants whose names hash to
  it), :class:`Lease` (applies of one fleet that would overlap never run at once, through Redis) and
  :func:`merge_reports` (the shards' JSON reports as one).
- Provisioning sits above the client: it calls the few client methods of
  :class:`ProvisionClient` and never imports the resources that implement them.

Files are identified on the server by name plus a content hash in their metadata
(:data:`HASH_METADATA_KEY`), which makes re-runs idempotent: see ``_files.py``.
"""

import warnings
from typing import TYPE_CHECKING, Any

from .._governor import OPERATION_CLASSES, PRESETS, RateLimits
from .._lease import Lease, LeaseError, LeaseHeldError, LeaseLostError
from ._apply import Provisioner
from ._calls import ProvisionClient
from ._errors import FleetError, FleetProblem
from ._files import HASH_METADATA_KEY
from ._merge import ReportMergeError, merge_reports
from ._options import ProvisionKeywords, ProvisionOptions
from ._plan import AssistantPlan, Change, FileAction, Plan, make_plan, plan_files
from ._progress import ProgressDisplay
from ._report import AssistantReport, ProvisionReport
from ._shard import Shard
from ._specs import AssistantSpec, FileSpec

if TYPE_CHECKING:  # at run time __getattr__ loads them (and PyYAML) on first use
    from ._fleet import Fleet, load_fleet, parse_fleet

_FLEET_NAMES = frozenset({"Fleet", "load_fleet", "parse_fleet"})

__all__ = [
    "HASH_METADATA_KEY",
    "OPERATION_CLASSES",
    "PRESETS",
    "AssistantPlan",
    "AssistantReport",
    "AssistantSpec",
    "Change",
    "FileAction",
    "FileSpec",
    "Fleet",
    "FleetError",
    "FleetProblem",
    "Lease",
    "LeaseError",
    "LeaseHeldError",
    "LeaseLostError",
    "Plan",
    "ProgressDisplay",
    "ProvisionClient",
    "ProvisionKeywords",
    "ProvisionOptions",
    "ProvisionReport",
    "Provisioner",
    "RateLimits",
    "ReportMergeError",
    "Shard",
    "load_fleet",
    "make_plan",
    "merge_reports",
    "parse_fleet",
    "plan_files",
]


def __getattr__(name: str) -> Any:
    if name in _FLEET_NAMES:
        # Fleet files are YAML: load the reader (and PyYAML) only when one is read, not for
        # provisioning specs built in Python.
        from . import _fleet

        value = getattr(_fleet, name)
        globals()[name] = value
        return value
    if name == "Progress":
        warnings.warn(
            "aiopinecone.provision.Progress is deprecated; use ProgressDisplay (Progress also "
            "names the upload progress callback type)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ProgressDisplay
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
