"""Webhook delivery of the emulator: the HTTP side of :class:`WebhookHub`.

:class:`WebhookHub` is :class:`~.webhook_state.WebhookState` plus the network: the challenge GET
of a new destination, signed POSTs of notifications, test events, and a background worker.
:meth:`WebhookState.notify` only enqueues (it never blocks an API answer); the worker started by
:meth:`WebhookHub.start` sends what is due, and :meth:`WebhookHub.deliver_due` does the same on
demand: after a fake clock is advanced, ``await hub.deliver_due()`` fires the reminders and
retries that have become due, deterministically.

Delivery follows ``scheduler-api-more.md`` §1.6: POST of the JSON envelope with
``X-Nylas-Signature`` (lowercase hex HMAC-SHA256 of the raw body, keyed by the destination's
secret; over the gzipped body when ``compressed_delivery``), ``webhook_delivery_attempt`` 1..3,
a failed or timed-out attempt (no 2xx within ``timeout``) retried after ``retry_delays`` (5, then
10 minutes: the last attempt 15 minutes after the first, within the documented 10-20), the retry
going to every destination of the trigger, as documented.  Only ``active`` and ``failing``
destinations subscribed to the trigger receive notifications.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gzip
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .webhook_payloads import TEST_EVENT_SECRET, dumps, mock_object, sign
from .webhook_state import (
    DELIVERING_STATUSES,
    ClockLike,
    DeliveryAttempt,
    Pending,
    WebhookHubError,
    WebhookState,
)

__all__ = ["MAX_ANSWER_BYTES", "WebhookHub", "read_answer"]

_log = logging.getLogger("scheduler_async.emulator")

#: The most the emulator reads of a destination's answer (challenge, notification or test
#: event); the challenge needs only the echoed value.  Past it the connection is dropped.
MAX_ANSWER_BYTES = 4096


async def read_answer(resp: aiohttp.ClientResponse, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """At most ``limit`` bytes of ``resp``'s body; an answer longer than that is cut off and
    its connection closed (never reused), so a destination cannot make the emulator buffer an
    unbounded body."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await resp.content.read(limit - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    if not resp.content.at_eof():
        resp.close()
    return b"".join(chunks)


@dataclass(eq=False)
class _Job:
    """One attempt handed to a destination's lane."""

    pending: Pending
    done: asyncio.Future[DeliveryAttempt | None] = field(repr=False)
    era: int = 0  # the hub's era when it was taken from the queue
    started: bool = False


class WebhookHub(WebhookState):
    """Webhook destinations plus clock-driven, signed, retried delivery.

    ``clock`` is anything with ``now() -> int`` (the emulator's ``Clock``/``FakeClock``).
    ``retry_delays[i]`` is the business-time wait before attempt ``i + 2`` (3 attempts in all
    by default, the last 15 minutes after the first). ``timeout`` bounds each POST and the
    challenge GET (seconds, wall time).
    """

    def __init__(
        self,
        clock: ClockLike,
        *,
        application_id: str = "scheduler-emulator",
        retry_delays: Iterable[int] = (300, 600),
        timeout: float = 10.0,
        max_log: int = 10_000,
        poll_interval: float = 1.0,
        ip_addresses: Iterable[str] = ("127.0.0.1",),
    ) -> None:
        super().__init__(
            clock,
            application_id=application_id,
            retry_delays=retry_delays,
            max_log=max_log,
            ip_addresses=ip_addresses,
        )
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._session: aiohttp.ClientSession | None = None
        self._lanes: dict[str, collections.deque[_Job]] = {}
        self._lane_tasks: dict[str, asyncio.Task[None]] = {}
        self._unsettled: set[_Job] = set()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the background delivery worker on the running loop (``on_startup``)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._worker is None:
            self._worker = self._loop.create_task(self._run_worker())

    async def close(self) -> None:
        """Stop the worker and close the HTTP session (``on_cleanup``)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for task in list(self._lane_tasks.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job in self._unsettled:
            job.done.cancel()
        self._lanes.clear()
        self._lane_tasks.clear()
        self._unsettled.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._loop = None
        self._wake = None

    def wake(self) -> None:
        """Ask the worker to look for due deliveries now (safe from any thread)."""
        loop, event = self._loop, self._wake
        if loop is None or event is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    async def _run_worker(self) -> None:
        assert self._wake is not None
        while True:
            timeout = self.poll_interval if (self._queue or self._reminders) else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            self._dispatch_due()

    def session(self) -> aiohttp.ClientSession:
        """The hub's HTTP client session (created on first use, closed by :meth:`close`)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": "scheduler-emulator-webhooks"}
            )
        return self._session

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout)

    # ------------------------------------------------------------------ destinations

    async def verify_destination(self, url: str) -> None:
        """The creation handshake: GET ``url?challenge=...`` must answer 200 with the value."""
        challenge = secrets.token_urlsafe(16)
        try:
            async with self.session().get(
                url, params={"challenge": challenge}, timeout=self._timeout()
            ) as resp:
                text = (await read_answer(resp)).decode("utf-8", errors="replace")
                status = resp.status
        except TimeoutError:
            raise WebhookHubError.unverified(f"timed out after {self.timeout:g}s") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise WebhookHubError.unverified(f"request failed: {type(exc).__name__}") from None
        if status != 200:
            raise WebhookHubError.unverified(f"status is not ok, got {status}")
        if text.strip() != challenge:
            raise WebhookHubError.unverified("response body did not match the challenge")

    # ------------------------------------------------------------------ delivery

    @property
    def pending(self) -> int:
        """Delivery attempts waiting (due or not), including those handed to a lane."""
        return len(self._queue) + len(self._unsettled)

    def _dispatch_due(self) -> None:
        """Fire due reminders and hand every attempt due now to its destination's lane."""
        loop = asyncio.get_running_loop()
        due, era = self._take_due(self.clock.now())
        for p in due:
            job = _Job(p, loop.create_future(), era)
            self._lanes.setdefault(p.webhook_id, collections.deque()).append(job)
            self._unsettled.add(job)
            task = self._lane_tasks.get(p.webhook_id)
            if task is None or task.done():
                self._lane_tasks[p.webhook_id] = loop.create_task(self._run_lane(p.webhook_id))

    async def _run_lane(self, webhook_id: str) -> None:
        # One destination's attempts, one at a time in due order; exits when its queue is empty.
        lane = self._lanes[webhook_id]
        try:
            while lane:
                job = lane.popleft()
                job.started = True
                attempt: DeliveryAttempt | None = None
                try:
                    attempt = await self._send(job.pending, job.era)
                except asyncio.CancelledError:
                    job.done.cancel()
                    self._unsettled.discard(job)
                    raise
                except Exception:  # never let one bad attempt stop the lane
                    _log.exception("webhook delivery to %s failed", webhook_id)
                finally:
                    if not job.done.done():
                        job.done.set_result(attempt)
                    self._unsettled.discard(job)
        finally:
            if self._lane_tasks.get(webhook_id) is asyncio.current_task():
                del self._lane_tasks[webhook_id]
                if not lane:
                    self._lanes.pop(webhook_id, None)

    async def deliver_due(self) -> list[DeliveryAttempt]:
        """Fire due reminders and send every attempt due at ``clock.now()``; return the attempts
        that finished meanwhile.

        Each destination has its own lane: its attempts go one at a time in due order, and a
        slow or hanging destination never delays another one.  This waits for every attempt
        handed to a lane (now or by the background worker) to finish, but for at most
        :attr:`timeout` seconds; attempts already under way then are awaited too (each is
        bounded by :attr:`timeout`), so the call never takes more than two per-attempt timeouts.
        Attempts still queued behind a hanging one keep going in the background (see the log).
        """
        self._dispatch_due()
        jobs = list(self._unsettled)
        if jobs:
            await asyncio.wait([j.done for j in jobs], timeout=self.timeout)
            under_way = [j.done for j in jobs if j.started and not j.done.done()]
            if under_way:
                await asyncio.wait(under_way)
        jobs.sort(key=lambda j: j.pending)
        return [
            a
            for a in (j.done.result() for j in jobs if j.done.done() and not j.done.cancelled())
            if a is not None
        ]

    async def _send(self, p: Pending, era: int) -> DeliveryAttempt | None:
        hook = self.webhooks.get(p.webhook_id)
        if hook is None or hook.status not in DELIVERING_STATUSES:
            return None  # deleted or paused since: dropped
        env = dict(p.envelope, webhook_delivery_attempt=p.attempt)
        body = dumps(env)
        headers = {"Content-Type": "application/json"}
        if hook.compressed_delivery:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["X-Nylas-Signature"] = sign(body, hook.secret)
        attempt = DeliveryAttempt(
            notification_id=p.notification_id,
            webhook_id=hook.id,
            trigger=p.trigger,
            attempt=p.attempt,
            webhook_url=hook.webhook_url,
            at=self.clock.now(),
            copy=p.copy,
        )
        try:
            async with self.session().post(
                hook.webhook_url, data=body, headers=headers, timeout=self._timeout()
            ) as resp:
                await read_answer(resp)
                attempt.status = resp.status
                attempt.ok = 200 <= resp.status < 300
                if not attempt.ok:
                    attempt.error = f"status {resp.status}"
        except TimeoutError:
            attempt.error = "timeout"
        except (aiohttp.ClientError, ValueError) as exc:
            attempt.error = type(exc).__name__
        self._settle(p, hook, attempt, era)
        return attempt

    # ------------------------------------------------------------------ test events

    def mock_payload(self, trigger: str) -> dict[str, Any]:
        """An example notification envelope for ``trigger`` (booking triggers get the sample)."""
        env = self.envelope(trigger, mock_object(trigger))
        env["id"] = "mock-id"
        return env

    async def send_test_event(self, url: str, trigger: str) -> bool:
        """POST a mock notification signed with ``mock-webhook-secret``; True on a 2xx."""
        body = dumps(self.mock_payload(trigger))
        headers = {
            "Content-Type": "application/json",
            "X-Nylas-Signature": sign(body, TEST_EVENT_SECRET),
        }
        try:
            async with self.session().post(
                url, data=body, headers=headers, timeout=self._timeout()
            ) as resp:
                await read_answer(resp)
                return 200 <= resp.status < 300
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return False
