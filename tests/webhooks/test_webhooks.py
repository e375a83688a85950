"""scheduler_async.webhooks: signatures, notification parsing, the neutral handler, the receiver."""

from __future__ import annotations

import asyncio
import base64
import copy
import gzip
import hashlib
import hmac
import json
import subprocess
import sys
import uuid
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from scheduler_async.booking_ref import BookingRef
from scheduler_async.errors import SchedulerError
from scheduler_async.models.enums import BookingType
from scheduler_async.webhooks import (
    AnyNotification,
    BookingCancelled,
    BookingCreated,
    BookingNotification,
    BookingPending,
    BookingReminder,
    BookingRescheduled,
    Notification,
    NotificationDeduper,
    WebhookPayloadError,
    WebhookReceiver,
    WebhookSignatureError,
    compute_signature,
    handle_webhook_request,
    parse_notification,
    verify_signature,
    webhook_app,
)

SECRET = "41dD3-nXTUfebYuk81Gr"
CFG = uuid.UUID("9a4e8b3c-2f1d-4c6b-8e7a-5d3c2b1a0f9e")
BKG = uuid.UUID("1b2c3d4e-5f60-4718-89ab-cdef01234567")
REF = base64.urlsafe_b64encode(CFG.bytes + BKG.bytes + b"salt-bytes").rstrip(b"=").decode()


def hexsig(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- fact-sheet samples


def created_sample() -> dict[str, Any]:
    """The fact sheet §1.5 assembled ``booking.created`` sample, with a real booking_ref."""
    return {
        "specversion": "1.0",
        "type": "booking.created",
        "source": "/nylas/passthru",
        "id": "notif-1",
        "time": 1719838800,
        "webhook_delivery_attempt": 1,
        "data": {
            "application_id": "app-1",
            "object": {
                "booking_id": str(BKG),
                "booking_ref": REF,
                "configuration_id": str(CFG),
                "object": "booking",
                "booking_info": {
                    "event_id": "ev-1",
                    "start_time": 1719842400,
                    "end_time": 1719846000,
                    "participants": [
                        {"email": "leyah@example.com", "name": "Leyah Miller"},
                        {"email": "nyla@example.com", "name": "Nyla"},
                    ],
                    "additional_fields": {"phone": "+1-415-555-0137", "company": "Nylas Inc."},
                    "hide_cancellation_options": False,
                    "hide_rescheduling_options": False,
                    "participant_rescheduling_url": f"https://example.com/reschedule/{REF}",
                    "participant_cancellation_url": f"https://example.com/cancel/{REF}",
                    "host_language": "en",
                    "guest_language": "en",
                    "title": "Project sync with Leyah",
                    "duration": 60,
                    "location": "https://meet.google.com/abc-defg-hij",
                    "organizer_timezone": "America/Toronto",
                    "guest_timezone": "America/Toronto",
                    "is_group_event": False,
                    "organizer_calendar_id": "primary",
                    "event_description": "Discuss Q3 roadmap and next steps",
                    "event_html_link": "https://calendar.google.com/calendar/event?eid=abc123",
                    "ical_uid": "040000008200E00074C5B7101A82E008",
                    "host_confirmation_url": f"https://example.com/confirm/{REF}",
                },
            },
        },
    }


def sample(trigger: str) -> dict[str, Any]:
    env = copy.deepcopy(created_sample())
    env["type"] = trigger
    obj = env["data"]["object"]
    info = obj["booking_info"]
    if trigger == "booking.pending":
        del obj["object"]
        obj["booking_type"] = "organizer-confirmation"
        info["title"] = "[PENDING] Project sync"
    elif trigger == "booking.rescheduled":
        info.update(old_start_time=1719839400, old_end_time=1719843000)
    elif trigger == "booking.cancelled":
        del obj["object"], obj["booking_ref"]
        info["cancellation_reason"] = "Conflicting appointment"
    elif trigger == "booking.reminder":
        del obj["object"], obj["booking_ref"]
        info.update(time_until_event=3600, organizer_email="nyla@example.com", provider="google")
    return env


# --------------------------------------------------------------------------- signatures


def test_signature_vector_independent() -> None:
    body = json.dumps(created_sample()).encode()
    expected = hmac.new(SECRET.encode("utf-8"), body, hashlib.sha256).hexdigest()
    assert compute_signature(body, SECRET) == expected
    assert compute_signature(body.decode(), SECRET.encode()) == expected
    verify_signature(body, expected, SECRET)
    verify_signature(body.decode(), expected.encode(), SECRET.encode())
    verify_signature(body, expected.upper(), SECRET)
    verify_signature(body, "sha256=" + expected, SECRET)


def test_known_vector() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    sig = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    verify_signature(b"what do ya want for nothing?", sig, "Jefe")


def test_tampered_body_and_wrong_secret() -> None:
    body = json.dumps(created_sample()).encode()
    sig = hexsig(body)
    with pytest.raises(WebhookSignatureError) as err:
        verify_signature(body.replace(b"Leyah", b"Mallory"), sig, SECRET)
    assert SECRET not in str(err.value) and sig not in str(err.value)
    with pytest.raises(WebhookSignatureError) as err:
        verify_signature(body, sig, "another-secret")
    assert "another-secret" not in str(err.value)
    for missing in (None, "", "sha256="):
        with pytest.raises(WebhookSignatureError):
            verify_signature(body, missing, SECRET)
    assert issubclass(WebhookSignatureError, SchedulerError)


def test_rotation_accepts_any_listed_secret() -> None:
    body = b'{"x":1}'
    old, new = "old-secret", "new-secret"
    verify_signature(body, hexsig(body, old), [old, new])
    verify_signature(body, hexsig(body, new), (new, old))
    verify_signature(body, hexsig(body, new), lambda: [old, new])
    with pytest.raises(WebhookSignatureError):
        verify_signature(body, hexsig(body, "third"), [old, new])
    with pytest.raises(ValueError):
        verify_signature(body, hexsig(body, old), [])
    with pytest.raises(ValueError):
        verify_signature(body, hexsig(body, old), "")


@pytest.mark.parametrize("matching", [0, 1, 2, None])
def test_every_secret_of_a_rotation_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, matching: int | None
) -> None:
    """hmac.compare_digest runs once per listed secret, wherever the match is (or none)."""
    body = b'{"x":1}'
    keys = ["first-secret", "second-secret", "third-secret"]
    sig = hexsig(body, keys[matching] if matching is not None else "another-secret")
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        compared.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    if matching is None:
        with pytest.raises(WebhookSignatureError):
            verify_signature(body, sig, keys)
    else:
        verify_signature(body, sig, keys)
    expected = {hexsig(body, key).encode() for key in keys}
    assert len(compared) == len(keys)
    assert {pair for pair in compared} == {(e, sig.encode()) for e in expected}


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("trigger", "cls"),
    [
        ("booking.created", BookingCreated),
        ("booking.pending", BookingPending),
        ("booking.rescheduled", BookingRescheduled),
        ("booking.cancelled", BookingCancelled),
        ("booking.reminder", BookingReminder),
    ],
)
def test_payload_round_trip(trigger: str, cls: type[Any]) -> None:
    from scheduler_async._convert import unstructure

    raw = sample(trigger)
    n = parse_notification(json.dumps(raw).encode())
    assert type(n) is cls and isinstance(n, BookingNotification)
    assert n.type == trigger and n.id == "notif-1" and n.time == 1719838800
    assert n.webhook_delivery_attempt == 1
    assert n.data.application_id == "app-1"
    b = n.booking
    assert (b.booking_id, b.configuration_id) == (str(BKG), str(CFG))
    if "booking_ref" in raw["data"]["object"]:
        assert b.booking_ref == BookingRef(
            configuration_id=str(CFG),
            booking_id=str(BKG),
            salt=base64.urlsafe_b64encode(b"salt-bytes").rstrip(b"=").decode(),
        )
    else:
        assert b.booking_ref is None
    info = b.booking_info
    assert info.participants is not None and info.participants[0].name == "Leyah Miller"
    assert info.additional_fields == {"phone": "+1-415-555-0137", "company": "Nylas Inc."}
    assert unstructure(n) == raw  # nothing lost, nothing added
    assert parse_notification(raw) == n  # a dict works too


def test_trigger_specific_fields() -> None:
    p = parse_notification(sample("booking.pending"))
    assert isinstance(p, BookingPending)
    assert p.booking.booking_type is BookingType.ORGANIZER_CONFIRMATION
    r = parse_notification(sample("booking.rescheduled"))
    assert isinstance(r, BookingRescheduled)
    assert r.booking.booking_info.old_start_time == 1719839400
    c = parse_notification(sample("booking.cancelled"))
    assert isinstance(c, BookingCancelled)
    assert c.booking.booking_info.cancellation_reason == "Conflicting appointment"
    m = parse_notification(sample("booking.reminder"))
    assert isinstance(m, BookingReminder)
    assert m.booking.booking_info.time_until_event == 3600


def test_nulls_and_unknown_fields_tolerated() -> None:
    raw = sample("booking.created")
    raw["data"]["object"]["booking_info"].update(participants=None, additional_fields=None)
    raw["data"]["object"]["booking_info"]["brand_new"] = {"x": 1}
    raw["extension"] = "yes"
    n = parse_notification(raw)
    assert isinstance(n, BookingCreated)
    assert n.booking.booking_info.participants is None


@pytest.mark.parametrize("kind", ["event.created", "booking.created.truncated", "booking.future"])
def test_unknown_trigger_is_generic(kind: str) -> None:
    raw = {
        "specversion": "1.0",
        "type": kind,
        "source": "/nylas/system",
        "id": "n-9",
        "time": 1,
        "data": {"object": {"anything": [1, 2]}},
    }
    n = parse_notification(json.dumps(raw))
    assert type(n) is Notification
    assert n.data == {"object": {"anything": [1, 2]}}
    assert n.webhook_delivery_attempt is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.__setitem__("time", "1719838800"),
        lambda e: e.__delitem__("id"),
        lambda e: e.__setitem__("type", 7),
        lambda e: e["data"]["object"].__setitem__("booking_ref", "<BOOKING_REFERENCE>"),
        lambda e: e["data"]["object"]["booking_info"].__setitem__("duration", "60"),
        lambda e: e["data"]["object"]["booking_info"].__setitem__("is_group_event", "false"),
        lambda e: e["data"]["object"].__delitem__("booking_info"),
    ],
)
def test_strict_types(mutate: Any) -> None:
    raw = sample("booking.created")
    mutate(raw)
    with pytest.raises(WebhookPayloadError):
        parse_notification(json.dumps(raw))


@pytest.mark.parametrize("body", [b"", b"not json", b"[1,2]", b'"s"', b"\xff\xfe"])
def test_bad_bodies(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_notification(body)
    assert issubclass(WebhookPayloadError, ValueError)


# --------------------------------------------------------------------------- neutral handler


def signed(raw: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(raw).encode()
    return body, {"X-Nylas-Signature": hexsig(body, secret), "Content-Type": "application/json"}


def test_handle_challenge_and_methods() -> None:
    r = handle_webhook_request("GET", {"challenge": "abc123"}, {}, b"", secret=SECRET)
    assert (r.status, r.body, r.content_type) == (200, b"abc123", "text/plain")
    assert handle_webhook_request("GET", {}, {}, b"", secret=SECRET).status == 400
    assert handle_webhook_request("DELETE", {}, {}, b"", secret=SECRET).status == 405


def test_handle_post_paths() -> None:
    body, headers = signed(sample("booking.created"))
    dedupe = NotificationDeduper(2)
    ok = handle_webhook_request("POST", {}, headers, body, secret=SECRET, deduper=dedupe)
    assert ok.status == 200 and isinstance(ok.notification, BookingCreated)
    dup = handle_webhook_request("post", {}, headers, body, secret=SECRET, deduper=dedupe)
    assert dup.status == 200 and dup.duplicate and dup.notification is None
    lower = {"x-nylas-signature": headers["X-Nylas-Signature"]}
    assert handle_webhook_request("POST", {}, lower, body, secret=SECRET).notification is not None
    bad = handle_webhook_request("POST", {}, headers, body + b" ", secret=SECRET)
    assert bad.status == 401 and SECRET.encode() not in bad.body
    assert handle_webhook_request("POST", {}, {}, body, secret=SECRET).status == 401
    junk = b"{not json"
    r = handle_webhook_request("POST", {}, {"X-Nylas-Signature": hexsig(junk)}, junk, secret=SECRET)
    assert r.status == 400
    big = handle_webhook_request("POST", {}, headers, body, secret=SECRET, max_body_bytes=10)
    assert big.status == 413


def test_handle_gzip_signed_over_compressed_body() -> None:
    raw = json.dumps(sample("booking.cancelled")).encode()
    body = gzip.compress(raw)
    headers = {"X-Nylas-Signature": hexsig(body), "Content-Encoding": "gzip"}
    r = handle_webhook_request("POST", {}, headers, body, secret=SECRET)
    assert isinstance(r.notification, BookingCancelled)
    wrong = {"X-Nylas-Signature": hexsig(raw), "Content-Encoding": "gzip"}
    assert handle_webhook_request("POST", {}, wrong, body, secret=SECRET).status == 401


def test_secret_source_read_per_request() -> None:
    """A callable secret may be empty until the webhook exists: challenge works, POST is 503."""
    known: list[str] = []
    receiver = WebhookReceiver(lambda n: asyncio.sleep(0), secret=lambda: known)
    challenge = receiver.handle("GET", {"challenge": "c1"}, {}, b"")
    assert (challenge.status, challenge.body) == (200, b"c1")
    body, headers = signed(sample("booking.created"))
    early = handle_webhook_request("POST", {}, headers, body, secret=lambda: known)
    assert early.status == 503 and early.notification is None
    known.append(SECRET)
    later = handle_webhook_request("POST", {}, headers, body, secret=lambda: known)
    assert later.status == 200 and isinstance(later.notification, BookingCreated)
    with pytest.raises(ValueError):
        WebhookReceiver(lambda n: asyncio.sleep(0), secret=[])  # a fixed source is checked early


def test_deduper_is_bounded_lru() -> None:
    d = NotificationDeduper(3)
    assert [d.check_and_add(x) for x in "abc"] == [False] * 3
    assert d.check_and_add("a") is True  # refreshes "a"
    assert d.check_and_add("d") is False  # evicts "b", the least recent
    assert len(d) == 3 and "b" not in d and "a" in d
    assert d.check_and_add("b") is False


def test_import_does_not_load_aiohttp_web() -> None:
    code = (
        "import sys, scheduler_async, scheduler_async.webhooks, scheduler_async.booking_ref;"
        "assert 'aiohttp.web' not in sys.modules, 'aiohttp.web imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- aiohttp receiver


async def test_receiver_on_loopback() -> None:
    got: list[AnyNotification] = []
    release = asyncio.Event()

    async def callback(n: AnyNotification) -> None:
        await release.wait()  # the answer must not wait for this
        got.append(n)

    receiver = WebhookReceiver(callback, secret=["old", SECRET])
    server = TestServer(receiver.app("/hook"), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            url = server.make_url("/hook")
            async with http.get(url, params={"challenge": "c-42"}) as resp:
                assert resp.status == 200 and await resp.text() == "c-42"
            body, headers = signed(sample("booking.created"))
            for _ in range(2):  # the second is a redelivery of the same id
                async with http.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 200
            assert receiver.pending == 1 and not got  # answered before the callback finished
            async with http.post(url, data=body + b" ", headers=headers) as resp:
                assert resp.status == 401
            junk = b"[]"
            async with http.post(
                url, data=junk, headers={"X-Nylas-Signature": hexsig(junk)}
            ) as resp:
                assert resp.status == 400
            async with http.put(url, data=body, headers=headers) as resp:
                assert resp.status == 405
            release.set()
            await receiver.join()
    finally:
        await server.close()
    assert [n.id for n in got] == ["notif-1"]
    assert (receiver.handled, receiver.duplicates, receiver.failures) == (1, 1, 0)


async def test_receiver_callback_error_is_logged_and_cleanup_cancels(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def callback(n: AnyNotification) -> None:
        if n.id == "boom":
            raise RuntimeError("handler bug")
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    receiver = WebhookReceiver(callback, secret=SECRET)
    raw = sample("booking.created")
    raw["id"] = "boom"
    body, headers = signed(raw)
    assert receiver.handle("POST", {}, headers, body).status == 200
    await receiver.join()
    assert receiver.failures == 1
    assert "handler bug" in caplog.text and SECRET not in caplog.text
    body, headers = signed(sample("booking.created"))
    receiver.handle("POST", {}, headers, body)
    await started.wait()
    await receiver.aclose(grace=0)
    assert cancelled.is_set() and receiver.pending == 0


async def test_webhook_app_shorthand() -> None:
    seen: list[str] = []

    async def callback(n: AnyNotification) -> None:
        seen.append(n.type)

    server = TestServer(webhook_app(callback, secret=SECRET), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        body, headers = signed(sample("booking.reminder"))
        async with (
            aiohttp.ClientSession() as http,
            http.post(server.make_url("/webhook"), data=body, headers=headers) as r,
        ):
            assert r.status == 200
    finally:
        await server.close()  # on_cleanup waits for the callback
    assert seen == ["booking.reminder"]
