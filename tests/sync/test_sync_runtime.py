"""The sync facade's behaviour: the full flow against the emulator, threads, running loops,
lifecycle (close, atexit, garbage collection), re-entrance, pagination, cancellation."""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import scheduler_async
import scheduler_sync as ss
from scheduler_async.sweep import AvailabilityQuery
from scheduler_sync import (
    BookingStatus,
    BookingType,
    ClientClosedError,
    EventBooking,
    Guest,
    Scheduler,
)
from scheduler_sync._runtime import LoopThreadCallError, SyncRuntime
from tests.helpers import at, nine_to_five, organizer

KEY = "sync-SECRET-key"
GUEST = Guest(name="Jane Doe", email="jane@example.com")


def sync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "scheduler-sync"]


@pytest.fixture
def emu(scheduler_emulator_fresh: Any) -> Any:
    scheduler_emulator_fresh.clock.set(at(7))
    scheduler_emulator_fresh.add_grant("g-org", email="org@example.com")
    return scheduler_emulator_fresh


def make_client(emu: Any) -> Scheduler:
    return Scheduler(
        api_key=KEY,
        grant_id="g-org",
        base_url=emu.url,
        client_id=emu.client_id,
        retry=ss.RetryPolicy(backoff_base=0.0),
    )


@pytest.fixture
def client(emu: Any) -> Iterator[Scheduler]:
    with make_client(emu) as c:
        yield c
    assert c.closed


def create_config(client: Scheduler, **kw: Any) -> ss.Configuration:
    kw.setdefault("participants", [organizer("org@example.com", name="Org")])
    kw.setdefault("availability", nine_to_five())
    kw.setdefault("event_booking", EventBooking(title="Intro"))
    return client.configurations.create(**kw)


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts loop crossings (SyncRuntime.call) made by every sync client."""
    counter = [0]
    real = SyncRuntime.call

    def counting(self: SyncRuntime, fn: Any, *, timeout: float | None = None) -> Any:
        counter[0] += 1
        return real(self, fn, timeout=timeout)

    monkeypatch.setattr(SyncRuntime, "call", counting)
    return counter


def starts(avail: ss.Availability) -> list[int]:
    return [s.start_time for s in avail.time_slots]


# -- the full flow -----------------------------------------------------------------------------
def test_full_flow(client: Scheduler, emu: Any, count_calls: list[int]) -> None:
    public = create_config(client, slug="sync-intro")
    assert client.configurations.get(public.id) == public
    with pytest.raises(ss.NotFoundError) as info:  # the core's exception class, unchanged
        client.configurations.get("no-such-config")
    assert type(info.value) is scheduler_async.NotFoundError

    # list: every page, one loop crossing per page
    others = [create_config(client, name=f"cfg {i}") for i in range(4)]
    count_calls[0] = 0
    listed = [c.id for c in client.configurations.list(limit=2)]
    assert sorted(listed) == sorted([public.id, *(c.id for c in others)])
    assert count_calls[0] == 3  # 5 configurations, pages of 2
    page = client.configurations.list_page(limit=2)
    assert len(page.data) == 2 and page.next_cursor
    resp = client.configurations.with_response.list_page(limit=2)
    assert isinstance(resp, ss.APIResponse) and resp.status_code == 200 and resp.request_id

    updated = client.configurations.update(public.id, name="renamed")
    assert updated.name == "renamed" and client.configurations.get(public.id).name == "renamed"

    # availability by configuration_id (public), booking create/get/reschedule/delete
    emu.add_event("g-org", "primary", at(9), at(10))
    avail = client.availability.get(start_time=at(8), end_time=at(11), configuration_id=public.id)
    assert starts(avail) == [at(10), at(10.5)]
    booking = client.bookings.create(
        start_time=at(10), end_time=at(10.5), guest=GUEST, configuration_id=public.id
    )
    assert booking.status is BookingStatus.BOOKED
    got = client.bookings.get(booking.booking_id, configuration_id=public.id)
    assert got.booking_id == booking.booking_id
    client.bookings.reschedule(
        booking.booking_id, start_time=at(14), end_time=at(14.5), configuration_id=public.id
    )
    moved = client.availability.get(start_time=at(8), end_time=at(15), configuration_id=public.id)
    assert at(10) in starts(moved) and at(14) not in starts(moved)
    deleted = client.bookings.with_response.delete(booking.booking_id, configuration_id=public.id)
    assert deleted.status_code == 200
    freed = client.availability.get(start_time=at(14), end_time=at(15), configuration_id=public.id)
    assert at(14) in starts(freed)

    # a private configuration: session, availability and booking by session
    private = create_config(client, requires_session_auth=True)
    session = client.sessions.create(configuration_id=private.id, time_to_live=10)
    by_session = client.availability.get(
        start_time=at(11), end_time=at(12), session_id=session.session_id
    )
    assert starts(by_session) == [at(11), at(11.5)]
    mine = client.bookings.create(
        start_time=at(11), end_time=at(11.5), guest=GUEST, session_id=session.session_id
    )
    client.bookings.delete(mine.booking_id, session_id=session.session_id)

    # organizer confirmation: confirm with the salt, cancel the other one
    needs_ok = create_config(
        client,
        event_booking=EventBooking(
            title="Needs OK", booking_type=BookingType.ORGANIZER_CONFIRMATION
        ),
    )
    pending = client.bookings.create(
        start_time=at(9, 1), end_time=at(9.5, 1), guest=GUEST, configuration_id=needs_ok.id
    )
    assert pending.status is BookingStatus.PENDING
    confirmed = client.bookings.confirm(
        pending.booking_id, salt=emu.booking_salt(pending.booking_id), configuration_id=needs_ok.id
    )
    assert confirmed.status is BookingStatus.BOOKED
    second = client.bookings.create(
        start_time=at(10, 1), end_time=at(10.5, 1), guest=GUEST, configuration_id=needs_ok.id
    )
    client.bookings.cancel(
        second.booking_id,
        salt=emu.booking_salt(second.booking_id),
        cancellation_reason="busy",
        configuration_id=needs_ok.id,
    )
    again = client.availability.get(
        start_time=at(10, 1), end_time=at(11, 1), configuration_id=needs_ok.id
    )
    assert at(10, 1) in starts(again)

    # revoke the session, then delete the configurations
    client.sessions.delete(session.session_id)
    with pytest.raises(ss.AuthenticationError):
        client.availability.get(start_time=at(11), end_time=at(12), session_id=session.session_id)
    for config in (public, private, needs_ok, *others):
        client.configurations.delete(config.id)
    with pytest.raises(ss.NotFoundError):
        client.configurations.get(public.id)
    assert list(client.configurations.list(limit=2)) == []


def test_64_threads_share_one_client(client: Scheduler) -> None:
    config = create_config(client)
    slots = [at(9 + (i % 16) / 2, day=i // 16) for i in range(64)]  # Mon..Thu, 16 a day
    barrier = threading.Barrier(64)
    results: dict[int, tuple[list[int], str, list[int]]] = {}
    errors: list[BaseException] = []
    loops: set[int] = set()

    def work(i: int) -> None:
        try:
            barrier.wait()
            start = slots[i]
            avail = client.availability.get(
                start_time=start, end_time=start + 1800, configuration_id=config.id
            )
            booking = client.bookings.create(
                start_time=start, end_time=start + 1800, guest=GUEST, configuration_id=config.id
            )
            got = client.bookings.get(booking.booking_id, configuration_id=config.id)
            after = client.availability.get(
                start_time=start, end_time=start + 1800, configuration_id=config.id
            )
            assert got.booking_id == booking.booking_id
            results[i] = (starts(avail), got.booking_id, starts(after))
            loops.add(client._rt.portal.call(threading.get_ident))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert len(results) == 64
    for i, (offered, booking_id, left) in results.items():
        assert offered == [slots[i]] and booking_id and left == []
    assert len({r[1] for r in results.values()}) == 64
    assert len(loops) == 1  # one event-loop thread served every caller
    for day in range(4):  # every slot is taken now
        left = client.availability.get(
            start_time=at(9, day), end_time=at(17, day), configuration_id=config.id
        )
        assert starts(left) == []


def test_works_inside_a_running_event_loop(
    client: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    config = create_config(client)

    async def notebook_cell() -> list[int]:
        asyncio.get_running_loop()  # a loop runs in this thread, as in Jupyter
        avail = client.availability.get(
            start_time=at(9), end_time=at(10), configuration_id=config.id
        )
        client.availability.get(start_time=at(9), end_time=at(10), configuration_id=config.id)
        return starts(avail)

    with caplog.at_level(logging.WARNING, logger="scheduler_async"):
        assert asyncio.run(notebook_cell()) == [at(9), at(9.5)]
    warnings = [r for r in caplog.records if "running event loop" in r.getMessage()]
    assert len(warnings) == 1  # said once per client, not per call


async def test_works_in_an_async_test(client: Scheduler) -> None:
    config = create_config(client)  # blocks this loop briefly; the emulator has its own thread
    assert client.configurations.get(config.id).id == config.id


# -- lifecycle ---------------------------------------------------------------------------------
def test_close_is_idempotent_and_later_calls_raise(emu: Any) -> None:
    client = make_client(emu)
    config = create_config(client)
    (thread,) = [
        t for t in sync_threads() if t.ident == client._rt.portal.call(threading.get_ident)
    ]
    assert not client.closed
    client.close()
    client.close()
    assert client.closed and not thread.is_alive()
    with pytest.raises(ClientClosedError):
        client.configurations.get(config.id)
    with pytest.raises(ClientClosedError):
        next(iter(client.configurations.list()))
    with pytest.raises(ClientClosedError):
        client.bookings.with_response.get("b", configuration_id=config.id)
    with pytest.raises(ClientClosedError), client:  # a closed client cannot be re-entered
        pass


def test_close_from_many_threads_at_once(emu: Any) -> None:
    client = make_client(emu)
    create_config(client)
    threads = [threading.Thread(target=client.close) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert client.closed


def test_call_from_the_loop_thread_is_a_clear_error(client: Scheduler) -> None:
    config = create_config(client)

    def on_the_loop() -> Any:
        return client.availability.get(
            start_time=at(9), end_time=at(10), configuration_id=config.id
        )

    with pytest.raises(LoopThreadCallError, match="AsyncScheduler") as info:
        client._rt.portal.call(on_the_loop)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ss.SchedulerError)
    with pytest.raises(LoopThreadCallError):
        client._rt.portal.call(client.close)
    assert not client.closed
    assert starts(on_the_loop()) == [at(9), at(9.5)]  # still usable


def test_early_break_in_pagination_leaves_the_client_usable(
    client: Scheduler, count_calls: list[int]
) -> None:
    made = [create_config(client, name=f"cfg {i}") for i in range(5)]
    count_calls[0] = 0
    for _ in client.configurations.list(limit=2):
        break
    assert count_calls[0] == 1  # only the first page was fetched
    it = client.configurations.list(limit=2)
    assert next(it).id in {c.id for c in made}
    it.close()
    assert len(list(client.configurations.list(limit=2))) == 5


def test_early_break_in_a_sweep_cancels_the_pump(client: Scheduler) -> None:
    """``availability.sweep`` has no ``_page`` sibling: it runs as one pump task on the loop."""
    config = create_config(client)
    queries = [
        AvailabilityQuery(start_time=at(9, d), end_time=at(10, d), configuration_id=config.id)
        for d in range(4)
    ]

    def tasks() -> int:
        return client._rt.portal.call(lambda: len(asyncio.all_tasks()))

    baseline = tasks()
    for result in client.availability.sweep(queries, concurrency=2):
        assert result.error is None
        break
    deadline = time.monotonic() + 5
    while tasks() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tasks() == baseline
    everything = list(client.availability.sweep(queries, concurrency=2))
    assert len(everything) == 4 and all(r.error is None for r in everything)
    assert len(client.availability.sweep_all(queries)) == 4


def test_never_closed_client_exits_cleanly(emu: Any) -> None:
    code = f"""
import threading
from scheduler_sync import Scheduler
c = Scheduler(api_key="k", grant_id="g-org", base_url={emu.url!r})
assert c.configurations.list_page(limit=1).data == ()
def dropped():
    d = Scheduler(api_key="k", grant_id="g-org", base_url={emu.url!r})
    d.configurations.list_page(limit=1)
dropped()
print("ok")
"""
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok\n"
    assert proc.stderr == ""


def test_a_dropped_client_stops_its_thread_without_blocking(emu: Any) -> None:
    client = make_client(emu)
    create_config(client)
    ident = client._rt.portal.call(threading.get_ident)
    (thread,) = [t for t in sync_threads() if t.ident == ident]
    del client
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()


def test_two_thousand_dropped_clients_leave_nothing_behind(emu: Any) -> None:
    """Clients used once and dropped unclosed: RSS, atexit hooks, threads and fds stay flat."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.sync.dropped_clients_probe", emu.url, "2000"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=600,  # hang guard only
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    grown = json.loads(proc.stdout.strip().splitlines()[-1])
    assert grown["atexit"] == 0 and grown["threads"] == 0 and grown["fds"] == 0, grown
    assert grown["rss_kib"] < 20 * 1024, grown  # was ~260 KiB per client: 520 MB


# -- cancellation ------------------------------------------------------------------------------
@pytest.fixture
def rt() -> Iterator[SyncRuntime]:
    runtime = SyncRuntime()
    yield runtime
    runtime.close()


def _blocker(started: threading.Event, cancelled: threading.Event) -> Any:
    async def block() -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise

    return block


def _wait_for(condition: Callable[[], bool], timeout: float = 30) -> bool:
    """Whether ``condition()`` became true (polled) within ``timeout`` s (a hang guard only)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def _press_ctrl_c(main: int, done: threading.Event, ready: Callable[[], bool]) -> threading.Thread:
    """Send SIGINT to the main thread until it reports (``done``) that it got the interrupt.

    The first press waits until ``ready()`` (the call is under way: its task runs, or its request
    reached the server; an interrupt before that cancels a task that never ran, which is right
    but not what a test of "the running task is cancelled" wants). A signal that lands just
    before the main thread blocks in a lock wait is only handled when the wait ends (a CPython
    limitation), so it is repeated; repeats coalesce into one.
    """

    def run() -> None:
        assert _wait_for(ready)
        for _ in range(50):
            signal.pthread_kill(main, signal.SIGINT)
            if done.wait(0.2):
                return

    helper = threading.Thread(target=run)
    helper.start()
    return helper


def test_an_abandoned_wait_cancels_the_task(rt: SyncRuntime) -> None:
    started, cancelled = threading.Event(), threading.Event()
    with pytest.raises(TimeoutError):
        rt.call(_blocker(started, cancelled), timeout=0.05)
    assert cancelled.wait(5)

    async def fine() -> int:
        return 7

    assert rt.call(fine) == 7


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs the default SIGINT handler in the main thread",
)
def test_ctrl_c_cancels_the_task(rt: SyncRuntime) -> None:
    started, cancelled, interrupted = threading.Event(), threading.Event(), threading.Event()
    main = threading.main_thread().ident
    assert main is not None
    helper = _press_ctrl_c(main, interrupted, ready=started.is_set)
    try:
        rt.call(_blocker(started, cancelled), timeout=30)
    except KeyboardInterrupt:
        interrupted.set()
    helper.join()
    assert interrupted.is_set() and started.is_set()
    assert cancelled.wait(5)


def test_ctrl_c_while_handing_over_still_cancels_the_task(rt: SyncRuntime) -> None:
    """Ctrl-C may land after the call was handed to the loop but before the caller holds its
    future (the task already runs): the task is cancelled, not left running unowned."""
    started, cancelled = threading.Event(), threading.Event()
    owner = rt._owner
    real_loop = owner.loop

    class InterruptedHandover:
        def call_soon_threadsafe(self, *args: Any) -> Any:
            real_loop.call_soon_threadsafe(*args)
            assert started.wait(5)  # the task runs on the loop...
            raise KeyboardInterrupt  # ...when the interrupt lands in the caller

        def __getattr__(self, name: str) -> Any:
            return getattr(real_loop, name)

    owner.loop = InterruptedHandover()  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            rt.call(_blocker(started, cancelled), timeout=30)
    finally:
        owner.loop = real_loop
    assert cancelled.wait(5)

    async def fine() -> int:
        return 7

    assert rt.call(fine) == 7


def test_one_call_is_one_hop_to_the_loop(rt: SyncRuntime) -> None:
    """A call hands itself to the loop once (no round trip to spawn a task first): the loop
    sees exactly one callback from another thread per call."""
    owner = rt._owner
    real_loop = owner.loop
    hops: list[int] = []

    class Counting:
        def call_soon_threadsafe(self, *args: Any) -> Any:
            hops.append(threading.get_ident())
            return real_loop.call_soon_threadsafe(*args)

        def __getattr__(self, name: str) -> Any:
            return getattr(real_loop, name)

    async def answer() -> int:
        return 42

    owner.loop = Counting()  # type: ignore[assignment]
    try:
        assert [rt.call(answer) for _ in range(5)] == [42] * 5
    finally:
        owner.loop = real_loop
    assert hops == [threading.get_ident()] * 5


def test_close_cancels_every_call_in_flight_from_many_threads(rt: SyncRuntime) -> None:
    """close() under load: 20 threads wait on running calls; each ends ClientClosedError and
    no task is left on the loop."""
    n = 20
    started = threading.Semaphore(0)
    cancelled: list[int] = []
    outcomes: list[BaseException] = []
    lock = threading.Lock()

    async def blocker(i: int) -> None:
        started.release()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            with lock:
                cancelled.append(i)
            raise

    def caller(i: int) -> None:
        try:
            rt.call(functools.partial(blocker, i))
        except BaseException as exc:
            with lock:
                outcomes.append(exc)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for _ in range(n):
        assert started.acquire(timeout=10)
    rt.close()
    for t in threads:
        t.join(10)
    assert len(outcomes) == n and all(isinstance(e, ClientClosedError) for e in outcomes)
    assert sorted(cancelled) == list(range(n))
    assert not rt._owner.inflight


def test_ctrl_c_during_a_real_request(client: Scheduler, emu: Any) -> None:
    if (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        or threading.current_thread() is not threading.main_thread()
    ):
        pytest.skip("needs the default SIGINT handler in the main thread")
    config = create_config(client)
    main = threading.main_thread().ident
    assert main is not None

    def tasks() -> int:
        return client._rt.portal.call(lambda: len(asyncio.all_tasks()))

    baseline = tasks()
    seen = emu.rate_limit.requests  # the emulator counts every /v3 request it handles
    emu.set_faults("*", stall=1.0, stall_seconds=3)  # handled, then the answer held for 3 s
    interrupted = threading.Event()
    helper = _press_ctrl_c(main, interrupted, ready=lambda: emu.rate_limit.requests > seen)
    answered = False
    try:
        client.configurations.get(config.id)
        answered = True
    except KeyboardInterrupt:
        interrupted.set()
    helper.join()
    # the interrupt ended the wait, not the answer (the emulator holds it for 3 s)
    assert interrupted.is_set() and not answered
    deadline = time.monotonic() + 5
    while tasks() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tasks() == baseline  # the request task was cancelled, not left running
    emu.set_faults("*")
    assert client.configurations.get(config.id).id == config.id


def test_close_ends_calls_in_flight_with_client_closed(rt: SyncRuntime) -> None:
    started, cancelled = threading.Event(), threading.Event()
    outcome: list[BaseException] = []

    def caller() -> None:
        try:
            rt.call(_blocker(started, cancelled))
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=caller)
    t.start()
    assert started.wait(5)
    rt.close()
    t.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], ClientClosedError)
    assert cancelled.is_set()


# -- the pump path of async generators without a page method -----------------------------------
def test_iterate_runs_a_generator_in_one_task(rt: SyncRuntime) -> None:
    closed = threading.Event()

    async def numbers(n: int) -> Any:
        try:
            with anyio.move_on_after(30):  # a cancel scope held across yields
                for i in range(n):
                    await anyio.lowlevel.checkpoint()
                    yield i
        finally:
            closed.set()

    assert list(rt.iterate(functools.partial(numbers, 5))) == [0, 1, 2, 3, 4]
    closed.clear()
    for item in rt.iterate(functools.partial(numbers, 1000)):
        assert item == 0
        break
    assert closed.wait(5)  # the producer was closed on the loop

    async def boom() -> Any:
        yield 1
        raise ValueError("producer failed")

    with pytest.raises(ValueError, match="producer failed"):
        list(rt.iterate(boom))

    async def one() -> int:
        return 1

    assert rt.call(one) == 1  # the portal survived all of it


def test_closing_during_an_iteration_ends_it_cleanly() -> None:
    rt = SyncRuntime()

    async def forever() -> Any:
        i = 0
        while True:
            await anyio.lowlevel.checkpoint()
            yield i
            i += 1

    it = rt.iterate(forever)
    assert next(it) == 0
    rt.close()
    with pytest.raises(ClientClosedError):
        next(it)
    del it
    gc.collect()  # no "unclosed stream" ResourceWarning (warnings are errors here)
