"""Smoke test of ``benchmarks/``: every benchmark still runs, at a tiny size.

No timing assertions: the figures of a tiny run mean nothing. It checks the runner end to end
(canned server in a separate process, both HTTP clients, the sync facade, the official SDK, the
sweeps, the engine) and that the report is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_engine, run  # noqa: E402

pytest.importorskip("nylas")
pytest.importorskip("requests")


def test_runner_tiny(tmp_path: Path) -> None:
    text, raw = run.run(
        run.TINY, mode="smoke", out=tmp_path, make_plot=False, sweep_subprocess=False, repeat=2
    )
    assert (tmp_path / "latest.md").read_text() == text
    assert "| benchmark |" in text
    for key in (
        "async_cpu",
        "async_cpu_200",
        "async_cpu_2000",
        "sync_cpu",
        "sweep",
        "raw_sweep",
        "sdk_pool",
        "curve",
        "engine",
    ):
        assert key in raw
    assert raw["sweep"]["ok"] == run.TINY.sweep_n
    assert raw["raw_sweep"]["n"] == run.TINY.sweep_n
    assert raw["async_cpu"]["ours_us"] > 0 and raw["sync_cpu"]["sdk_us"] > 0
    assert raw["async_cpu_2000"]["slots"] == 2000 and raw["async_cpu_2000"]["ours_kept_bytes"] > 0
    assert len(raw["runs"]) == 2
    for key in ("async_cpu", "async_cpu_200", "async_cpu_2000"):  # the floor, same batches
        assert raw[key]["floor_us"] > 0 and raw[key]["ours_vs_floor"] > 0
    assert sum(line.startswith("| 1f. floor") for line in text.splitlines()) == 3
    # every ratio is reported as min/median/max over the runs
    row = next(line for line in text.splitlines() if "2,000 slots" in line)
    assert row.split("|")[4].strip().count("/") == 2


def test_plot_is_skipped_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    assert run.plot({"ours": [], "raw": [], "sdk": []}, tmp_path / "t.png") is False
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert not (tmp_path / "t.png").exists()


def test_floor_builds_the_shape_of_time_slot() -> None:
    import attrs

    from benchmarks.bench_http import FloorSlot, floor_availability
    from scheduler_async import TimeSlot

    assert [f.name for f in attrs.fields(FloorSlot)] == [f.name for f in attrs.fields(TimeSlot)]
    doc = {"data": {"time_slots": [{"emails": ["a@x"], "start_time": 1, "end_time": 2}] * 2}}
    slots, order = floor_availability(doc)
    assert slots == (FloorSlot(emails=("a@x",), start_time=1, end_time=2),) * 2
    assert slots[0].emails is slots[1].emails and order is None


def test_engine_workload_is_not_degenerate() -> None:
    config, busy, start, end, _now = bench_engine.build_workload(participants=2, events=60, days=5)
    assert len(config["participants"]) == 2
    assert all(len(v) == 60 for v in busy.values())
    assert all(start - 86_400 <= s < e <= end + 86_400 for v in busy.values() for s, e in v)


def test_profile_mode_names_our_functions() -> None:
    lines = run.profile(calls=40, top=5)
    text = "\n".join(lines)
    assert "## AsyncScheduler.availability.get" in text and "## scheduler_sync" in text
    assert "scheduler_async/_transport.py" in text  # our code is listed, per call
    assert any(line.strip().startswith("ours") for line in lines)


def test_persistence_benchmark_runs_tiny() -> None:
    from benchmarks import bench_persistence

    restore = bench_persistence.restore_times(5, 20, reps=1)
    assert restore["median_ms"] > 0 and restore["snapshot_mb"] > 0
    writes = bench_persistence.write_throughput(20, (2, 10), reps=1)
    assert writes["memory_per_s"] > 0 and writes["state_per_s"] > 0
