"""``pc.assistants.provision`` / ``plan`` / ``provisioner``: fleets of assistants, declaratively.

Provisioning sits above the client (``aiopinecone.provision`` calls ``pc.assistants`` through
the small ``ProvisionClient`` protocol and never imports this package). These methods are a
convenience for callers: they import provisioning when first called, so that importing the
client does not load it (nor YAML).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Unpack, cast

if TYPE_CHECKING:
    from .._core import Core
    from ..provision._apply import Provisioner
    from ..provision._calls import ProvisionClient
    from ..provision._options import ProvisionKeywords, ProvisionOptions
    from ..provision._plan import Plan
    from ..provision._report import ProvisionReport
    from ..provision._specs import AssistantSpec
    from . import Assistants

    def _fits(assistants: Assistants) -> ProvisionClient:
        return assistants  # mypy checks here that pc.assistants has what provisioning calls


__all__ = ["ProvisionMixin"]


class ProvisionMixin:
    """Bulk provisioning methods of ``pc.assistants``."""

    _core: Core

    def provisioner(
        self,
        specs: Iterable[AssistantSpec],
        *,
        options: ProvisionOptions | None = None,
        **keywords: Unpack[ProvisionKeywords],
    ) -> Provisioner:
        """A :class:`~aiopinecone.provision.Provisioner` for ``specs`` (plan, apply, report).

        Use it instead of :meth:`provision` to keep a handle on the run: its ``report`` stays
        available (and truthful) when ``apply()`` is cancelled. Options as for :meth:`provision`.
        Raises :class:`~aiopinecone.provision.FleetError` for invalid specs (nothing is sent).
        """
        from ..provision._apply import Provisioner

        # The run takes the client's version, retry policy and governor from it.
        return Provisioner(cast("ProvisionClient", self), specs, options=options, **keywords)

    async def plan(
        self,
        specs: Iterable[AssistantSpec],
        *,
        options: ProvisionOptions | None = None,
        **keywords: Unpack[ProvisionKeywords],
    ) -> Plan:
        """What :meth:`provision` would do, without changing anything.

        One ``list`` of assistants, plus one ``list_files`` per existing Ready assistant whose
        files matter; every request is rate-limited like in :meth:`provision`. ``print(plan.
        render())`` shows it as a diff. Raises :class:`~aiopinecone.provision.FleetError` for
        invalid specs before any request.
        """
        return await self.provisioner(specs, options=options, **keywords).plan()

    async def provision(
        self,
        specs: Iterable[AssistantSpec],
        *,
        options: ProvisionOptions | None = None,
        **keywords: Unpack[ProvisionKeywords],
    ) -> ProvisionReport:
        """Bring the server to ``specs``: create, update, upload, wait; with ``prune``, delete.

        Idempotent and resumable: running it again (after success, a crash or a cancellation)
        does only what is still missing, without duplicates. Knowledge files are matched by name
        and content hash (metadata key ``aiopinecone_sha256``), so unchanged files are skipped
        and changed ones replaced.

        Options: a :class:`~aiopinecone.provision.ProvisionOptions` (``options``) and/or its
        keywords, which override it: ``prune`` (also delete what the specs do not list),
        ``concurrency`` (16), ``rate_preset`` (``"adaptive"``, ``"starter"``, ``"standard"``,
        ``"enterprise"``, ``"unlimited"`` or a :class:`~aiopinecone.provision.RateLimits`),
        ``progress`` (``True`` or a :class:`~aiopinecone.provision.ProgressDisplay`),
        ``ready_timeout``, ``processing_timeout``, ``poll_interval``, ``ready_estimate``,
        ``ready_batch``; :class:`~aiopinecone.provision.ProvisionOptions` says what each does.

        Returns the :class:`~aiopinecone.provision.ProvisionReport`; failures of single
        assistants are in it (``report.failed``) rather than raised. Raises
        :class:`~aiopinecone.provision.FleetError` for invalid specs, before any request.
        """
        return await self.provisioner(specs, options=options, **keywords).apply()
