"""HTTP benchmarks against the canned server (``canned_server.py``, a separate process).

* :func:`async_cpu` - client CPU per ``availability.get`` (parsed into models, every slot's
  fields read) of ``AsyncScheduler`` against raw aiohttp (``session.get`` + ``json.loads``, the
  same fields read from the dicts) on the same URL, for answers of 20, 200 or 2,000 slots, and
  against the *floor*: raw aiohttp plus only what the client must do (both timeouts, a
  size-limited read, ``json.loads``, typed frozen slot objects of the same shape built as
  cheaply as known: see :func:`floor_availability`).
* :func:`sync_cpu` - client CPU per booking GET of ``scheduler_sync.Scheduler`` (including its
  event-loop thread), ``requests.Session`` (+ ``.json()``) and the official ``nylas`` SDK.
* :func:`sweep` - wall time, client CPU and peak-RSS growth of ``availability.sweep_all``.
* :func:`sdk_pool` - wall time of the ``nylas`` SDK's ``bookings.find`` on a thread pool.

CPU is ``time.process_time()`` of this process (every thread of it; the server is another
process), per call, the median of repetitions after a warm-up. All traffic goes to 127.0.0.1.

``python benchmarks/bench_http.py sweep URL N CONCURRENCY`` runs one sweep in a fresh process and
prints its result as JSON (the runner does that, so peak RSS is measured in a clean process).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import gc
import itertools
import json
import operator
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import attrs

if __package__ in (None, ""):  # run as a script: make ``scheduler_async`` and siblings importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.canned_server import BOOKING_ID, CONFIGURATION_ID, T0, configuration_id
from scheduler_async import AsyncScheduler, AvailabilityQuery, Limits

AVAILABILITY_PATH = "/v3/scheduling/availability"
BOOKING_PATH = f"/v3/scheduling/bookings/{BOOKING_ID}"
START, END = T0, T0 + 7 * 86_400


def _median_per_call(samples: list[float], n: int) -> float:
    return statistics.median(samples) / n * 1e6  # microseconds per call


# --------------------------------------------------------------------------- 1. async CPU


def _read_model(answer: Any) -> None:
    for slot in answer.time_slots:  # every field a caller would use, ``event_id`` included
        slot.start_time, slot.end_time, slot.emails, slot.event_id  # noqa: B018


def _read_raw(doc: Any) -> None:
    for slot in doc["data"]["time_slots"]:
        slot["start_time"], slot["end_time"], slot["emails"], slot.get("event_id")


@attrs.frozen(slots=True, kw_only=True)
class FloorSlot:
    """The shape of :class:`~scheduler_async.TimeSlot` (seven fields, frozen, no ``__dict__``)."""

    emails: tuple[str, ...]
    start_time: int
    end_time: int
    event_id: str | None = None
    master_id: str | None = None
    calendar_id: str | None = None
    capacity: int | None = None


_FLOOR_NEW = object.__new__
_FLOOR_GET = tuple(map(operator.itemgetter, ("emails", "start_time", "end_time")))
_FLOOR_SET = tuple(FloorSlot.__dict__[f.name].__set__ for f in attrs.fields(FloorSlot))
_FLOOR_LIMIT = 16 * 1024 * 1024  # the client's default ``max_response_bytes``


def floor_availability(doc: Any) -> tuple[tuple[FloorSlot, ...], tuple[str, ...] | None]:
    """The least a typed client must do with an availability answer: check the types it
    relies on and build one frozen slot object per slot (participant tuples shared), every
    pass a C loop (the cheapest eager build known; no group-slot or fallback handling)."""
    if type(doc) is not dict or type(data := doc.get("data")) is not dict:
        raise TypeError("not an availability answer")
    order = data.get("order")
    order = None if order is None else tuple(order)
    slots = data.get("time_slots") or []
    lists, starts, ends = (list(map(get, slots)) for get in _FLOOR_GET)
    if {*map(type, starts), *map(type, ends)} - {int} or set(map(type, lists)) - {list}:
        raise TypeError("bad slot")
    keys = list(map(tuple, lists))
    seen: dict[tuple[str, ...], tuple[str, ...]] = {}
    shared = list(map(seen.setdefault, keys, keys))
    if any(set(map(type, key)) - {str} for key in seen):
        raise TypeError("bad emails")
    out = list(map(_FLOOR_NEW, itertools.repeat(FloorSlot, len(slots))))
    set_e, set_s, set_t, *set_group = _FLOOR_SET
    for store, values in ((set_e, shared), (set_s, starts), (set_t, ends)):
        collections.deque(map(store, out, values), 0)
    for store in set_group:
        collections.deque(map(store, out, itertools.repeat(None)), 0)
    return tuple(out), order


async def _floor_get(session: aiohttp.ClientSession, url: str, timeout: Any) -> Any:
    """GET with both timeouts, a size-limited read of the decoded body and ``json.loads``."""
    async with session.get(url, timeout=timeout) as resp:
        if resp.status >= 300:
            raise RuntimeError(resp.status)
        length = resp.content_length
        if length is not None and length > _FLOOR_LIMIT:
            raise RuntimeError("too large")
        content = resp.content
        chunks: list[bytes] = []
        size = 0
        while chunk := await content.readany():
            size += len(chunk)
            if size > _FLOOR_LIMIT:
                raise RuntimeError("too large")
            chunks.append(chunk)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return floor_availability(json.loads(body))


def _read_floor(answer: Any) -> None:
    for slot in answer[0]:
        slot.start_time, slot.end_time, slot.emails, slot.event_id  # noqa: B018


async def _kept_bytes(make: Callable[[], Awaitable[Any]], keep: int = 5) -> float:
    """tracemalloc bytes held per result while ``keep`` results are kept."""
    import tracemalloc

    await make()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = [await make() for _ in range(keep)]
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del kept
    return size / keep


async def _async_cpu(url: str, n: int, reps: int, warmup: int, slots: int) -> dict[str, float]:
    cfg = configuration_id(slots)
    raw_url = f"{url}{AVAILABILITY_PATH}?start_time={START}&end_time={END}&configuration_id={cfg}"

    async with AsyncScheduler(base_url=url) as client, aiohttp.ClientSession() as session:
        get = client.availability.get

        async def ours_one() -> Any:
            return await get(start_time=START, end_time=END, configuration_id=cfg)

        async def raw_one() -> Any:
            async with session.get(raw_url) as resp:
                return json.loads(await resp.read())

        timeout = aiohttp.ClientTimeout(total=30.0, sock_read=30.0)  # the client's defaults

        async def floor(k: int) -> None:
            for _ in range(k):
                _read_floor(await _floor_get(session, raw_url, timeout))

        async def ours(k: int) -> None:
            for _ in range(k):
                _read_model(await get(start_time=START, end_time=END, configuration_id=cfg))

        async def raw(k: int) -> None:
            for _ in range(k):
                async with session.get(raw_url) as resp:
                    _read_raw(json.loads(await resp.read()))

        first = await ours_one()
        assert len(first.time_slots) == slots
        await ours(warmup)
        await raw(warmup)
        await floor(warmup)
        order = [("ours", ours), ("raw", raw), ("floor", floor)]
        samples: dict[str, list[float]] = {name: [] for name, _ in order}
        gen0: dict[str, list[int]] = {name: [] for name, _ in order}
        for rep in range(reps):  # interleaved batches, rotating order: drift hits all alike
            for name, fn in order[rep % 3 :] + order[: rep % 3]:
                gc.collect()
                c0 = gc.get_stats()[0]["collections"]
                t0 = time.process_time()
                await fn(n)
                samples[name].append(time.process_time() - t0)
                gen0[name].append(gc.get_stats()[0]["collections"] - c0)
        ours_bytes = await _kept_bytes(ours_one)
        raw_bytes = await _kept_bytes(raw_one)
    return {
        "slots": float(slots),
        "ours_us": _median_per_call(samples["ours"], n),
        "raw_us": _median_per_call(samples["raw"], n),
        "floor_us": _median_per_call(samples["floor"], n),
        "ratio": statistics.median(map(operator.truediv, samples["ours"], samples["raw"])),
        "ours_vs_floor": statistics.median(
            map(operator.truediv, samples["ours"], samples["floor"])
        ),
        "floor_vs_raw": statistics.median(map(operator.truediv, samples["floor"], samples["raw"])),
        "ours_gen0_per_call": statistics.median(gen0["ours"]) / n,
        "raw_gen0_per_call": statistics.median(gen0["raw"]) / n,
        "floor_gen0_per_call": statistics.median(gen0["floor"]) / n,
        "ours_kept_bytes": ours_bytes,
        "raw_kept_bytes": raw_bytes,
        "calls": float(n * reps),
    }


def async_cpu(
    url: str, *, n: int = 500, reps: int = 9, warmup: int = 200, slots: int = 20
) -> dict[str, float]:
    """Client CPU µs per availability call with ``slots`` slots, every slot's fields read:
    ``ours_us`` (AsyncScheduler), ``raw_us``, ``floor_us`` and the ratios ``ratio`` (ours /
    raw), ``ours_vs_floor``, ``floor_vs_raw`` (each the median of the per-repetition ratios of
    interleaved batches); gen-0 GC collections per call and bytes kept per answer."""
    return asyncio.run(_async_cpu(url, n, reps, warmup, slots))


# --------------------------------------------------------------------------- 2. sync CPU


def sync_cpu(
    url: str, *, n: int = 300, reps: int = 6, warmup: int = 50, sdk: bool = True
) -> dict[str, float]:
    """Client CPU µs per booking GET: ``sync_us`` (scheduler_sync, loop thread included),
    ``requests_us`` and ``sdk_us`` (official nylas SDK, which opens a connection per call)."""
    import requests

    import scheduler_sync

    booking_url = f"{url}{BOOKING_PATH}"
    params = {"configuration_id": CONFIGURATION_ID}
    calls: dict[str, Callable[[], Any]] = {}

    client = scheduler_sync.Scheduler(base_url=url)
    session = requests.Session()
    calls["sync"] = lambda: client.bookings.get(BOOKING_ID, configuration_id=CONFIGURATION_ID)

    def via_requests() -> Any:
        resp = session.get(booking_url, params=params)
        resp.raise_for_status()
        return resp.json()

    calls["requests"] = via_requests
    if sdk:
        import nylas  # type: ignore[import-untyped]

        nyl = nylas.Client("nyk_benchmark", api_uri=url)
        calls["sdk"] = lambda: nyl.scheduler.bookings.find(
            booking_id=BOOKING_ID, query_params={"configuration_id": CONFIGURATION_ID}
        )
    samples: dict[str, list[float]] = {name: [] for name in calls}
    try:
        assert client.bookings.get(BOOKING_ID, configuration_id=CONFIGURATION_ID).title
        for fn in calls.values():
            for _ in range(warmup):
                fn()
        order = list(calls.items())
        for rep in range(reps):
            for name, fn in order[rep % len(order) :] + order[: rep % len(order)]:
                gc.collect()
                t0 = time.process_time()
                for _ in range(n):
                    fn()
                samples[name].append(time.process_time() - t0)
    finally:
        client.close()
        session.close()
    out = {f"{name}_us": _median_per_call(s, n) for name, s in samples.items()}
    for other in ("requests", "sdk"):  # median of the per-repetition ratios
        if other in samples:
            pairs = map(operator.truediv, samples["sync"], samples[other])
            out[f"sync_vs_{other}"] = statistics.median(pairs)
    out["calls"] = float(n * reps)
    return out


# --------------------------------------------------------------------------- profile

_OURS = ("scheduler_async", "scheduler_sync")


def _profile_rows(prof: Any, calls: int, top: int) -> list[str]:
    """The ``top`` functions of our packages by self time, in µs per call, and a summary."""
    import pstats

    stats = prof if isinstance(prof, pstats.Stats) else pstats.Stats(prof)
    rows: list[tuple[float, int, str]] = []
    groups: dict[str, float] = {}
    total = 0.0
    for (filename, line, func), (_cc, ncalls, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        path = filename.replace("\\", "/")
        if any(f"/{pkg}/" in path for pkg in _OURS):
            short = path[path.rfind("/scheduler_") + 1 :]
            rows.append((tottime, ncalls, f"{short}:{line} {func}"))
            group = "ours"
        elif "/aiohttp/" in path or "/yarl/" in path or "/multidict/" in path:
            group = "aiohttp/yarl/multidict"
        elif "/asyncio/" in path or "/anyio/" in path or "/concurrent/" in path:
            group = "asyncio/anyio"
        elif "/cattrs/" in path or "/attr/" in path:
            group = "cattrs/attrs"
        elif "json" in path or func in ("<built-in method _json.scanstring>",):
            group = "json"
        else:
            group = "other (stdlib, builtins)"
        groups[group] = groups.get(group, 0.0) + tottime
    rows.sort(reverse=True)
    out = [f"CPU self time per call, {calls} calls (cProfile inflates absolute figures):"]
    out += [
        f"  {name:<26} {t / calls * 1e6:8.1f} µs  {share:5.1%}"
        for name, t in sorted(groups.items(), key=lambda kv: -kv[1])
        for share in [t / total if total else 0.0]
    ]
    out.append(f"top {top} functions of scheduler_async / scheduler_sync by self time:")
    out += [f"  {t / calls * 1e6:8.2f} µs  {n / calls:5.1f}x  {name}" for t, n, name in rows[:top]]
    return out


async def _profile_async(url: str, n: int, top: int) -> list[str]:
    import cProfile

    async with AsyncScheduler(base_url=url) as client:
        get = client.availability.get
        for _ in range(100):
            await get(start_time=START, end_time=END, configuration_id=CONFIGURATION_ID)
        prof = cProfile.Profile(time.thread_time)  # CPU of this thread, not time spent waiting
        prof.enable()
        for _ in range(n):
            await get(start_time=START, end_time=END, configuration_id=CONFIGURATION_ID)
        prof.disable()
    return _profile_rows(prof, n, top)


def profile_async(url: str, *, n: int = 2000, top: int = 15) -> list[str]:
    """cProfile of ``n`` ``availability.get`` calls: self time by package and our top functions."""
    return asyncio.run(_profile_async(url, n, top))


def profile_sync(url: str, *, n: int = 1000, top: int = 15) -> list[str]:
    """cProfile of ``n`` sync ``bookings.get`` calls (caller and loop thread both profiled)."""
    import cProfile

    import scheduler_sync

    client = scheduler_sync.Scheduler(base_url=url)
    profs: list[Any] = []
    try:
        for _ in range(100):
            client.bookings.get(BOOKING_ID, configuration_id=CONFIGURATION_ID)
        main_prof = cProfile.Profile(time.thread_time)
        profs.append(main_prof)

        def start_loop_profile() -> None:
            prof = cProfile.Profile(time.thread_time)  # runs in the loop thread
            profs.append(prof)
            prof.enable()

        def stop_loop_profile() -> None:
            profs[-1].disable()

        portal = client._rt.portal  # the facade's loop thread is profiled too
        portal.call(start_loop_profile)
        main_prof.enable()
        for _ in range(n):
            client.bookings.get(BOOKING_ID, configuration_id=CONFIGURATION_ID)
        main_prof.disable()
        portal.call(stop_loop_profile)
    finally:
        client.close()
    import pstats

    merged = pstats.Stats(profs[0])
    for p in profs[1:]:
        merged.add(p)
    return _profile_rows(merged, n, top)


# --------------------------------------------------------------------------- 3. sweep


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not permitted."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def queries(n: int) -> list[AvailabilityQuery]:
    """``n`` distinct availability queries (one-week windows, an hour apart)."""
    return [
        AvailabilityQuery(
            start_time=START + i * 3600,
            end_time=END + i * 3600,
            configuration_id=CONFIGURATION_ID,
            tag=i,
        )
        for i in range(n)
    ]


async def _sweep(url: str, n: int, concurrency: int, warmup: bool) -> dict[str, float]:
    qs = queries(n)
    limits = Limits(max_connections=concurrency)  # the default pool (100) would cap the sweep
    async with AsyncScheduler(base_url=url, limits=limits) as client:
        if warmup:  # open the connections first: the ideal time assumes a warm pool
            await client.availability.sweep_all(queries(concurrency), concurrency=concurrency)
        gc.collect()
        reset = _reset_peak_rss()
        rss0 = _status_kib("VmRSS")
        hwm0 = _status_kib("VmHWM")
        cpu0, t0 = time.process_time(), time.perf_counter()
        results = await client.availability.sweep_all(qs, concurrency=concurrency)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        hwm = _status_kib("VmHWM")
        ok = sum(r.ok for r in results)
        slots = sum(len(r.availability.time_slots) for r in results if r.availability)
    base = rss0 if reset else hwm0
    return {
        "n": float(n),
        "concurrency": float(concurrency),
        "wall_s": wall,
        "cpu_s": cpu,
        "ok": float(ok),
        "slots": float(slots),
        "rss_before_mib": rss0 / 1024,
        "rss_growth_mib": max(0, hwm - base) / 1024,
        "peak_reset": float(reset),
    }


def sweep(url: str, n: int, concurrency: int, *, warmup: bool = True) -> dict[str, float]:
    """One ``availability.sweep_all`` of ``n`` queries (results kept, as a caller would)."""
    return asyncio.run(_sweep(url, n, concurrency, warmup))


def sweep_in_subprocess(
    url: str, n: int, concurrency: int, *, timeout: float = 300.0
) -> dict[str, float]:
    """:func:`sweep` in a fresh interpreter, so peak RSS reflects the sweep alone."""
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "sweep", url, str(n), str(concurrency)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def _raw_sweep(url: str, n: int, concurrency: int) -> dict[str, float]:
    base = f"{url}{AVAILABILITY_PATH}"
    urls = iter(
        [
            f"{base}?start_time={q.start_time}&end_time={q.end_time}"
            f"&configuration_id={CONFIGURATION_ID}"
            for q in queries(n)
        ]
    )
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        results: list[Any] = []

        async def worker(source: Any) -> None:
            for u in source:
                async with session.get(u) as resp:
                    results.append(json.loads(await resp.read()))

        warm = iter([f"{base}?start_time={START}&end_time={END}"] * concurrency)
        await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
        results.clear()
        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(urls) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {"n": float(len(results)), "wall_s": wall, "cpu_s": cpu}


def raw_sweep(url: str, n: int, concurrency: int) -> dict[str, float]:
    """The same sweep with bare aiohttp (``concurrency`` workers, ``json.loads``, no models):
    the floor for this machine, where the client's CPU per request limits throughput."""
    return asyncio.run(_raw_sweep(url, n, concurrency))


def sdk_pool(url: str, n: int, threads: int) -> dict[str, float]:
    """The official SDK's ``bookings.find`` ``n`` times on a pool of ``threads`` threads."""
    import nylas

    client = nylas.Client("nyk_benchmark", api_uri=url)

    def one(_: int) -> None:
        client.scheduler.bookings.find(
            booking_id=BOOKING_ID, query_params={"configuration_id": CONFIGURATION_ID}
        )

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(threads)))  # start the threads
        cpu0, t0 = time.process_time(), time.perf_counter()
        list(pool.map(one, range(n)))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {"n": float(n), "threads": float(threads), "wall_s": wall, "cpu_s": cpu}


def main(argv: list[str]) -> None:
    """``sweep URL N CONCURRENCY``: print the sweep result as one JSON line."""
    if len(argv) != 5 or argv[1] != "sweep":
        raise SystemExit("usage: bench_http.py sweep URL N CONCURRENCY")
    print(json.dumps(sweep(argv[2], int(argv[3]), int(argv[4]))), flush=True)


if __name__ == "__main__":
    main(sys.argv)
