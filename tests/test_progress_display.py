"""The progress line's figures (issue 12): recent rates, ETAs that know the rate limits, a
line that fits its width, requests counted."""

from __future__ import annotations

import io

from aiopinecone.provision import ProgressDisplay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_finished_burst_shows_no_rate() -> None:
    clock = Clock()
    progress = ProgressDisplay(io.StringIO(), tty=False, clock=clock)
    progress.add_total("create", 32)
    clock.now = 0.02
    progress.advance("create", 32)  # 32 creates in 20 ms: "1600/s" would mean nothing
    clock.now = 3.0
    assert progress.render() == "create 32/32 | 3s"


def test_the_rate_is_measured_over_a_recent_window() -> None:
    clock = Clock()
    progress = ProgressDisplay(io.StringIO(), tty=False, window=10.0, clock=clock)
    progress.add_total("upload", 200)
    for second in range(1, 21):  # 10 per second for 20 s, then nothing for 5 s
        clock.now = float(second)
        progress.advance("upload", 10)
    clock.now = 25.0
    # The last 10 s saw 50 uploads (from 15 s to 20 s): 5.0/s, not the run's 8.0/s.
    assert progress.render().startswith("upload 200/200")  # finished: no rate
    progress.add_total("upload", 100)
    assert progress.render().startswith("upload 200/300 5.0/s ETA 20s")


def test_the_eta_respects_the_rate_limit() -> None:
    clock = Clock()
    progress = ProgressDisplay(io.StringIO(), tty=False, clock=clock)
    progress.add_total("upload", 100)
    clock.now = 2.0
    progress.advance("upload", 20)  # a first burst at 10/s...
    assert progress.render() == "upload 20/100 10.0/s ETA 8s | 2s"
    # ...but the class may send only 20 a minute: 80 more take 4 minutes.
    progress.set_ceilings(lambda: {"upload": 20 / 60})
    assert progress.render() == "upload 20/100 10.0/s ETA 4m00s | 2s"
    clock.now = 30.0  # stalled, waiting for the limit: the ETA still comes from it
    assert progress.render() == "upload 20/100 0.0/s ETA 4m00s | 30s"


def test_requests_are_counted() -> None:
    clock = Clock()
    progress = ProgressDisplay(io.StringIO(), tty=False, clock=clock)
    progress.requested(33)
    assert progress.render() == "33 reqs | 0s"


def test_the_line_fits_its_width_by_leaving_out_detail() -> None:
    clock = Clock()
    progress = ProgressDisplay(io.StringIO(), tty=False, clock=clock)
    for phase, total in (("create", 32), ("ready", 32), ("upload", 96), ("process", 96)):
        progress.add_total(phase, total)
    clock.now = 4.0
    progress.advance("create", 32)
    progress.advance("ready", 32)
    progress.advance("upload", 60)
    progress.advance("process", 40)
    progress.rate_limited(2)
    progress.requested(180)
    full = progress.render()
    assert full == (
        "create 32/32 | ready 32/32 | upload 60/96 15.0/s ETA 2s | "
        "process 40/96 10.0/s ETA 6s | 429s 2 | 180 reqs | 4s"
    )
    assert progress.render(width=len(full)) == full
    for width in (100, 80, 60, 40, 20, 5):
        assert len(progress.render(width=width)) <= width
    assert progress.render(width=60) == "upload 60/96 | process 40/96 | ETA 6s | 429s 2 | 4s"


def test_a_terminal_line_is_cut_to_the_terminal() -> None:
    out = io.StringIO()
    progress = ProgressDisplay(out, tty=True, width=30)
    progress.add_total("upload", 96)
    progress.add_total("process", 96)
    progress.requested(1234)
    progress.rate_limited(12)
    progress.tick(force=True)
    progress.close()
    for segment in out.getvalue().replace("\x1b[K", "").replace("\n", "").split("\r"):
        assert len(segment) < 30  # one column short of the edge


def test_the_final_line_keeps_the_phases_rather_than_the_request_count() -> None:
    clock = Clock()
    progress = ProgressDisplay(io.StringIO(), tty=False, clock=clock)
    for phase, total in (("create", 32), ("ready", 32), ("upload", 96), ("process", 96)):
        progress.add_total(phase, total)
        progress.advance(phase, total)
    progress.rate_limited(1)
    progress.requested(267)
    clock.now = 9.0
    assert progress.render(width=79) == (
        "create 32/32 | ready 32/32 | upload 96/96 | process 96/96 | 429s 1 | 9s"
    )
    assert progress.render(width=40) == "429s 1 | 9s"
