"""Bulk provisioning: fleets of assistants from one declarative file, planned and applied.

- :class:`AssistantSpec` / :class:`FileSpec` say what should exist; :func:`load_fleet` reads them
  from a YAML or JSON fleet file (validated up front, every problem reported with its line).
- :func:`make_plan` compares them with what the server has (pure); :class:`Plan` renders as a
  readable diff.
- ``pc.assistants.provision(...)`` applies a plan under per-operation-class rate limits
  (:class:`RateLimits`, adaptive or from a plan preset) and returns a :class:`ProvisionReport`.

Files are identified on the server by name plus a content hash in their metadata
(:data:`HASH_METADATA_KEY`), which makes re-runs idempotent: see ``_files.py``.
"""

from ._apply import Provisioner
from ._errors import FleetError, FleetProblem
from ._files import HASH_METADATA_KEY
from ._fleet import Fleet, load_fleet, parse_fleet
from ._plan import AssistantPlan, Change, FileAction, Plan, make_plan, plan_files
from ._progress import Progress
from ._ratelimit import OPERATION_CLASSES, PRESETS, RateLimiter, RateLimits
from ._report import AssistantReport, ProvisionReport
from ._specs import AssistantSpec, FileSpec

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
    "Plan",
    "Progress",
    "ProvisionReport",
    "Provisioner",
    "RateLimiter",
    "RateLimits",
    "load_fleet",
    "make_plan",
    "parse_fleet",
    "plan_files",
]
