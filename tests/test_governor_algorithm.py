"""The adaptive controller as a pure state machine, under a simulated clock (no sleeping).

Each scenario runs N requests (each retried until accepted) through the governor's own gate
against a simulated server and checks how close to the server's limit the client got
(simulated seconds, not wall time) and how many 429s it collected.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from governor_sim import Bucket, Window, simulate

from aiopinecone._governor import Controller

W = 2.0  # the server's (time-scaled) minute
WRITE_LEVELS = (20.0, 50.0, 100.0)  # the plans' create limits per minute


def ceil_seconds(wait: float) -> float:
    """Retry-After in whole seconds, rounded up, as HTTP servers send it."""
    return float(max(1, math.ceil(wait)))


def exact_seconds(wait: float) -> float:
    return wait


def milliseconds(wait: float) -> float:
    """``retry-after-ms``: the exact wait, rounded up to the millisecond."""
    return math.ceil(wait * 1000.0) / 1000.0


def adaptive(window: float = W, limit: float = 20.0) -> Controller:
    return Controller(limit=limit, window=window, adaptive=True, levels=WRITE_LEVELS)


@pytest.mark.parametrize(
    ("name", "server", "n", "told_window", "max_ratio", "max_refused", "hint"),
    [
        ("limit = start guess", Window(20, W), 100, W, 1.1, 0.075, exact_seconds),
        ("5x above", Window(100, W), 300, W, 1.1, 0.05, exact_seconds),
        ("per-minute server, told 60 s", Window(100, W), 300, 60.0, 1.1, 0.05, exact_seconds),
        ("limit = start guess, told 60 s", Window(20, W), 100, 60.0, 1.1, 0.075, exact_seconds),
        ("per-second bucket", Bucket(20, 20), 120, W, 1.1, 0.075, ceil_seconds),
        ("per-second bucket, told 60 s", Bucket(20, 20), 120, 60.0, 1.1, 0.075, ceil_seconds),
        # A bucket whose 429 says when its next token comes, to the millisecond: the wait of
        # one token, not of the whole burst (a window learnt from it alone is 20x too short).
        ("per-second bucket, retry-after-ms", Bucket(20, 20), 120, W, 1.1, 0.05, milliseconds),
        ("bucket, retry-after-ms, told 60 s", Bucket(20, 20), 120, 60.0, 1.1, 0.05, milliseconds),
        ("fast bucket, retry-after-ms", Bucket(100, 50), 600, W, 1.1, 0.075, milliseconds),
    ],
)
def test_reaches_the_limit_whatever_its_shape(
    name: str,
    server: Window | Bucket,
    n: int,
    told_window: float,
    max_ratio: float,
    max_refused: float,
    hint: Callable[[float], float],
) -> None:
    # A time-scaled minute sends its exact wait (milliseconds); a per-second bucket whole
    # seconds, rounded up, as HTTP servers do, or milliseconds (``retry-after-ms``).
    result = simulate(server, adaptive(told_window), n=n, retry_after=hint)
    assert result.ratio <= max_ratio, name
    assert result.refused_per_accepted <= max_refused, name


def test_discovers_a_limit_fifty_times_the_guess_in_a_few_dozen_round_trips() -> None:
    controller = adaptive()
    result = simulate(Window(1000, W), controller, n=600, latency=0.005)
    assert result.refused == 0
    assert result.wall <= 30 * 0.005  # multiplicative growth, not +1 per round trip
    assert controller.limit >= 600


def test_a_client_below_the_guess_in_concurrency_never_waits_on_the_guess() -> None:
    # 10 at a time, 400 requests, a server with no limit: the 60 s window of the guess (40)
    # fills while nothing is in flight; the guess must grow, not wait for the minute.
    controller = Controller(limit=40, window=60.0, adaptive=True, levels=(40.0, 100.0, 500.0))
    result = simulate(Window(10**6, 60.0), controller, n=400, concurrency=10)
    assert result.wall <= 60 * 0.005  # about 40 round trips of 10, never a minute
    assert controller.limit >= 400


def test_without_retry_after_a_per_minute_limit_is_still_found() -> None:
    # Without a hint the client must probe for the window's turn: a few more 429s (a probe
    # every window/4 at most) than with Retry-After.
    result = simulate(Window(100, W), adaptive(), n=300, retry_after=None)
    assert result.ratio <= 1.25
    assert result.refused_per_accepted <= 0.075


def test_random_429s_cost_about_what_they_cost_a_client_told_the_limit() -> None:
    ratios = []
    told = []
    for seed in range(3):
        kw = {"n": 300, "noise": 0.05, "seed": seed}
        ratios.append(simulate(Window(100, W), adaptive(), **kw).ratio)  # type: ignore[arg-type]
        exact = Controller(limit=100, window=W, adaptive=False)
        told.append(simulate(Window(100, W), exact, **kw).ratio)  # type: ignore[arg-type]
    assert sum(ratios) / 3 <= 1.1 * sum(told) / 3


def test_an_isolated_429_slows_moderately_and_never_stalls() -> None:
    c = adaptive()
    c.slow_start = False
    c.window = 1.0
    block = c.rate_limited(10.0, usage=5.0, retry_after=None, probe=False, taken_at=9.9)
    assert c.limit == 20.0  # the burst stays
    assert c.window == pytest.approx(1.0 / 0.9)  # the rate slows by 10%
    assert block == 0.0  # no hint, alone: no pause for the class
    c.accepted(10.1, cost=1, saturated=True, probe=False, taken_at=10.05)
    assert c.refused_streak == 0
    # 429s again on requests sent after the first: the class pauses, from one slot up.
    c.rate_limited(10.2, usage=5.0, retry_after=None, probe=False, taken_at=10.15)
    block = c.rate_limited(10.3, usage=5.0, retry_after=None, probe=False, taken_at=10.25)
    assert 0 < block <= c.window


def test_a_burst_of_429s_ends_slow_start_at_what_the_server_accepted() -> None:
    c = adaptive()
    c.limit = 130.0
    # The requests in flight when the limit was met come back refused: nothing new yet.
    for _ in range(5):
        c.rate_limited(1.0, usage=100.0, retry_after=None, probe=False, taken_at=0.9)
    assert c.slow_start  # 429s here and there may be noise
    # Requests sent after the first 429 are refused again, none accepted: a limit.
    for t in (1.1, 1.2):
        c.rate_limited(t + 0.05, usage=100.0, retry_after=None, probe=False, taken_at=t)
    assert c.slow_start
    c.rate_limited(1.35, usage=100.0, retry_after=None, probe=False, taken_at=1.3)
    assert c.state() == {"limit": 100.0, "window": W, "slow_start": 0.0}


def test_retry_after_is_the_block() -> None:
    c = adaptive()
    assert c.rate_limited(1.0, usage=0.0, retry_after=7.5, probe=False) == 7.5


def test_a_long_retry_after_is_a_limit_and_tells_the_window() -> None:
    c = adaptive(window=60.0)
    c.accepted(0.0, cost=1, saturated=True, probe=False, taken_at=0.0)
    c.rate_limited(0.5, usage=33.0, retry_after=1.0, probe=False, taken_at=0.49)
    assert c.state() == {"limit": 33.0, "window": 1.5, "slow_start": 0.0}


def test_an_unknown_class_runs_freely_until_throttled() -> None:
    c = Controller(limit=math.inf, window=W, adaptive=True)
    for t in (1.0, 1.1, 1.2, 1.3):
        c.rate_limited(t, usage=42.0, retry_after=None, probe=False, taken_at=t - 0.05)
    assert c.limit == 42.0
    result = simulate(Window(100, W), Controller(limit=math.inf, window=W, adaptive=True), n=300)
    assert result.ratio <= 1.1


def test_a_fixed_budget_never_changes() -> None:
    c = Controller(limit=50, window=60, adaptive=False)
    c.accepted(1.0, cost=1, saturated=True, probe=False)
    for _ in range(3):
        c.rate_limited(2.0, usage=10.0, retry_after=5.0, probe=False)
    assert (c.limit, c.window) == (50, 60)


def test_state_round_trip() -> None:
    a, b = adaptive(), adaptive()
    a.limit, a.window, a.slow_start = 77.0, 1.5, False
    b.load(a.state())
    assert (b.limit, b.window, b.slow_start) == (77.0, 1.5, False)
    b.load({"limit": -1.0, "window": 0.0})  # malformed: ignored
    assert b.limit == 77.0


def test_a_first_limit_just_below_a_plan_crossed_is_the_plan() -> None:
    # The step from 78.75 to 105 crossed Enterprise's 100; the store had seen 98 accepted
    # when the first 429 came (answers in flight, other processes' settles lag): the burst
    # is the plan's number, not 98 (else every window would take 2 fewer than it may).
    c = adaptive()
    c.limit = 105.0
    c.rate_limited(1.0, usage=98.0, retry_after=30.0, probe=False, taken_at=0.99)
    assert c.state()["limit"] == 100.0
    c = adaptive()
    c.limit = 78.75  # a custom limit of 57 met between two plans: what the server accepted
    c.rate_limited(1.0, usage=57.0, retry_after=30.0, probe=False, taken_at=0.99)
    assert c.state()["limit"] == 57.0


def test_a_plans_number_within_a_step_is_tested_by_that_step() -> None:
    # 50x above the guess: Starter's 20 and its test (21) go at once, then each step ends at
    # the next plan's test, 2.5x at most: 52.5 (Standard's 50), 105 (Enterprise's 100), then
    # doubling: six round trips (ten with 1.5x steps, each plan's number and its test apart).
    controller = adaptive()
    result = simulate(Window(1000, W), controller, n=600, latency=0.005)
    assert result.refused == 0
    assert result.wall <= 6 * 0.005 + 1e-9


def test_the_start_guess_is_tested_with_the_first_burst() -> None:
    c = adaptive()
    assert c.open_test(1.0)  # the guess used up before any answer
    assert c.limit == 21.0  # Starter's 20, and one request past it
    assert not c.open_test(1.0)  # once
    # Every grant of the first burst belongs to the step: the first answer does not end it
    # (all were taken at one instant, as on a coarse clock), the 21st does.
    for _ in range(20):
        c.outstanding += 1
        c.accepted(0.01, cost=1.0, saturated=True, probe=False, taken_at=0.0)
        assert c.limit == 21.0
    c.outstanding += 1
    c.accepted(0.01, cost=1.0, saturated=True, probe=False, taken_at=0.0)
    assert c.limit == 52.5
    # Not a plan's number (a told custom start): no test ahead of the answers.
    assert not Controller(limit=33, window=W, adaptive=True, levels=WRITE_LEVELS).open_test(1.0)


@pytest.mark.parametrize("limit", [20, 50, 100, 30])
def test_a_server_refusing_faster_than_it_accepts_is_learnt_right(limit: int) -> None:
    # A 429 that comes back before the acceptances sent ahead of it (the store has logged
    # few of them): the burst is what was sent before the refused requests, not what was
    # logged so far.
    controller = adaptive()
    result = simulate(Window(limit, W), controller, n=3 * limit, fast_refusals=True)
    assert controller.limit == limit
    assert result.ratio <= 1.1


def test_in_slow_start_any_wait_asked_for_a_request_of_the_step_is_its_limit() -> None:
    # A fast bucket's next token is due sooner than a round trip: still the step's limit (not
    # noise that the step's retries would let end, and the next step overshoot far).
    c = adaptive()
    c.srtt = c.rtt_min = 0.01
    c.outstanding = 40
    c.rate_limited(1.0, usage=20.0, retry_after=0.005, probe=False, taken_at=0.99)
    assert not c.slow_start
    c = adaptive()
    c.srtt = c.rtt_min = 0.01
    c.outstanding = 40
    c.rate_limited(1.0, usage=20.0, retry_after=0.0, probe=False, taken_at=0.99)
    assert c.slow_start  # "retry at once" asks for no wait


def test_requests_in_flight_at_a_cut_do_not_count_in_the_rate_measured_since() -> None:
    # The server counted them in its window before the cut: counted again, they make the rate
    # since look faster than the server's, the window too short, and every window turn meets
    # 429s (a per-minute server with slow requests: uploads).
    c = adaptive()
    c.slow_start, c.learnt, c.srtt = False, True, 0.01
    c._measure_from = 1.0  # the last cut
    c.outstanding = 26
    for _ in range(15):  # taken before the cut, answered after it
        c.accepted(1.02, cost=1.0, saturated=False, probe=False, taken_at=0.99)
    for _ in range(10):
        c.accepted(1.51, cost=1.0, saturated=False, probe=False, taken_at=1.5)
    c.probe_started()
    c.accepted(3.2, cost=1.0, saturated=True, probe=True, taken_at=3.0)
    assert c.window == W  # 11 accepted in 2.2 s: no faster than 20 per 2 s


def test_a_token_budgets_first_limit_is_what_was_counted() -> None:
    # A token budget's grants are estimates (the answers correct them): what the window held
    # when a refused call was taken says nothing about what the server counted.
    c = Controller(limit=100_000, window=W, adaptive=True, levels=(1e5, 3e5, 1e6), estimated=True)
    c.outstanding = 3
    c.rate_limited(0.1, usage=500.0, retry_after=1.0, probe=False, taken_at=0.0, position=5e3)
    assert (c.slow_start, c.state()["limit"]) == (False, 500.0)


@pytest.mark.parametrize(("limit", "step_end"), [(30, 52.5), (75, 105.0)])
def test_a_limit_between_the_plans_is_overshot_once_by_at_most_a_step(
    limit: int, step_end: float
) -> None:
    # A limit that is none of the plans' (a custom one, a plan not in the table): the step
    # that meets it goes on to the next plan's test, and no further; the later windows
    # refuse next to nothing.
    controller = adaptive()
    result = simulate(Window(limit, W), controller, n=300)
    assert controller.limit == limit
    assert result.refused <= step_end - limit + 3
    assert result.ratio <= 1.1
