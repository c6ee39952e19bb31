"""Readiness polling schedule: batched while creates go out, prompt at the end, learnt delay."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from aiopinecone.models.assistants import Assistant
from aiopinecone.provision._poller import ReadinessPoller


@attrs.define
class Host:
    """The run a poller serves, with a fake clock and a scripted list of assistants."""

    now: float = 0.0
    ready_timeout: float = 100.0
    ready_estimate: float = 2.0
    ready_batch: int = 3
    max_ready_lag: float = 15.0
    min_poll_gap: float = 0.5
    creates_pending: int = 0
    listed: list[Assistant] = attrs.Factory(list)
    lists: int = 0
    clock: Callable[[], float] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.clock = lambda: self.now

    async def list_assistants(self) -> list[Assistant]:
        self.lists += 1
        return list(self.listed)


async def test_batches_while_creates_are_pending_and_polls_promptly_at_the_end() -> None:
    host = Host(creates_pending=5)
    poller = ReadinessPoller(host)
    assert poller.next_poll_at(0.0) is None  # nobody waiting: no poll
    poller.watch("a")
    host.now = 1.0
    poller.watch("b")
    # Two waiters, a batch of 3 wanted: poll when the 2nd is due, not the 1st.
    assert poller.next_poll_at(1.0) == 3.0
    host.now = 2.0
    poller.watch("c")
    assert poller.next_poll_at(2.0) == 4.0  # the 3rd completes the batch at 2 + 2
    host.creates_pending = 0
    assert poller.next_poll_at(2.0) == 2.0  # no more creates: poll for the first one due


async def test_no_assistant_waits_longer_than_the_lag_cap() -> None:
    host = Host(creates_pending=100, ready_batch=50, max_ready_lag=5.0)
    poller = ReadinessPoller(host)
    poller.watch("a")
    for i in range(10):
        host.now = 1.0 + i
        poller.watch(f"b{i}")
    assert poller.next_poll_at(host.now) == 0.0 + 2.0 + 5.0


async def test_poll_resolves_ready_and_failed_and_learns_the_delay() -> None:
    host = Host()
    poller = ReadinessPoller(host)
    ready = poller.watch("ready")
    failed = poller.watch("failed")
    pending = poller.watch("pending")
    host.listed = [
        Assistant(name="ready", status="Ready"),
        Assistant(name="failed", status="InitializationFailed"),
        Assistant(name="pending", status="Initializing"),
        Assistant(name="other", status="Ready"),
    ]
    host.now = 2.0
    await poller._poll()
    assert ready.result().name == "ready"
    assert "InitializationFailed" in str(failed.exception())
    assert not pending.done()
    assert host.lists == 1
    assert poller.polls == 1
    assert poller.estimate == 2.0  # some of the due ones were Ready: no reason to change
    host.listed = []
    host.now = 3.0
    await poller._poll()  # nothing due became Ready: the estimate was too optimistic
    assert poller.estimate == 3.0
    assert poller.next_poll_at(3.0) == 3.5  # min gap after the last poll


async def test_waits_time_out() -> None:
    host = Host(ready_timeout=10.0)
    poller = ReadinessPoller(host)
    waiting = poller.watch("slow")
    host.listed = [Assistant(name="slow", status="Initializing")]
    host.now = 11.0
    await poller._poll()
    assert "was not Ready after 10.0 s" in str(waiting.exception())
    assert poller.next_poll_at(11.0) is None
