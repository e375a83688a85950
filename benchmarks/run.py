"""Run every benchmark in one go and report the results side by side as ratios.

    .venv/bin/python benchmarks/run.py [--quick] [--no-plot] [--out DIR]
    .venv/bin/python benchmarks/run.py --profile [--calls N]   where the client's CPU goes

1. client CPU per ``AsyncScheduler.availability.get`` vs raw aiohttp (same server, same URL);
2. client CPU per booking GET of ``scheduler_sync.Scheduler`` vs ``requests.Session`` and the
   official ``nylas`` SDK (CPU of every thread of this process, the facade's loop thread too);
3. a sweep of 10,000 availability queries at 50 ms server latency and 200 in flight: wall time
   vs the ideal (n x latency / concurrency), vs the SDK on a 32-thread pool, peak RSS growth;
4. the emulator engine's ``compute_availability`` (30 days x 5 participants x 1,000 busy);
5. a default client against ``Emulator(rate_limit=20)``: a 100-query sweep and a gather of 60
   calls (``bench_storm.py``): answered, refused, wall vs the ideal n / rate.

The HTTP server is ``canned_server.py`` in a separate process (fixed bodies, optional latency);
the client and the server share this machine's CPUs. The sweep uses it too (with a 50 ms
``asyncio.sleep``), not the emulator: the emulator computes real availability per request (ms of
CPU each, under one store lock) on the same two CPUs, so at the 4,000 req/s the ideal sweep needs
it would measure the emulator, not the client. The SDK has no availability call: its sweep
equivalent is ``bookings.find`` against the same latency server, fewer calls, extrapolated.

Writes ``results/latest.md`` (the table) and ``results/throughput.png`` (sweep throughput vs
concurrency). ``--quick`` runs everything at small sizes (well under a minute) and says so.
"""

from __future__ import annotations

import argparse
import os
import platform
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
    sweep_concurrency: int
    sdk_n: int
    sdk_threads: int
    curve_concurrency: tuple[int, ...]
    curve_waves: int
    curve_sdk_threads: tuple[int, ...]
    curve_sdk_calls_per_thread: int
    engine_size: dict[str, int] = field(default_factory=dict)
    storm: bool = True  # benchmark 5 (about 10 s whatever the sizes)


FULL = Sizes(
    engine_iterations=200,
    async_calls=500,
    async_reps=9,
    sync_calls=300,
    sync_reps=6,
    warmup=200,
    sweep_n=10_000,
    sweep_concurrency=200,
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
    sweep_n=1_000,
    sweep_concurrency=200,
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
    sweep_concurrency=10,
    sdk_n=4,
    sdk_threads=2,
    curve_concurrency=(5,),
    curve_waves=1,
    curve_sdk_threads=(2,),
    curve_sdk_calls_per_thread=1,
    engine_size={"participants": 2, "events": 40, "days": 3},
    storm=False,
)


@dataclass
class Row:
    """One line of the results table."""

    what: str
    ours: str
    peer: str
    ratio: float | None
    target: float | None  # ratio target: pass when ratio <= target
    note: str = ""
    value_target: str = ""  # a target on an absolute value instead (e.g. "<= 5 ms")
    passed: bool | None = None

    def verdict(self) -> str:
        """``pass``, ``MISS`` or ``-``."""
        ok = self.passed
        if ok is None and self.ratio is not None and self.target is not None:
            ok = self.ratio <= self.target
        return "-" if ok is None else ("pass" if ok else "**MISS**")


def _log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    result = fn()
    _log(f"{label}: {time.perf_counter() - t0:.1f}s")
    return result


def bench_cpu(sizes: Sizes, rows: list[Row], raw: dict[str, Any]) -> None:
    """Benchmarks 1 and 2 against the canned server without latency."""
    with CannedServer() as server:
        a = _timed(
            "async CPU",
            lambda: bench_http.async_cpu(
                server.url, n=sizes.async_calls, reps=sizes.async_reps, warmup=sizes.warmup
            ),
        )
        raw["async_cpu"] = a
        rows.append(
            Row(
                "1. CPU per availability call (20 slots, parsed): AsyncScheduler vs raw aiohttp "
                "(`session.get` + `json.loads`)",
                f"{a['ours_us']:.0f} µs",
                f"{a['raw_us']:.0f} µs",
                a["ratio"],
                1.10,
                f"{int(a['calls'])} calls each, sequential",
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
                0.50,
                "the SDK opens a new connection per call (`requests.request`)",
            )
        )


def bench_sweep(sizes: Sizes, rows: list[Row], raw: dict[str, Any], *, subprocess: bool) -> None:
    """Benchmark 3 plus the throughput curve, against the canned server with 50 ms latency."""
    with CannedServer(latency_ms=LATENCY_MS) as server:
        n, c = sizes.sweep_n, sizes.sweep_concurrency
        if subprocess:
            sw = _timed("sweep", lambda: bench_http.sweep_in_subprocess(server.url, n, c))
        else:
            sw = bench_http.sweep(server.url, n, c)
        raw["sweep"] = sw
        ideal = n * LATENCY_MS / 1000 / c
        rw = _timed("raw sweep", lambda: bench_http.raw_sweep(server.url, n, c))
        raw["raw_sweep"] = rw
        sdk = _timed("SDK pool", lambda: bench_http.sdk_pool(server.url, sizes.sdk_n, 32))
        raw["sdk_pool"] = sdk
        sdk_wall_n = sdk["wall_s"] * n / sizes.sdk_n  # extrapolated to the sweep's size
        rows.append(
            Row(
                f"3a. sweep of {n:,} availability queries, {LATENCY_MS:.0f} ms latency, "
                f"{c} in flight: wall time vs ideal ({n:,} x {LATENCY_MS:.0f} ms / {c})",
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
                "3b. same sweep vs bare aiohttp at the same concurrency (no models; the floor "
                "on this machine)",
                f"{sw['wall_s']:.2f} s",
                f"{rw['wall_s']:.2f} s",
                sw["wall_s"] / rw["wall_s"],
                1.10,
                f"bare aiohttp: {rw['wall_s'] / ideal:.2f}x ideal, client CPU "
                f"{rw['cpu_s'] / n * 1e6:.0f} µs/query",
            )
        )
        rows.append(
            Row(
                f"3c. same sweep vs official SDK `bookings.find` on a 32-thread pool "
                f"(closest equivalent; {sizes.sdk_n:,} calls extrapolated to {n:,})",
                f"{sw['wall_s']:.2f} s",
                f"{sdk_wall_n:.2f} s",
                sw["wall_s"] / sdk_wall_n,
                None,
                f"SDK: {sizes.sdk_n / sdk['wall_s']:.0f} req/s; ours: {n / sw['wall_s']:.0f} req/s",
            )
        )
        rows.append(
            Row(
                "3d. peak RSS growth of the client process during the sweep "
                "(all results kept, `sweep_all`)",
                f"{sw['rss_growth_mib']:.1f} MiB",
                "",
                None,
                None,
                f"from {sw['rss_before_mib']:.0f} MiB"
                + ("" if sw["peak_reset"] else "; VmHWM could not be reset"),
                "< 100 MiB",
                sw["rss_growth_mib"] < 100,
            )
        )
        curve: dict[str, list[tuple[int, float]]] = {"ours": [], "raw": [], "sdk": []}
        for conc in sizes.curve_concurrency:
            r = bench_http.sweep(server.url, conc * sizes.curve_waves, conc)
            curve["ours"].append((conc, r["n"] / r["wall_s"]))
            r = bench_http.raw_sweep(server.url, conc * sizes.curve_waves, conc)
            curve["raw"].append((conc, r["n"] / r["wall_s"]))
            _log(f"curve c={conc}: ours {curve['ours'][-1][1]:.0f}, raw {curve['raw'][-1][1]:.0f}")
        for threads in sizes.curve_sdk_threads:
            r = bench_http.sdk_pool(server.url, threads * sizes.curve_sdk_calls_per_thread, threads)
            curve["sdk"].append((threads, r["n"] / r["wall_s"]))
            _log(f"curve sdk t={threads}: {r['n'] / r['wall_s']:.0f} req/s")
        raw["curve"] = curve


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
                "<= 5 ms",
                e[key] <= 5.0,
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


def plot(curve: dict[str, list[tuple[int, float]]], path: Path) -> None:
    """Sweep throughput vs concurrency: our async sweep and the SDK on thread pools."""
    import matplotlib

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


def render(rows: list[Row], *, mode: str, elapsed: float) -> str:
    """The Markdown report."""
    lines = [
        f"# scheduler-client benchmarks ({mode})",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} · Python {platform.python_version()} · "
        f"{os.cpu_count()} CPUs (client and server process share them) · {elapsed:.0f} s",
        "",
        "| benchmark | ours | peer / ideal | ratio | target | result | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        target = f"<= {r.target:.2f}x" if r.target is not None else (r.value_target or "-")
        lines.append(
            f"| {r.what} | {r.ours} | {r.peer or '-'} | {ratio} | {target} | {r.verdict()} "
            f"| {r.note} |"
        )
    lines += [
        "",
        "CPU figures are `time.process_time()` of the client process (all its threads) per call, "
        "the median of paired repetitions after a warm-up; ratios are medians of per-repetition "
        "ratios. Absolute numbers are this machine's: compare ratios.",
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
) -> tuple[str, dict[str, Any]]:
    """Run every benchmark; write ``latest.md`` (and the plot) into ``out``; return both."""
    t0 = time.perf_counter()
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    bench_cpu(sizes, rows, raw)
    bench_sweep(sizes, rows, raw, subprocess=sweep_subprocess)
    bench_engine_rows(sizes, rows, raw)
    if sizes.storm:
        bench_storm_rows(rows, raw)
    text = render(rows, mode=mode, elapsed=time.perf_counter() - t0)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text)
    if make_plot:
        plot(raw["curve"], out / "throughput.png")
    return text, raw


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
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
