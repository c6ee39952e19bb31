"""Pure tests of the retry policy: what is retried, delays, caps and budgets."""

from __future__ import annotations

import itertools
import time

import attrs
import pytest

from aiopinecone import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PineconeError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
    set_retry_testing,
)
from aiopinecone._retry import RetryState, poll_delays


def rate_limited(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("slow down", status=429, retry_after=retry_after)


def server(status: int = 503) -> ServerError:
    return ServerError("boom", status=status)


CASES: list[tuple[PineconeError, bool, bool]] = [
    # (error, retried when idempotent, retried when not idempotent)
    (rate_limited(), True, True),
    (rate_limited(2.0), True, True),
    (QuotaExceededError("quota", status=429, code="QUOTA_EXCEEDED"), False, False),
    (QuotaExceededError("quota", status=403), False, False),
    (ConflictError("exists", status=409), False, False),
    (BadRequestError("bad", status=400), False, False),
    (AuthenticationError("who", status=401), False, False),
    (NotFoundError("gone", status=404), False, False),
    (server(500), True, False),
    (server(502), True, False),
    (server(503), True, False),
    (server(504), True, False),
    (server(501), False, False),
    (TransportError("reset", ambiguous=True), True, False),
    (TransportError("refused", ambiguous=False), True, True),
    (RequestTimeoutError("slow", ambiguous=True), True, False),
    (RequestTimeoutError("connect", ambiguous=False), True, True),
    (ValidationError("bad input"), False, False),
]


@pytest.mark.parametrize(("error", "idempotent_retried", "post_retried"), CASES)
def test_what_is_retried(
    error: PineconeError, idempotent_retried: bool, post_retried: bool
) -> None:
    policy = RetryPolicy()
    assert policy.should_retry(error, idempotent=True) is idempotent_retried
    assert policy.should_retry(error, idempotent=False) is post_retried


def test_defaults_match_the_design() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.initial_delay, policy.max_delay, policy.max_elapsed) == (
        4,
        0.5,
        20.0,
        120.0,
    )


def test_policy_is_frozen_and_none_never_retries() -> None:
    policy = RetryPolicy.none()
    assert policy.max_attempts == 1
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.max_attempts = 3  # type: ignore[misc]
    state = policy.start()
    assert state.next_delay(rate_limited(), attempt=1, idempotent=True) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 1.5},
        {"max_attempts": True},
        {"initial_delay": -1},
        {"max_delay": float("nan")},
        {"max_elapsed": "10"},
    ],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempts_are_capped() -> None:
    state = RetryPolicy(max_attempts=3, jitter=False).start()
    assert state.next_delay(server(), attempt=1, idempotent=True) == 0.5
    assert state.next_delay(server(), attempt=2, idempotent=True) == 1.0
    assert state.next_delay(server(), attempt=3, idempotent=True) is None


def test_backoff_grows_and_is_capped_without_jitter() -> None:
    policy = RetryPolicy(max_attempts=100, initial_delay=0.5, max_delay=3.0, jitter=False)
    state = policy.start()
    delays = [state.next_delay(server(), attempt=n, idempotent=True) for n in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_full_jitter_stays_within_the_exponential_envelope() -> None:
    policy = RetryPolicy(max_attempts=100, initial_delay=0.5, max_delay=3.0)
    for _ in range(50):
        state = policy.start()
        for n, ceiling in zip(itertools.count(1), [0.5, 1.0, 2.0, 3.0, 3.0], strict=False):
            delay = state.next_delay(server(), attempt=n, idempotent=True)
            assert delay is not None
            assert 0.0 <= delay <= ceiling


@pytest.mark.parametrize("retry_after", [0.0, 0.2, 1.0, 7.0, 59.0])
def test_jitter_never_shortens_retry_after(retry_after: float) -> None:
    policy = RetryPolicy(max_attempts=100, max_retry_after=60.0)
    for _ in range(50):
        state = policy.start()
        for n in range(1, 5):
            delay = state.next_delay(rate_limited(retry_after), attempt=n, idempotent=False)
            assert delay is not None
            assert delay >= retry_after


def test_retry_after_above_the_cap_gives_up_at_once() -> None:
    state = RetryPolicy(max_retry_after=30.0).start()
    assert state.next_delay(rate_limited(31.0), attempt=1, idempotent=True) is None
    assert state.next_delay(rate_limited(30.0), attempt=1, idempotent=True) is not None


def test_retry_after_beyond_the_remaining_budget_gives_up_at_once() -> None:
    policy = RetryPolicy(max_elapsed=10.0, max_retry_after=60.0)
    state = RetryState(policy, start=time.monotonic() - 8.0)  # 2 s of budget left
    assert state.next_delay(rate_limited(5.0), attempt=1, idempotent=True) is None
    assert state.next_delay(rate_limited(1.0), attempt=1, idempotent=True) is not None


def test_no_retry_once_the_budget_is_spent() -> None:
    state = RetryState(RetryPolicy(max_elapsed=1.0), start=time.monotonic() - 2.0)
    assert state.next_delay(server(), attempt=1, idempotent=True) is None


def test_backoff_delay_is_clipped_to_the_remaining_budget() -> None:
    policy = RetryPolicy(max_elapsed=10.0, initial_delay=8.0, max_delay=8.0, jitter=False)
    state = RetryState(policy, start=time.monotonic() - 7.0)
    delay = state.next_delay(server(), attempt=1, idempotent=True)
    assert delay is not None
    assert delay <= 3.0


async def test_testing_mode_skips_the_wait_but_charges_the_budget() -> None:
    set_retry_testing(True)
    try:
        state = RetryPolicy(max_elapsed=10.0).start()
        await state.sleep(9.5)
        assert state.elapsed() >= 9.5
        # the budget is (virtually) spent: a 1 s Retry-After no longer fits
        assert state.next_delay(rate_limited(1.0), attempt=1, idempotent=True) is None
    finally:
        set_retry_testing(False)


def test_poll_delays_grow_and_cap() -> None:
    delays = list(itertools.islice(poll_delays(1.0, 10.0, jitter=False), 7))
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    jittered = list(itertools.islice(poll_delays(1.0, 10.0), 7))
    for plain, value in zip(delays, jittered, strict=True):
        assert 0.75 * plain <= value <= plain


def test_poll_delays_are_short_in_testing_mode() -> None:
    set_retry_testing(True)
    try:
        assert max(itertools.islice(poll_delays(1.0, 10.0), 5)) <= 0.02
    finally:
        set_retry_testing(False)
