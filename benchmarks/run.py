"""Run every benchmark in one go and report the results side by side as ratios.

    .venv/bin/python benchmarks/run.py [--quick] [--repeat N] [--no-plot] [--out DIR]
    .venv/bin/python benchmarks/run.py --profile [--calls N]   where the client's CPU goes

1. client CPU per ``AsyncScheduler.availability.get`` vs raw aiohttp (same server, same URL),
   answers of 20, 200 and 2,000 slots, every slot's fields read on both sides;
2. client CPU per booking GET of ``scheduler_sync.Scheduler`` vs ``requests.Session`` and the
   official ``nylas`` SDK (CPU of every thread of this process, the facade's loop thread too);
3. a sweep of 10,000 availability queries at 50 ms server latency, 200 and 1,000 in flight: wall
   time vs the ideal (n x latency / concurrency) and bare aiohttp, vs the SDK on a 32-thread
   pool, peak RSS growth;
4. the emulator engine's ``compute_availability`` (30 days x 5 participants x 1,000 busy), and
   the emulator's round-robin availability request for that workload end to end over HTTP.
5. a default client against ``Emulator(rate_limit=20)``: a 100-query sweep and a gather of 60
   calls (``bench_storm.py``): answered, refused, wall vs the ideal n / rate.

The HTTP server is ``canned_server.py`` in a separate process (fixed bodies, optional latency);
the client and the server share this machine's CPUs. The sweep uses it too (with a 50 ms
``asyncio.sleep``), not the emulator: the emulator computes real availability per request (ms of
CPU each, under one store lock) on the same two CPUs, so at the 4,000 req/s the ideal sweep needs
it would measure the emulator, not the client. The SDK has no availability call: its sweep
equivalent is ``bookings.find`` against the same latency server, fewer calls, extrapolated.

Every benchmark runs ``--repeat`` times (3 by default); the table shows each figure as
min/median/max over the runs and judges the median. Writes ``results/latest.md`` (the table) and
``results/throughput.png`` (sweep throughput vs concurrency). ``--quick`` runs everything at small
sizes (well under a minute) and says so."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_engine, bench_http, bench_storm
from benchmarks.canned_server import CannedServer

LATENCY_MS = 50.0
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does."""

    engine_iterations: int
    async_calls: int
    async_reps: int
    sync_calls: int
    sync_reps: int
    warmup: int
    sweep_n: int
    sweep_concurrencies: tuple[int, ...]
    sdk_n: int
    sdk_threads: int
    curve_concurrency: tuple[int, ...]
    curve_waves: int
    curve_sdk_threads: tuple[int, ...]
    curve_sdk_calls_per_thread: int
    engine_size: dict[str, int] = field(default_factory=dict)
    slot_counts: tuple[int, ...] = (20, 200, 2000)
    emulator_requests: int = 100
    storm: bool = True  # benchmark 5 (about 10 s whatever the sizes)


FULL = Sizes(
    engine_iterations=200,
    async_calls=500,
    async_reps=9,
    sync_calls=300,
    sync_reps=6,
    warmup=200,
    sweep_n=10_000,
    sweep_concurrencies=(200, 1000),
    sdk_n=2_000,
    sdk_threads=32,
    curve_concurrency=(10, 50, 100, 200, 400),
    curve_waves=10,
    curve_sdk_threads=(8, 16, 32, 64),
    curve_sdk_calls_per_thread=8,
)
QUICK = Sizes(
    engine_iterations=20,
    async_calls=100,
    async_reps=3,
    sync_calls=60,
    sync_reps=3,
    warmup=30,
    sweep_n=2_000,
    sweep_concurrencies=(200, 1000),
    sdk_n=320,
    sdk_threads=32,
    curve_concurrency=(10, 50, 200, 400),
    curve_waves=3,
    curve_sdk_threads=(8, 32),
    curve_sdk_calls_per_thread=3,
)
TINY = Sizes(  # the smoke test: proves every benchmark still runs; no figure means anything
    engine_iterations=1,
    async_calls=5,
    async_reps=1,
    sync_calls=3,
    sync_reps=1,
    warmup=2,
    sweep_n=40,
    sweep_concurrencies=(10, 20),
    sdk_n=4,
    sdk_threads=2,
    curve_concurrency=(5,),
    curve_waves=1,
    curve_sdk_threads=(2,),
    curve_sdk_calls_per_thread=1,
    engine_size={"participants": 2, "events": 40, "days": 3},
    emulator_requests=2,
    storm=False,
)


@dataclass
class Row:
    """One line of the results table: one run's figures, or (merged) every run's."""

    what: str
    ours: str
    peer: str
    ratio: float | None
    target: float | None  # ratio target: pass when the median ratio <= target
    note: str = ""
    value: float | None = None  # an absolute figure (e.g. ms) instead of a ratio
    value_target: float | None = None  # pass when the median value <= value_target
    unit: str = ""
    ratios: list[float] = field(default_factory=list)  # every run's ratio (merged rows)
    values: list[float] = field(default_factory=list)
    passed: bool | None = None  # a condition besides the figure (False: a miss whatever it is)

    def figures(self) -> list[float]:
        """Every run's figure this row is judged on (ratios, else values)."""
        if self.ratios:
            return self.ratios
        if self.values:
            return self.values
        return [x for x in (self.ratio if self.ratio is not None else self.value,) if x is not None]

    def verdict(self) -> str:
        """``pass``, ``MISS`` or ``-``, judged on the median of the runs."""
        figs = self.figures()
        limit = self.target if self.ratio is not None else self.value_target
        if self.passed is False:
            return "**MISS**"
        if not figs or limit is None:
            return "-"
        return "pass" if statistics.median(figs) <= limit else "**MISS**"


def merge(runs: list[list[Row]]) -> list[Row]:
    """One row per benchmark over every run: the text of the run with the median figure."""
    merged: list[Row] = []
    for rows in zip(*runs, strict=True):
        first = rows[0]
        ratios = [r.ratio for r in rows if r.ratio is not None]
        values = [r.value for r in rows if r.value is not None]
        figs = ratios or values
        mid = rows[0]
        if figs:
            med = sorted(figs)[(len(figs) - 1) // 2]
            mid = next(r for r in rows if (r.ratio if ratios else r.value) == med)
        merged.append(
            Row(
                first.what,
                mid.ours,
                mid.peer,
                mid.ratio,
                first.target,
                mid.note,
                mid.value,
                first.value_target,
                first.unit,
                ratios,
                values,
                mid.passed,
            )
        )
    return merged


def _mmm(figs: list[float], fmt: str) -> str:
    """``min/median/max`` (one figure alone when there is one run)."""
    if not figs:
        return "-"
    if len(figs) == 1:
        return format(figs[0], fmt)
    return "/".join(format(x, fmt) for x in (min(figs), statistics.median(figs), max(figs)))


def _log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    result = fn()
    _log(f"{label}: {time.perf_counter() - t0:.1f}s")
    return result


def _async_calls(sizes: Sizes, slots: int) -> int:
    """Calls per timed batch: fewer for larger answers, so each size takes similar time."""
    return max(3, sizes.async_calls * 20 // (20 + slots // 4))


ASYNC_TARGETS = {20: 1.15, 200: 1.25, 2000: 1.40}


def bench_cpu(sizes: Sizes, rows: list[Row], raw: dict[str, Any]) -> None:
    """Benchmarks 1 and 2 against the canned server without latency."""
    with CannedServer() as server:
        for slots in sizes.slot_counts:
            a = _timed(
                f"async CPU, {slots} slots",
                lambda slots=slots: bench_http.async_cpu(
                    server.url,
                    n=_async_calls(sizes, slots),
                    reps=sizes.async_reps,
                    warmup=max(2, sizes.warmup * 20 // (20 + slots // 4)),
                    slots=slots,
                ),
            )
            raw[f"async_cpu_{slots}" if slots != 20 else "async_cpu"] = a
            rows.append(
                Row(
                    f"1. CPU per availability call ({slots:,} slots, parsed, every slot read): "
                    "AsyncScheduler vs raw aiohttp (`session.get` + `json.loads`)",
                    f"{a['ours_us']:.0f} µs",
                    f"{a['raw_us']:.0f} µs",
                    a["ratio"],
                    ASYNC_TARGETS.get(slots),
                    f"{int(a['calls'])} calls each, sequential; gen-0 GCs per call "
                    f"{a['ours_gen0_per_call']:.2f} vs {a['raw_gen0_per_call']:.2f}; kept per "
                    f"answer {a['ours_kept_bytes'] / 1024:.0f} KiB vs raw dicts "
                    f"{a['raw_kept_bytes'] / 1024:.0f} KiB",
                )
            )
            rows.append(
                Row(
                    f"1f. floor ({slots:,} slots): raw aiohttp + only what the client must do "
                    "(both timeouts, size-limited read, `json.loads`, typed frozen slot objects "
                    "of the same shape) vs raw aiohttp",
                    f"{a['floor_us']:.0f} µs",
                    f"{a['raw_us']:.0f} µs",
                    a["floor_vs_raw"],
                    None,
                    f"measured in the same interleaved batches as the row above; gen-0 GCs per "
                    f"call {a['floor_gen0_per_call']:.2f}",
                )
            )
            rows.append(
                Row(
                    f"1g. AsyncScheduler vs the floor ({slots:,} slots, every slot read)",
                    f"{a['ours_us']:.0f} µs",
                    f"{a['floor_us']:.0f} µs",
                    a["ours_vs_floor"],
                    None,
                    "what the client's layering costs above the least a typed client must do",
                )
            )
        try:
            import scheduler_sync  # noqa: F401
        except ImportError:
            rows.append(Row("2. sync facade", "n/a", "n/a", None, None, "scheduler_sync missing"))
            return
        s = _timed(
            "sync CPU",
            lambda: bench_http.sync_cpu(
                server.url,
                n=sizes.sync_calls,
                reps=sizes.sync_reps,
                warmup=min(sizes.warmup, 50),
            ),
        )
        raw["sync_cpu"] = s
        rows.append(
            Row(
                "2a. CPU per booking GET: `scheduler_sync.Scheduler` (loop thread included) vs "
                "`requests.Session` + `.json()`",
                f"{s['sync_us']:.0f} µs",
                f"{s['requests_us']:.0f} µs",
                s["sync_vs_requests"],
                0.50,
                f"{int(s['calls'])} calls each, sequential",
            )
        )
        rows.append(
            Row(
                "2b. CPU per booking GET: `scheduler_sync.Scheduler` vs official `nylas` 6.18 "
                "`scheduler.bookings.find`",
                f"{s['sync_us']:.0f} µs",
                f"{s['sdk_us']:.0f} µs",
                s["sync_vs_sdk"],
                0.35,
                "the SDK opens a new connection per call (`requests.request`)",
            )
        )


def bench_sweep(
    sizes: Sizes, rows: list[Row], raw: dict[str, Any], *, subprocess: bool, curve: bool = True
) -> None:
    """Benchmark 3 (and, with ``curve``, the throughput curve) at 50 ms server latency."""
    with CannedServer(latency_ms=LATENCY_MS) as server:
        n = sizes.sweep_n
        for c in sizes.sweep_concurrencies:
            if subprocess:
                sw = _timed(
                    f"sweep c={c}", lambda c=c: bench_http.sweep_in_subprocess(server.url, n, c)
                )
            else:
                sw = bench_http.sweep(server.url, n, c)
            rw = _timed(f"raw sweep c={c}", lambda c=c: bench_http.raw_sweep(server.url, n, c))
            first = c == sizes.sweep_concurrencies[0]
            raw["sweep" if first else f"sweep_{c}"] = sw
            raw["raw_sweep" if first else f"raw_sweep_{c}"] = rw
            ideal = n * LATENCY_MS / 1000 / c
            rows.append(
                Row(
                    f"3a. sweep of {n:,} availability queries, {LATENCY_MS:.0f} ms latency, "
                    f"{c:,} in flight: wall time vs ideal ({n:,} x {LATENCY_MS:.0f} ms / {c:,})",
                    f"{sw['wall_s']:.2f} s",
                    f"{ideal:.2f} s",
                    sw["wall_s"] / ideal,
                    None,
                    f"{int(sw['ok'])}/{n} ok; client CPU {sw['cpu_s']:.2f} s "
                    f"({sw['cpu_s'] / n * 1e6:.0f} µs/query)",
                )
            )
            rows.append(
                Row(
                    f"3b. same sweep ({c:,} in flight) vs bare aiohttp at the same concurrency "
                    "(no models; the floor on this machine)",
                    f"{sw['wall_s']:.2f} s",
                    f"{rw['wall_s']:.2f} s",
                    sw["wall_s"] / rw["wall_s"],
                    1.10,
                    f"bare aiohttp: {rw['wall_s'] / ideal:.2f}x ideal, client CPU "
                    f"{rw['cpu_s'] / n * 1e6:.0f} µs/query (ours "
                    f"{sw['cpu_s'] / n * 1e6:.0f})",
                )
            )
            if first:
                rows.append(
                    Row(
                        f"3d. peak RSS growth of the client process during the sweep ({c:,} "
                        "in flight, all results kept, `sweep_all`)",
                        f"{sw['rss_growth_mib']:.1f} MiB",
                        "",
                        None,
                        None,
                        f"from {sw['rss_before_mib']:.0f} MiB"
                        + ("" if sw["peak_reset"] else "; VmHWM could not be reset"),
                        sw["rss_growth_mib"],
                        100.0,
                        " MiB",
                    )
                )
        sw = raw["sweep"]
        sdk = _timed("SDK pool", lambda: bench_http.sdk_pool(server.url, sizes.sdk_n, 32))
        raw["sdk_pool"] = sdk
        sdk_wall_n = sdk["wall_s"] * n / sizes.sdk_n  # extrapolated to the sweep's size
        rows.append(
            Row(
                f"3c. sweep ({sizes.sweep_concurrencies[0]:,} in flight) vs official SDK "
                f"`bookings.find` on a 32-thread pool (closest equivalent; {sizes.sdk_n:,} calls "
                f"extrapolated to {n:,})",
                f"{sw['wall_s']:.2f} s",
                f"{sdk_wall_n:.2f} s",
                sw["wall_s"] / sdk_wall_n,
                None,
                f"SDK: {sizes.sdk_n / sdk['wall_s']:.0f} req/s; ours: {n / sw['wall_s']:.0f} req/s",
            )
        )
        if not curve:
            return
        points: dict[str, list[tuple[int, float]]] = {"ours": [], "raw": [], "sdk": []}
        for conc in sizes.curve_concurrency:
            r = bench_http.sweep(server.url, conc * sizes.curve_waves, conc)
            points["ours"].append((conc, r["n"] / r["wall_s"]))
            r = bench_http.raw_sweep(server.url, conc * sizes.curve_waves, conc)
            points["raw"].append((conc, r["n"] / r["wall_s"]))
            _log(
                f"curve c={conc}: ours {points['ours'][-1][1]:.0f}, raw {points['raw'][-1][1]:.0f}"
            )
        for threads in sizes.curve_sdk_threads:
            r = bench_http.sdk_pool(server.url, threads * sizes.curve_sdk_calls_per_thread, threads)
            points["sdk"].append((threads, r["n"] / r["wall_s"]))
            _log(f"curve sdk t={threads}: {r['n'] / r['wall_s']:.0f} req/s")
        raw["curve"] = points


def bench_engine_rows(sizes: Sizes, rows: list[Row], raw: dict[str, Any]) -> None:
    """Benchmark 4: the emulator engine (pure CPU, this process only)."""
    e = _timed(
        "engine",
        lambda: bench_engine.run(sizes.engine_iterations, **sizes.engine_size),
    )
    raw["engine"] = e
    for label, key, slots in (
        ("collective", "median_ms", "slots"),
        ("round robin (max-availability)", "rr_median_ms", "rr_slots"),
    ):
        sorted_key = key.replace("median_ms", "sorted_median_ms")
        rows.append(
            Row(
                f"4. engine `compute_availability`, 30 days x 5 participants x 1,000 busy "
                f"(unsorted), {label}",
                f"{e[key]:.2f} ms",
                "",
                None,
                None,
                f"{int(e[slots])} slots; busy pre-sorted as the store passes it: "
                f"{e[sorted_key]:.2f} ms; {int(e['iterations'])} iterations",
                e[key],
                5.0,
                " ms",
            )
        )
    h = _timed(
        "emulator over HTTP",
        lambda: bench_engine.http_round_robin(sizes.emulator_requests, **sizes.engine_size),
    )
    raw["emulator_http"] = h
    rows.append(
        Row(
            "4b. emulator availability request end to end over HTTP (`requests.Session`, the "
            "emulator in its own process), round robin, the same workload written as calendar "
            "events",
            f"{h['http_median_ms']:.2f} ms",
            "",
            None,
            None,
            f"{int(h['http_slots'])} slots; median of {int(h['http_requests'])} sequential "
            f"requests; engine alone on sorted input: {e['rr_sorted_median_ms']:.2f} ms",
            h["http_median_ms"],
            3.0,
            " ms",
        )
    )


def bench_storm_rows(rows: list[Row], raw: dict[str, Any]) -> None:
    """Benchmark 5: a default client against a rate-limited emulator."""
    result = _timed("storm", bench_storm.run)
    raw["storm"] = result
    for name, what in (
        ("sweep", "`availability.sweep_all` of 100 queries"),
        ("gather", "`gather` of 60 `configurations.list_page`"),
    ):
        r = result[name]
        refused = r["refused"] / r["requests"]
        rows.append(
            Row(
                f"5. default client vs `Emulator(rate_limit=20)` (burst 2): {what}, wall vs "
                f"ideal (n / rate)",
                f"{r['wall_s']:.2f} s",
                f"{r['ideal_s']:.2f} s",
                r["wall_s"] / r["ideal_s"],
                1.30,
                f"{r['ok']}/{r['n']} answered (target all); {r['refused']}/{r['requests']} "
                f"refused, {refused:.1%} (target <= 15%)",
                passed=r["ok"] == r["n"] and refused <= 0.15 and r["wall_s"] <= 1.3 * r["ideal_s"],
            )
        )


def plot(curve: dict[str, list[tuple[int, float]]], path: Path) -> bool:
    """Sweep throughput vs concurrency: our async sweep and the SDK on thread pools.

    Returns False (and says so) when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        _log(f"matplotlib is not installed: {path.name} skipped (pip install matplotlib)")
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    xs = [x for x, _ in curve["ours"]]
    ax.plot(xs, [y for _, y in curve["ours"]], "o-", label="scheduler-client availability.sweep")
    ax.plot(
        [x for x, _ in curve["raw"]],
        [y for _, y in curve["raw"]],
        "^-",
        alpha=0.7,
        label="bare aiohttp + json.loads (no models)",
    )
    ax.plot(
        [x for x, _ in curve["sdk"]],
        [y for _, y in curve["sdk"]],
        "s--",
        label="nylas SDK bookings.find, thread pool (x = threads)",
    )
    top = max(xs + [x for x, _ in curve["sdk"]])
    ideal_x = [1, top]
    ax.plot(
        ideal_x,
        [x * 1000 / LATENCY_MS for x in ideal_x],
        ":",
        color="grey",
        label=f"ideal: in-flight / {LATENCY_MS:.0f} ms",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("requests in flight (async concurrency or SDK threads)")
    ax.set_ylabel("completed requests per second")
    ax.set_title(
        f"Throughput vs concurrency at {LATENCY_MS:.0f} ms server latency "
        f"({os.cpu_count()} CPUs shared with the server)"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def render(rows: list[Row], *, mode: str, elapsed: float, repeat: int, command: str) -> str:
    """The Markdown report: every figure as min/median/max over the ``repeat`` runs."""
    lines = [
        f"# scheduler-client benchmarks ({mode})",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} · `{command}` · {repeat} run(s) · Python "
        f"{platform.python_version()} · {os.cpu_count()} CPUs (client and server process share "
        f"them) · load average before {os.getloadavg()[0]:.1f} · {elapsed:.0f} s",
        "",
        "| benchmark | ours | peer / ideal | ratio min/median/max | target | result | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.ratio is not None:
            figure = _mmm(r.ratios or [r.ratio], ".2f") + "x"
            target = f"<= {r.target:.2f}x" if r.target is not None else "-"
            ours = r.ours
        else:
            figure = "-"
            target = f"<= {r.value_target:g}{r.unit}" if r.value_target is not None else "-"
            ours = _mmm(r.values, ".2f") + r.unit if r.values else r.ours
        lines.append(
            f"| {r.what} | {ours} | {r.peer or '-'} | {figure} | {target} | {r.verdict()} "
            f"| {r.note} |"
        )
    lines += [
        "",
        "CPU figures are `time.process_time()` of the client process (all its threads) per call, "
        "the median of paired repetitions after a warm-up; a run's ratio is the median of its "
        "per-repetition ratios; min/median/max are over the runs, results are judged on the "
        "median. The ours/peer columns show the median run. Absolute numbers are this "
        "machine's: compare ratios.",
    ]
    if mode != "full":
        lines.append("")
        lines.append(f"**{mode} run: small sizes, figures are indicative only.**")
    return "\n".join(lines) + "\n"


def run(
    sizes: Sizes,
    *,
    mode: str,
    out: Path = RESULTS,
    make_plot: bool = True,
    sweep_subprocess: bool = True,
    repeat: int = 3,
    command: str = "benchmarks/run.py",
) -> tuple[str, dict[str, Any]]:
    """Run every benchmark ``repeat`` times; write ``latest.md`` (and the plot) into ``out``.

    Returns the report and the last run's raw figures (``raw["runs"]``: every run's).
    """
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    runs: list[list[Row]] = []
    raws: list[dict[str, Any]] = []
    for i in range(repeat):
        _log(f"run {i + 1}/{repeat}")
        rows: list[Row] = []
        raw: dict[str, Any] = {}
        bench_cpu(sizes, rows, raw)
        bench_sweep(sizes, rows, raw, subprocess=sweep_subprocess, curve=i == 0)
        bench_engine_rows(sizes, rows, raw)
        if sizes.storm:
            bench_storm_rows(rows, raw)
        runs.append(rows)
        raws.append(raw)
    text = render(
        merge(runs), mode=mode, elapsed=time.perf_counter() - t0, repeat=repeat, command=command
    )
    text = text.replace(
        f"load average before {os.getloadavg()[0]:.1f}", f"load average before {load:.1f}"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text)
    if make_plot:
        plot(raws[0]["curve"], out / "throughput.png")
    result = dict(raws[-1])
    result["curve"] = raws[0]["curve"]
    result["runs"] = raws
    return text, result


def profile(calls: int, top: int) -> list[str]:
    """``--profile``: where the CPU of one call goes (against the canned server, no latency)."""
    with CannedServer() as server:
        lines = [f"## AsyncScheduler.availability.get (20 slots), {calls} calls"]
        lines += bench_http.profile_async(server.url, n=calls, top=top)
        lines += ["", f"## scheduler_sync.Scheduler.bookings.get, {calls // 2} calls"]
        lines += bench_http.profile_sync(server.url, n=calls // 2, top=top)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="scheduler-client benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes (< 60 s in all)")
    parser.add_argument("--no-plot", action="store_true", help="skip throughput.png")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: cProfile the async availability call and the sync booking GET, and "
        "print self time per call by package and the top functions of our code",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of every benchmark (min/median/max over them)"
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls per profile")
    parser.add_argument("--top", type=int, default=15, help="functions listed per profile")
    args = parser.parse_args(argv)
    if args.profile:
        print("\n".join(profile(args.calls, args.top)))
        return 0
    text, _ = run(
        QUICK if args.quick else FULL,
        mode="quick" if args.quick else "full",
        out=args.out,
        make_plot=not args.no_plot,
        repeat=args.repeat,
        command=" ".join(["benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
