"""Runtime support of the generated sync facade (``scheduler_sync``); not imported by the core.

A sync client owns one :class:`SyncRuntime`: one anyio blocking portal, so one event-loop thread
(and therefore one aiohttp session) for the client's whole life. Every sync call is one task on
that loop while the calling thread waits for it, so any number of threads may share a client.
A call crosses threads once each way (``asyncio.run_coroutine_threadsafe``-style: one
``call_soon_threadsafe`` there, one future's result back); the portal serves only start and close.
The runtime tracks the calls' tasks, so :meth:`SyncRuntime.close` (and Ctrl-C in the waiting
thread) cancels them.

::

    rt = SyncRuntime()                                   # starts the thread "scheduler-sync"
    inner = rt.start(make_async_client, AsyncScheduler.aclose)   # built ON the loop
    rt.call(functools.partial(inner.bookings.get, "b1"))        # one task per call, one hop
    rt.close()                       # aclose on the loop, cancel leftovers, stop, join

Unclosed runtimes: one ``atexit`` hook (registered once, at import) closes every live one at
interpreter exit; it finds them in the after-fork registry (:mod:`scheduler_async._fork`),
which holds them weakly, so clients are still garbage collected. When the last object holding
a runtime is collected, a ``weakref.finalize`` callback asks the loop, without blocking, to
close the async client and stop; the loop thread, as it stops, finishes the portal itself, so
a dropped client leaves nothing behind (no thread, no portal or loop kept alive, no hook).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from scheduler_async import _fork
from scheduler_async.errors import ClientClosedError, LoopThreadCallError
from scheduler_async.pagination import PageLike, Pager

__all__ = ["LoopThreadCallError", "PageLike", "SyncFacade", "SyncRuntime", "loop_bound_argument"]

logger = logging.getLogger("scheduler_async")

try:  # the ``fast`` extra: the facade owns its loop, so it runs on uvloop when installed
    import uvloop  # noqa: F401

    _BACKEND_OPTIONS: dict[str, Any] = {"use_uvloop": True}
except ImportError:  # pragma: no cover - depends on the environment
    _BACKEND_OPTIONS = {}

T = TypeVar("T")
C = TypeVar("C")


def loop_bound_argument(cls: str, param: str, async_cls: str) -> TypeError:
    """The error for ``<cls>(<param>=...)``: that object is bound to the caller's event loop."""
    return TypeError(
        f"{cls}({param}=...) is not supported: an aiohttp.ClientSession (like any asyncio "
        f"object) belongs to the event loop it was created on, and {cls} runs its own event "
        f"loop in a private thread, where it creates its own session. Tune the pool with "
        f"limits=, or use scheduler_async.{async_cls} to bring your own {param}."
    )


class _PortalOwner:
    """Owns the portal context manager. The ``atexit`` hook holds this, and only this."""

    def __init__(self, name: str) -> None:
        self.state_lock = threading.Lock()  # guards the flags below
        self.close_lock = threading.Lock()  # serialises close(): a second closer waits
        self.cm = start_blocking_portal(backend_options=_BACKEND_OPTIONS, name=name)
        self.portal: BlockingPortal = self.cm.__enter__()
        self.loop: asyncio.AbstractEventLoop = self.portal.call(asyncio.get_running_loop)
        self.loop_thread: threading.Thread = self.portal.call(threading.current_thread)
        self.aclose: Callable[[], Awaitable[None]] | None = None
        self.closed = False  # no new calls are accepted
        self.warned_running_loop = False  # the one-time warning of calls from a running loop
        self.exited = False  # the portal context manager was exited (thread joined)
        self.shutdown_task: asyncio.Task[None] | None = None
        self.shutdown_done: concurrent.futures.Future[None] | None = None
        self.closed_reason = "the client is closed"
        self.inflight: set[asyncio.Future[Any]] = set()  # calls' tasks; touched on the loop only
        _fork.register(self, _PortalOwner.forked)

    # -- one-hop calls (``asyncio.run_coroutine_threadsafe``-style) ---------------------------
    def submit(self, fn: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        """Hand ``fn`` to the loop in one non-blocking hop; its result arrives in the future.

        Under ``state_lock``, so a call is either refused (closed) or queued before whatever
        :meth:`close` queues next: its task exists by the time close cancels the in-flight ones.
        """
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            with self.state_lock:
                if self.closed:
                    raise ClientClosedError(self.closed_reason)
                self.loop.call_soon_threadsafe(self.spawn, fn, fut)
        except RuntimeError as exc:  # the loop is closed: its thread has ended
            raise ClientClosedError(self.closed_reason) from exc
        except BaseException:
            # Interrupted (Ctrl-C) while handing the call over: the caller never gets the
            # future, so cancel it; the loop then never starts the task, or cancels it.
            fut.cancel()
            raise
        return fut

    def spawn(self, fn: Callable[[], Awaitable[T]], fut: concurrent.futures.Future[T]) -> None:
        """On the loop: start ``fn()`` as a task tied to ``fut`` both ways (result, cancel)."""
        if fut.cancelled():
            return
        try:
            task = asyncio.ensure_future(fn())
        except BaseException as exc:  # fn() itself raised before returning an awaitable
            if fut.set_running_or_notify_cancel():
                fut.set_exception(exc)
            return
        self.inflight.add(task)
        task.add_done_callback(functools.partial(self._task_done, fut))
        fut.add_done_callback(functools.partial(self._fut_done, task))

    def _task_done(self, fut: concurrent.futures.Future[Any], task: asyncio.Future[Any]) -> None:
        self.inflight.discard(task)
        if task.cancelled():
            fut.cancel()
        elif fut.set_running_or_notify_cancel():
            exc = task.exception()
            if exc is None:
                fut.set_result(task.result())
            else:
                fut.set_exception(exc)

    def _fut_done(self, task: asyncio.Future[Any], fut: concurrent.futures.Future[Any]) -> None:
        if fut.cancelled() and not task.done():  # the caller gave up (Ctrl-C, timeout)
            with contextlib.suppress(RuntimeError):  # the loop is closed: the task is gone
                self.loop.call_soon_threadsafe(task.cancel)

    async def cancel_inflight(self) -> None:
        """On the loop: cancel every call still running and wait until each has ended."""
        tasks = list(self.inflight)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def forked(self) -> None:
        """In the child of ``os.fork``: the loop thread did not come along; never wait for it.

        Nothing is closed or stopped (the sockets and the loop's selector are shared with the
        parent): the owner only refuses calls, and ``close()``/exit return at once.
        """
        self.closed = True
        self.exited = True
        self.aclose = None
        # The portal's context manager, when finalized at exit, would ask the (absent) loop
        # thread to stop and wait forever; marked as not running, its calls fail at once. This
        # is the state ``BlockingPortal.stop`` itself leaves behind.
        self.portal._event_loop_thread_id = None
        # Never deallocate what the child inherited: freeing uvloop's loop (which believes it
        # is still running) or its handles crashes the child at exit. A leak in a process that
        # can never use these objects anyway.
        _fork.keep_forever(self)
        self.closed_reason = (
            "this scheduler_sync client was created in the parent process before os.fork(); "
            "its event-loop thread does not exist in the child: create a new client in the "
            "child (e.g. in a post-fork hook)"
        )

    def close(self) -> None:
        """Close the async client on the loop, cancel leftover tasks, stop, join the thread."""
        with self.close_lock:
            with self.state_lock:
                if self.exited:
                    return
                self.closed = True
                aclose, self.aclose = self.aclose, None
            portal = self.portal
            if self.shutdown_done is not None:  # close_soon() ran: let its aclose finish
                with contextlib.suppress(Exception):
                    self.shutdown_done.result(timeout=10)
            try:
                if aclose is not None:
                    with contextlib.suppress(RuntimeError):  # the portal already stopped
                        portal.call(aclose)
            finally:
                with contextlib.suppress(RuntimeError):
                    portal.call(self.cancel_inflight)  # calls still running end cancelled
                with contextlib.suppress(RuntimeError):
                    portal.call(portal.stop, True)  # cancel leftovers, or exit would wait
                self.exit_portal()

    def exit_portal(self) -> None:
        """Exit the portal's context manager (stop, join the loop thread), once.

        The loop thread itself gets here at the end of :meth:`close_soon`: it cannot join
        itself, so the context manager's final join is skipped there (the thread ends right
        after). Any other thread that comes second waits for the loop thread to end.
        """
        with self.state_lock:
            first, self.exited = not self.exited, True
        on_loop = threading.current_thread() is self.loop_thread
        if first:
            try:
                self.cm.__exit__(None, None, None)
            except RuntimeError:  # "cannot join current thread"
                if not on_loop:
                    raise
        elif not on_loop:
            self.loop_thread.join()

    def close_soon(self) -> None:
        """Ask the loop to close the client and stop, without waiting (a finalizer)."""
        with self.state_lock:
            if self.closed:
                return
            self.closed = True
            aclose, self.aclose = self.aclose, None
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            self.shutdown_done = done
        portal = self.portal

        async def shutdown() -> None:
            try:
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()
            finally:
                done.set_result(None)
                await self.cancel_inflight()
                await portal.stop(True)
                self.exit_portal()  # the last step on this loop: the thread ends next

        def spawn() -> None:
            self.shutdown_task = self.loop.create_task(shutdown())

        try:
            self.loop.call_soon_threadsafe(spawn)
        except RuntimeError:  # the loop is already closed: its thread has ended
            done.set_result(None)
            self.exit_portal()


def _close_all_at_exit() -> None:
    """At interpreter exit: close every runtime still open (the registry holds them weakly)."""
    for owner in _fork.live(_PortalOwner):
        with contextlib.suppress(Exception):
            owner.close()


atexit.register(_close_all_at_exit)


class SyncRuntime:
    """One event-loop thread (an anyio blocking portal) serving one sync client.

    Thread-safe: any number of threads may :meth:`call` at once; each call is one task on the
    loop. Calls after :meth:`close` raise :class:`~scheduler_async.errors.ClientClosedError`;
    calls from the loop thread itself raise :class:`LoopThreadCallError`.
    """

    __slots__ = ("__weakref__", "_finalizer", "_owner")

    def __init__(self, *, name: str = "scheduler-sync") -> None:
        owner = _PortalOwner(name)
        self._owner = owner
        self._finalizer = weakref.finalize(self, owner.close_soon)
        self._finalizer.atexit = False  # at exit the hook does the complete, blocking close

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<SyncRuntime {state} thread={self._owner.loop_thread.name!r}>"

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def portal(self) -> BlockingPortal:
        """The blocking portal; its loop runs in this runtime's own thread."""
        return self._owner.portal

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the runtime is shutting down)."""
        return self._owner.closed

    def start(self, factory: Callable[[], C], aclose: Callable[[C], Awaitable[None]]) -> C:
        """Build the async client by calling ``factory`` on the loop; ``aclose(client)`` closes it.

        If ``factory`` raises, the runtime is closed and the error propagates unchanged.
        """
        try:
            inner = self.portal.call(factory)
        except BaseException:
            self.close()
            raise
        self._owner.aclose = functools.partial(aclose, inner)
        return inner

    def close(self) -> None:
        """Close the async client on the loop, cancel leftover tasks and stop the loop thread.

        Idempotent and thread-safe; calls still in flight end with ``ClientClosedError``.
        """
        self._check_thread()
        self._owner.close()
        self._finalizer.detach()

    # -- calls -----------------------------------------------------------------------------
    def _check_thread(self) -> None:
        if threading.current_thread() is self._owner.loop_thread:  # idents get reused
            raise LoopThreadCallError(
                "a scheduler_sync client was called from its own event-loop thread, which "
                "would deadlock; code running in an event loop should use "
                "scheduler_async.AsyncScheduler (and await its methods) instead"
            )

    def _submit(self, fn: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        self._check_thread()
        owner = self._owner
        if not owner.warned_running_loop and asyncio._get_running_loop() is not None:
            owner.warned_running_loop = True
            logger.warning(
                "a scheduler_sync client is called from inside a running event loop: each "
                "call blocks that loop until the answer arrives; in async code (e.g. a "
                "notebook) prefer scheduler_async.AsyncScheduler and await its methods"
            )
        return owner.submit(fn)

    def call(self, fn: Callable[[], Awaitable[T]], *, timeout: float | None = None) -> T:
        """Run ``fn()`` as a task on the loop and wait for its result; errors pass unchanged.

        If the wait is interrupted (``KeyboardInterrupt``, or ``timeout`` seconds passed, which
        raises ``TimeoutError``), the task is cancelled and the interruption re-raised.
        """
        fut = self._submit(fn)
        try:
            return fut.result(timeout)
        except concurrent.futures.CancelledError:
            if self._owner.closed:  # cancelled by close() while in flight
                raise ClientClosedError("the client was closed during the call") from None
            raise
        except BaseException:
            fut.cancel()
            raise

    def iter_pages(
        self, fetch: Callable[..., Awaitable[PageLike[T]]], token_param: str
    ) -> Iterator[T]:
        """Yield the items of every page, crossing to the loop once per page.

        ``fetch(**{token_param: cursor})`` returns one page; the first call passes ``None``.
        The loop is the async one's (:class:`scheduler_async.pagination.Pager`): a repeated
        cursor raises ``MalformedResponseError``.
        """
        pager = Pager(fetch, token_param)
        while not pager.finished and (page := self.call(pager.next_page)) is not None:
            yield from page.data

    def iterate(self, agen_fn: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
        """Yield the items of an async iterator that runs whole in ONE task on the loop.

        A pump task feeds a zero-buffer memory stream (one crossing per item). Leaving the
        ``for`` early cancels the pump; the async generator is closed on the loop.
        """
        send, recv = self.call(_open_stream)
        send_t: MemoryObjectSendStream[T] = send
        recv_t: MemoryObjectReceiveStream[T] = recv

        async def pump() -> None:
            async with send_t:
                agen = agen_fn()
                try:
                    async for item in agen:
                        await send_t.send(item)
                finally:
                    # Close it in THIS task and with no extra cancel scope: a generator suspended
                    # at ``yield`` inside its own cancel scope must exit that scope as the
                    # current one (garbage collection would close it in another task).
                    aclose: Any = getattr(agen, "aclose", None)
                    if aclose is not None:
                        await aclose()

        try:
            fut = self._submit(pump)
        except BaseException:
            self._close_stream(send_t)
            self._close_stream(recv_t)
            raise
        try:
            while True:
                try:
                    yield self.call(recv_t.receive)
                except anyio.EndOfStream:
                    break
            fut.result()  # the producer's error, if any
        finally:
            fut.cancel()
            self._close_stream(recv_t)

    def _close_stream(
        self, stream: MemoryObjectSendStream[T] | MemoryObjectReceiveStream[T]
    ) -> None:
        try:
            self.call(stream.aclose)
        except (RuntimeError, ClientClosedError):  # the loop is gone: nothing can race us now
            stream.close()


class SyncFacade:
    """Base of the generated sync classes: ``_inner`` is the async twin, ``_rt`` the runtime."""

    __slots__ = ()

    _inner: Any
    _rt: SyncRuntime

    def __repr__(self) -> str:
        inner = self._inner
        return repr(inner).replace(type(inner).__name__, type(self).__name__, 1)


async def _open_stream() -> tuple[MemoryObjectSendStream[Any], MemoryObjectReceiveStream[Any]]:
    return anyio.create_memory_object_stream[Any](0)
