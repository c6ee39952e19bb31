"""One burst, one cut: a 429 of a request sent before a cut never cuts again, however late it
arrives (pure controllers under explicit times; no sleeping).

The timing-free twin of ``test_governor_redis_learning.py::
test_the_first_real_limit_is_cut_once_for_the_project``: there, two governors share the first
real limit through Redis, and on a loaded machine (CI with two xdist workers) the burst's later
429s reached a controller more than one round trip after its cut, so a rule bounded by round
trips ("one cut per round trip") cut the same burst a second time (about 2 runs in 10 before the
rule also looked at when each refused request was sent).
"""

from __future__ import annotations

from aiopinecone._governor import Controller

LEVELS = (20.0, 50.0, 100.0)  # the plans' create limits per minute
LATE = 5.0  # seconds after the cut: many round trips (each is 50 ms here)


def learning() -> Controller:
    """A process in slow start from the Starter guess whose 8 requests were accepted."""
    c = Controller(limit=20.0, window=60.0, adaptive=True, levels=LEVELS)
    c.outstanding = 10  # the gate counts each grant it hands out
    for i in range(8):
        c.accepted(0.05 + i * 0.001, cost=1.0, saturated=False, probe=False, taken_at=0.0)
    return c


def test_the_first_cut_is_not_repeated_by_the_same_bursts_late_429s() -> None:
    a = learning()
    block = a.rate_limited(0.06, usage=16.0, retry_after=30.0, probe=False, taken_at=0.0)
    assert block == 30.0
    assert not a.slow_start
    learnt = a.state()
    cut = (a.limit, a.window)

    # Its last request of the burst is refused long after the cut: no second cut.
    a.rate_limited(LATE, usage=16.0, retry_after=30.0, probe=False, taken_at=0.0)
    assert (a.limit, a.window) == cut
    assert a.state() == learnt


def test_an_adopted_cut_is_not_repeated_by_this_processs_late_429s() -> None:
    a = learning()
    a.rate_limited(0.06, usage=16.0, retry_after=30.0, probe=False, taken_at=0.0)
    published = a.state()

    # B hears the limit from its own 429 of the same burst and adopts A's cut (as the gate
    # does: load the published state, then the 429 itself, which cuts nothing).
    b = learning()
    b.load(published, now=0.07)
    b.rate_limited(0.07, usage=16.0, retry_after=30.0, probe=False, taken_at=0.0)
    adopted = (b.limit, b.window)
    assert not b.slow_start
    assert adopted == (published["limit"], published["window"])

    # B's last request of that burst is refused long after: still A's cut.
    b.rate_limited(LATE, usage=16.0, retry_after=30.0, probe=False, taken_at=0.0)
    assert (b.limit, b.window) == adopted


def test_a_request_sent_after_the_cut_may_still_cut() -> None:
    """The rule must not freeze the limit: a 429 of a request sent after the cut is news."""
    b = learning()
    b.load(learning_cut(), now=0.07)
    window = b.window
    b.outstanding += 1
    b.rate_limited(LATE, usage=16.0, retry_after=30.0, probe=False, taken_at=LATE - 0.05)
    assert b.window > window  # the rate slowed (BETA), the burst stays


def learning_cut() -> dict[str, float]:
    a = learning()
    a.rate_limited(0.06, usage=16.0, retry_after=30.0, probe=False, taken_at=0.0)
    return a.state()
