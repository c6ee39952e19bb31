"""Reports (JSON and table) and the progress line (terminal and plain), with a fake clock."""

from __future__ import annotations

import io

import orjson

from aiopinecone.provision import ProgressDisplay, ProvisionReport
from aiopinecone.provision._report import Recorder, now_utc


def make_report(cancelled: bool = False) -> ProvisionReport:
    ok = Recorder(name="billing", planned="create")
    ok.begin(10.0)
    ok.actions += ["created", "ready", "uploaded faq.md"]
    ok.requests, ok.rate_limited, ok.files_uploaded = 4, 1, 1
    ok.timing("create", 0.25)
    ok.done, ok.finished = True, 12.5
    bad = Recorder(name="support", planned="update")
    bad.begin(10.0)
    bad.requests = 1
    bad.fail(ValueError("400 INVALID_ARGUMENT: nope\nsecond line"))
    cut = Recorder(name="docs", planned="create")
    cut.begin(11.0)
    idle = Recorder(name="quiet", planned="unchanged")
    idle.done = True
    never = Recorder(name="later", planned="create")
    recs = [ok, bad, cut, idle, never]
    return ProvisionReport(
        assistants=tuple(r.freeze(cancelled=cancelled, now=13.0) for r in recs),
        started_at=now_utc(),
        seconds=3.0,
        cancelled=cancelled,
        requests={"assistants_write": {"accepted": 2}},
    )


def test_outcomes_are_truthful() -> None:
    report = make_report(cancelled=True)
    got = {a.name: a.outcome for a in report.assistants}
    assert got == {
        "billing": "ok",
        "support": "failed",
        "docs": "cancelled",
        "quiet": "ok",
        "later": "not_started",
    }
    assert not report.ok
    assert report["support"].error == "400 INVALID_ARGUMENT: nope"
    assert report["support"].error_type == "ValueError"
    assert report["billing"].seconds == 2.5
    assert [a.name for a in report.failed] == ["support"]
    # Not cancelled: a started assistant that did not finish is a failure, not "cancelled".
    assert make_report(cancelled=False)["docs"].outcome == "failed"


def test_json_round_trip() -> None:
    report = make_report()
    data = orjson.loads(report.to_json())
    assert data["counts"] == {
        "ok": 2,
        "failed": 2,
        "cancelled": 0,
        "not_started": 1,
        "files_uploaded": 1,
        "files_deleted": 0,
        "rate_limited": 1,
        "requests": 5,
    }
    billing = data["assistants"][0]
    assert billing["actions"] == ["created", "ready", "uploaded faq.md"]
    assert billing["timings"] == {"create": 0.25}
    assert data["requests"] == {"assistants_write": {"accepted": 2}}
    assert data["ok"] is False


def test_summary_table() -> None:
    text = make_report(cancelled=True).summary_table()
    lines = text.splitlines()
    assert lines[0].split() == [
        "assistant",
        "planned",
        "outcome",
        "files",
        "+/-",
        "reqs",
        "429s",
        "secs",
        "note",
    ]
    assert any(line.startswith("billing") and "created, ready" in line for line in lines)
    assert not any(line.startswith("quiet") for line in lines)  # unchanged and ok: not shown
    assert lines[-1].startswith("cancelled: 5 assistants — 2 ok, 1 failed, 1 cancelled")
    assert "quiet" in make_report().summary_table(all_rows=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_counts_rate_and_eta() -> None:
    clock = FakeClock()
    progress = ProgressDisplay(io.StringIO(), tty=False, clock=clock)
    progress.add_total("create", 10)
    progress.add_total("upload", 4)
    clock.now = 5.0
    progress.advance("create", 5)
    progress.advance("upload", failed=True)
    progress.rate_limited(2)
    assert progress.render() == (
        "create 5/10 1.0/s ETA 5s | upload 1/4 (1 failed) 0.2/s ETA 15s | 429s 2 | 5s"
    )
    assert progress.counts("create") == (5, 10, 0)


def test_progress_plain_lines_are_throttled_when_not_a_tty() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = ProgressDisplay(out, tty=False, interval=5.0, clock=clock)
    progress.add_total("create", 3)
    progress.tick()
    clock.now = 1.0
    progress.advance("create")
    progress.tick()  # changed, but within the interval: nothing written
    clock.now = 6.0
    progress.tick()
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "progress: create 0/3 | 0s",
        "progress: create 1/3 0.2/s ETA 12s | 6s",
    ]  # the final line is not repeated when nothing changed
    assert "\r" not in out.getvalue()


def test_progress_redraws_in_place_on_a_tty() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = ProgressDisplay(out, tty=True, clock=clock)
    progress.add_total("ready", 2)
    progress.tick()
    progress.advance("ready", 2)
    progress.tick()
    progress.close()
    text = out.getvalue()
    assert text.startswith("\rready 0/2 | 0s\x1b[K")
    assert text.endswith("\n")
    assert text.count("\r") == 3


async def test_progress_background_refresh_stops_cleanly() -> None:
    out = io.StringIO()
    progress = ProgressDisplay(out, tty=True, refresh=0.001)
    progress.add_total("create", 1)
    progress.start()
    progress.advance("create")
    await progress.aclose()
    assert out.getvalue().endswith("\n")
    assert "create 1/1" in out.getvalue()
