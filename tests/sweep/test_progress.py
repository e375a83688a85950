"""Progress: true counts, drawn at once, refreshed on a steady clock, log lines off a terminal."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import pytest

from scheduler_async.progress import Progress, ProgressDisplay, ProgressTracker


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stream(io.StringIO):
    """A stream that wakes waiters on every write (no polling, no sleeps)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)


class Tty(Stream):
    def isatty(self) -> bool:
        return True


def test_snapshot_counts_rate_and_eta() -> None:
    clock = FakeClock()
    tracker = ProgressTracker(100, clock=clock)
    for _ in range(5):
        tracker.started()
    for i in range(4):
        tracker.finished(error=i == 0)
    clock.now += 2.0
    p = tracker.snapshot()
    assert (p.done, p.total, p.errors, p.in_flight) == (4, 100, 1, 1)
    assert p.rate == pytest.approx(2.0)
    assert p.eta == pytest.approx(48.0)
    assert p.describe() == "4/100 done, 1 errors, 1 in flight, 2.0/s, elapsed 2s, ETA 48s"


def test_unknown_total_and_no_rate_yet() -> None:
    p = Progress(done=0, total=None, errors=0)
    assert p.rate == 0.0 and p.eta is None
    assert "0/? done" in p.describe() and "ETA ?" in p.describe()
    assert (
        Progress(done=3, total=10, errors=0, elapsed=3725.0)
        .describe()
        .endswith("elapsed 1h02m, ETA 2h24m")
    )


async def _until(predicate: Callable[[str], bool], stream: Stream) -> None:
    while not predicate(stream.getvalue()):
        stream.written.clear()
        await stream.written.wait()


async def test_draws_at_once_then_refreshes_without_any_item_finishing() -> None:
    stream = Stream()  # not a terminal: plain lines
    tracker = ProgressTracker(10)
    display = ProgressDisplay(tracker, stream=stream, log_interval=0.01, label="sweep")
    async with display:
        assert (
            stream.getvalue()
            == "sweep: 0/10 done, 0 errors, 0 in flight, 0.0/s, elapsed 0s, ETA ?\n"
        )
        for _ in range(3):
            tracker.started()
        # no item completes: the steady refresh alone must show the new in-flight count
        await asyncio.wait_for(_until(lambda text: "3 in flight" in text, stream), 30)
        tracker.finished(error=True)
        await asyncio.wait_for(_until(lambda text: "1/10 done, 1 errors" in text, stream), 30)
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("sweep: 1/10 done, 1 errors, 2 in flight")
    assert "\r" not in stream.getvalue()


async def test_terminal_redraws_one_line_in_place() -> None:
    stream = Tty()
    tracker = ProgressTracker(2)
    display = ProgressDisplay(tracker, stream=stream, refresh=0.01, use_tqdm=False)
    async with display:
        tracker.started()
        tracker.finished(error=False)
        await asyncio.wait_for(_until(lambda text: text.count("\r") >= 3, stream), 30)
    text = stream.getvalue()
    assert text.startswith("\rprogress: 0/2 done")
    assert text.endswith("\n") and text.count("\n") == 1
    assert "1/2 done" in text.rsplit("\r", 1)[-1]


async def test_tqdm_bar_on_a_terminal() -> None:
    pytest.importorskip("tqdm")
    stream = Tty()
    tracker = ProgressTracker(4)
    async with ProgressDisplay(tracker, stream=stream, refresh=0.01, label="sweep") as display:
        assert display.interval == 0.01
        for _ in range(4):
            tracker.started()
            tracker.finished(error=False)
        await asyncio.wait_for(_until(lambda text: "4/4" in text, stream), 30)
    assert "sweep" in stream.getvalue()
    assert "in_flight=0" in stream.getvalue()


def test_asking_for_tqdm_without_it_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r"scheduler-client\[progress\]"):
        ProgressDisplay(ProgressTracker(1), stream=Tty(), use_tqdm=True)
    # not asked for explicitly: falls back to the plain line
    display = ProgressDisplay(ProgressTracker(1), stream=Tty())
    display.draw()
