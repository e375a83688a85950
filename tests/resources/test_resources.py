"""The resource namespaces against aioresponses: exact wire requests, argument checks."""

from __future__ import annotations

import inspect
import json
import re
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from yarl import URL

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    ConfigurationAvailability,
    EventBooking,
    Guest,
)
from scheduler_async.resources import AsyncBookingsWithResponse
from tests.helpers import (
    BASE,
    BOOKING_JSON,
    CONFIG_JSON,
    KEY,
    RID,
    SESSION,
    auth_of,
    only_call,
    seed_participant,
    sent_json,
)


# ---------------------------------------------------------------- configurations
async def test_configuration_create_sends_the_seed_body(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations"
    mock.post(url, payload={"request_id": RID, "data": CONFIG_JSON})
    config = await client.configurations.create(
        requires_session_auth=False,
        participants=[seed_participant()],
        availability=ConfigurationAvailability(duration_minutes=30),
        event_booking=EventBooking(title="My test event"),
    )
    kwargs = only_call(mock, "POST", url)
    expected = {k: v for k, v in CONFIG_JSON.items() if k != "id"}
    assert sent_json(kwargs) == expected
    assert auth_of(kwargs) == f"Bearer {KEY}"
    assert kwargs["headers"]["Content-Type"] == "application/json"
    assert config.id == "AAAA-BBBB-1111-2222"
    assert config.participants[0].availability is not None
    assert config.participants[0].availability.calendar_ids == ("primary",)


async def test_configuration_get_update_delete(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations/AAAA-BBBB-1111-2222"
    mock.get(url, payload={"request_id": RID, "data": CONFIG_JSON})
    mock.put(url, payload={"request_id": RID, "data": {**CONFIG_JSON, "name": "Renamed"}})
    mock.delete(url, payload={"request_id": RID})
    got = await client.configurations.get("AAAA-BBBB-1111-2222")
    assert got.event_booking.title == "My test event"
    updated = await client.configurations.update("AAAA-BBBB-1111-2222", name="Renamed")
    assert updated.name == "Renamed"
    assert sent_json(only_call(mock, "PUT", url)) == {"name": "Renamed"}
    assert await client.configurations.delete("AAAA-BBBB-1111-2222") is None
    resp = mock.requests[("DELETE", URL(url))][0].kwargs
    assert auth_of(resp) == f"Bearer {KEY}"
    assert resp["data"] is None


async def test_configuration_list_walks_every_page(client: AsyncScheduler, mock: Any) -> None:
    base = f"{BASE}/v3/grants/grant-1/scheduling/configurations"
    mock.get(
        f"{base}?limit=2",
        payload={
            "request_id": "r1",
            "data": [{**CONFIG_JSON, "id": "c1"}, {**CONFIG_JSON, "id": "c2"}],
            "next_cursor": "CUR2",
        },
    )
    mock.get(
        f"{base}?limit=2&page_token=CUR2",
        payload={"request_id": "r2", "data": [{**CONFIG_JSON, "id": "c3"}], "next_cursor": None},
    )
    ids = [c.id async for c in client.configurations.list(limit=2)]
    assert ids == ["c1", "c2", "c3"]
    mock.get(f"{base}?limit=2", payload={"request_id": "r3", "data": [], "next_cursor": "X"})
    page = await client.configurations.list_page(limit=2)
    assert page.data == () and page.next_cursor == "X" and page.has_next_page


async def test_configuration_seed_form_with_upper_id_is_tolerated(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations/x"
    seed = {k: v for k, v in CONFIG_JSON.items() if k != "id"} | {"ID": "AAAA-BBBB-1111-2222"}
    mock.get(url, payload={"request_id": RID, "data": seed})
    assert (await client.configurations.get("x")).id == "AAAA-BBBB-1111-2222"


# ---------------------------------------------------------------- sessions
async def test_session_create_and_delete(client: AsyncScheduler, mock: Any) -> None:
    mock.post(
        f"{BASE}/v3/scheduling/sessions",
        payload={"request_id": RID, "data": {"session_id": SESSION}},
    )
    session = await client.sessions.create(configuration_id="AAAA-BBBB-1111-2222", time_to_live=10)
    kwargs = only_call(mock, "POST", f"{BASE}/v3/scheduling/sessions")
    assert sent_json(kwargs) == {"configuration_id": "AAAA-BBBB-1111-2222", "time_to_live": 10}
    assert auth_of(kwargs) == f"Bearer {KEY}"
    assert session.session_id == SESSION
    assert SESSION not in repr(session)
    mock.delete(f"{BASE}/v3/scheduling/sessions/{SESSION}", payload={"request_id": RID})
    await client.sessions.delete(SESSION)
    assert auth_of(only_call(mock, "DELETE", f"{BASE}/v3/scheduling/sessions/{SESSION}")) == (
        f"Bearer {KEY}"
    )


# ---------------------------------------------------------------- availability
AVAIL = {
    "request_id": RID,
    "data": {
        "order": ["user1@example.com", "user2@example.com"],
        "time_slots": [
            {
                "emails": ["user2@example.com", "user1@example.com"],
                "start_time": 1659367800,
                "end_time": 1659369600,
            },
            {"emails": ["user1@example.com"], "start_time": 1659376800, "end_time": 1659378600},
        ],
    },
}


async def test_availability_with_session_token(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=1709643600&end_time=1709665200"
    mock.get(url, payload=AVAIL)
    avail = await client.availability.get(
        start_time=1709643600, end_time=1709665200, session_id=SESSION
    )
    assert auth_of(only_call(mock, "GET", url)) == f"Bearer {SESSION}"
    assert avail.order == ("user1@example.com", "user2@example.com")
    assert [s.start_time for s in avail.time_slots] == [1659367800, 1659376800]
    assert avail.time_slots[0].start == datetime(2022, 8, 1, 15, 30, tzinfo=UTC)


async def test_availability_public_by_configuration_id_sends_no_auth(
    client: AsyncScheduler, mock: Any
) -> None:
    url = (
        f"{BASE}/v3/scheduling/availability?start_time=1709643600&end_time=1709665200"
        "&configuration_id=CFG"
    )
    mock.get(url, payload={"request_id": RID, "data": {"time_slots": None}})
    start = datetime(2024, 3, 5, 13, 0, tzinfo=UTC)
    avail = await client.availability.get(
        start_time=start, end_time=start + timedelta(hours=6), configuration_id="CFG"
    )
    assert auth_of(only_call(mock, "GET", url)) is None
    assert avail.time_slots == () and avail.order is None


async def test_availability_public_by_slug(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=10&end_time=20&slug=my-slug&client_id=app"
    mock.get(url, payload={"request_id": RID, "data": {"time_slots": []}})
    await client.availability.get(start_time=10, end_time=20, slug="my-slug", client_id="app")
    assert auth_of(only_call(mock, "GET", url)) is None


# ---------------------------------------------------------------- bookings
async def test_booking_create_public_and_session(client: AsyncScheduler, mock: Any) -> None:
    body = {
        "start_time": 1709643600,
        "end_time": 1709645400,
        "participants": [],
        "guest": {"name": "Jane Doe", "email": "jane.doe@example.com"},
    }
    url_pub = f"{BASE}/v3/scheduling/bookings?configuration_id=CFG"
    mock.post(url_pub, payload={"request_id": RID, "data": {"booking_id": "AAAA-XXXX-1111-2222"}})
    booking = await client.bookings.create(
        start_time=1709643600,
        end_time=1709645400,
        participants=[],
        guest=Guest(name="Jane Doe", email="jane.doe@example.com"),
        configuration_id="CFG",
    )
    kwargs = only_call(mock, "POST", url_pub)
    assert sent_json(kwargs) == body
    assert auth_of(kwargs) is None
    assert booking.booking_id == "AAAA-XXXX-1111-2222" and booking.status is None

    url = f"{BASE}/v3/scheduling/bookings"
    mock.post(url, payload={"request_id": RID, "data": BOOKING_JSON})
    booking = await client.bookings.create(
        start_time=1709643600,
        end_time=1709645400,
        guest=Guest(name="Jane Doe", email="jane.doe@example.com"),
        session_id=SESSION,
    )
    assert auth_of(only_call(mock, "POST", url)) == f"Bearer {SESSION}"
    assert booking.status is sa.BookingStatus.BOOKED
    assert booking.organizer is not None and booking.organizer.email == "nylas_test_8"


async def test_booking_get_reschedule_confirm_cancel_delete(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, payload={"request_id": RID, "data": BOOKING_JSON})
    assert (await client.bookings.get("BK1", configuration_id="CFG")).title == "My test event"

    mock.patch(url, payload={"request_id": RID})
    resp = await client.bookings.with_response.reschedule(
        "BK1", start_time=1708714800, end_time=1708722000, configuration_id="CFG"
    )
    assert resp.data is None and resp.request_id == RID and resp.status_code == 200
    assert sent_json(only_call(mock, "PATCH", url)) == {
        "start_time": 1708714800,
        "end_time": 1708722000,
    }

    mock.put(url, payload={"request_id": RID, "data": {**BOOKING_JSON, "status": "booked"}})
    confirmed = await client.bookings.confirm("BK1", salt="c2FsdA", configuration_id="CFG")
    assert confirmed.status == "booked"
    mock.put(url, payload={"request_id": RID})
    assert (
        await client.bookings.cancel(
            "BK1", salt="c2FsdA", cancellation_reason="no", configuration_id="CFG"
        )
        is None
    )
    puts = mock.requests[("PUT", URL(url))]
    assert [json.loads(c.kwargs["data"]) for c in puts] == [
        {"salt": "c2FsdA", "status": "confirmed"},
        {"salt": "c2FsdA", "status": "cancelled", "cancellation_reason": "no"},
    ]

    mock.delete(url, payload={"request_id": "5967ca40-a2d8-4ee0-a0e0-6f18ace39a90"})
    await client.bookings.delete("BK1", cancellation_reason="sick", configuration_id="CFG")
    assert sent_json(only_call(mock, "DELETE", url)) == {"cancellation_reason": "sick"}


# ---------------------------------------------------------------- arguments
async def test_bad_arguments_fail_before_io(client: AsyncScheduler, mock: Any) -> None:
    naive = datetime(2024, 1, 1, 9, 0)
    with pytest.raises(ValueError, match="naive"):
        await client.availability.get(
            start_time=naive, end_time=naive + timedelta(hours=1), configuration_id="c"
        )
    with pytest.raises(ValueError, match="before"):
        await client.availability.get(start_time=20, end_time=10, configuration_id="c")
    with pytest.raises(TypeError, match="bool"):
        await client.availability.get(start_time=True, end_time=10, configuration_id="c")
    with pytest.raises(ValueError, match="empty"):
        await client.bookings.get("", configuration_id="c")
    with pytest.raises(ValueError, match="exactly one"):
        await client.bookings.get("b")
    with pytest.raises(ValueError, match="exactly one"):
        await client.bookings.get("b", session_id="s", configuration_id="c")
    with pytest.raises(ValueError, match="client_id"):
        await client.bookings.get("b", slug="s")
    with pytest.raises(TypeError):
        await client.sessions.create(configuration_id="c", time_to_live=True)
    with pytest.raises(ValueError, match="30"):
        await client.sessions.create(configuration_id="c", time_to_live=31)
    with pytest.raises(ValueError):
        await client.bookings.get("..", configuration_id="c")
    with pytest.raises(TypeError):
        await client.configurations.list_page(limit=True)
    assert not mock.requests


async def test_path_ids_are_percent_encoded(client: AsyncScheduler, mock: Any) -> None:
    mock.get(re.compile(r".*"), payload={"request_id": "r", "data": BOOKING_JSON}, repeat=True)
    await client.bookings.get("../grants/x", configuration_id="c")
    await client.bookings.get("a b?c#d", configuration_id="c")
    paths = [key[1].raw_path for key in mock.requests]
    assert "/v3/scheduling/bookings/..%2Fgrants%2Fx" in paths
    assert "/v3/scheduling/bookings/a%20b%3Fc%23d" in paths


async def test_aware_datetimes_in_any_zone(client: AsyncScheduler, mock: Any) -> None:
    url = (
        f"{BASE}/v3/scheduling/availability"
        "?start_time=1709643600&end_time=1709665200&configuration_id=c"
    )
    mock.get(url, payload={"request_id": "r", "data": {"time_slots": []}})
    tz = timezone(timedelta(hours=-5))
    await client.availability.get(
        start_time=datetime(2024, 3, 5, 8, 0, tzinfo=tz),
        end_time=datetime(2024, 3, 5, 14, 0, tzinfo=tz),
        configuration_id="c",
    )
    assert only_call(mock, "GET", url) is not None


async def test_missing_credentials_are_typed_errors(mock: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("NYLAS_API_KEY", raising=False)
    monkeypatch.delenv("NYLAS_GRANT_ID", raising=False)
    async with AsyncScheduler(base_url=BASE) as c:
        with pytest.raises(sa.MissingCredentialsError, match="grant"):
            await c.configurations.get("x")
        with pytest.raises(sa.MissingCredentialsError, match="API key"):
            await c.sessions.create(configuration_id="x")


async def test_environment_configures_the_client(monkeypatch: Any, mock: Any) -> None:
    monkeypatch.setenv("NYLAS_API_KEY", KEY)
    monkeypatch.setenv("NYLAS_GRANT_ID", "env-grant")
    monkeypatch.setenv("NYLAS_API_URI", "https://env.test/")
    url = "https://env.test/v3/grants/env-grant/scheduling/configurations/c"
    mock.get(url, payload={"request_id": "r", "data": CONFIG_JSON})
    async with AsyncScheduler() as c:
        assert c.base_url == "https://env.test"
        await c.configurations.get("c")
    assert auth_of(only_call(mock, "GET", url)) == f"Bearer {KEY}"


def test_regions() -> None:
    assert AsyncScheduler(region="eu").base_url == "https://api.eu.nylas.com"
    assert AsyncScheduler().base_url.startswith("https://api.")
    with pytest.raises(ValueError):
        AsyncScheduler(region="mars")  # type: ignore[arg-type]


# ---------------------------------------------------------------- one declaration per endpoint
def _endpoint_pairs() -> list[tuple[Any, Any]]:
    from scheduler_async import resources

    pairs = []
    for name in resources.__all__:
        if not name.endswith("WithResponse"):
            continue
        declared, derived = (
            getattr(resources, name),
            getattr(resources, name[: -len("WithResponse")]),
        )
        for attr, fn in vars(declared).items():
            if not attr.startswith("_") and inspect.iscoroutinefunction(fn):
                pairs.append((fn, vars(derived)[attr]))
    return pairs


@pytest.mark.parametrize(("declared", "derived"), _endpoint_pairs(), ids=lambda f: f.__qualname__)
def test_plain_methods_are_derived_with_exact_signatures(declared: Any, derived: Any) -> None:
    assert inspect.iscoroutinefunction(derived) and derived.__wrapped__ is declared
    assert derived.__doc__ == declared.__doc__ and derived.__name__ == declared.__name__
    assert derived.__qualname__ == declared.__qualname__.replace("WithResponse", "")
    dsig, psig = inspect.signature(declared), inspect.signature(derived)
    assert psig.parameters == dsig.parameters
    assert dsig.return_annotation == f"APIResponse[{psig.return_annotation}]"
    hints = typing.get_type_hints(derived)
    assert hints["return"] == typing.get_args(typing.get_type_hints(declared)["return"])[0]


async def test_plain_calls_return_the_data_of_with_response(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, payload={"request_id": RID, "data": BOOKING_JSON}, repeat=True)
    booking = await client.bookings.get("BK1", configuration_id="CFG")
    assert isinstance(booking, sa.Booking) and booking.title == "My test event"
    resp = await client.bookings.with_response.get("BK1", configuration_id="CFG")
    assert resp.data == booking and resp.request_id == RID
    assert isinstance(client.bookings.with_response, AsyncBookingsWithResponse)


def test_bulk_all_forms_share_the_collect_adapter() -> None:
    from scheduler_async.resources import AsyncAvailability, AsyncBookings

    for cls, name in ((AsyncAvailability, "sweep"), (AsyncBookings, "create_many")):
        gen, collected = vars(cls)[name], vars(cls)[f"{name}_all"]
        assert inspect.isasyncgenfunction(gen) and inspect.iscoroutinefunction(collected)
        gsig, csig = inspect.signature(gen), inspect.signature(collected)
        assert csig.parameters == gsig.parameters
        item = gsig.return_annotation.removeprefix("AsyncIterator[").removesuffix("]")
        assert csig.return_annotation == f"list[{item}]"
        assert collected.__qualname__ == f"{cls.__name__}.{name}_all"
        assert f":meth:`{name}`" in (collected.__doc__ or "")


def test_layers_import_aiohttp_only_in_the_transport() -> None:
    """Resources, models and argument checks never import aiohttp (or the transport's
    internals) at run time; annotations import under ``TYPE_CHECKING``."""
    import ast
    from pathlib import Path

    root = Path(sa.__file__).parent
    # the transport and its two helpers: aiohttp's exceptions (_failures), yarl URLs (_wire)
    allowed = {"_transport.py", "_failures.py", "_wire.py", "refresh.py", "demo.py", "__main__.py"}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("emulator/") or path.name in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level, outside `if TYPE_CHECKING:`
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.module == "_transport" or (node.module or "").endswith("._transport"):
                    imported = {a.name for a in node.names}
                    assert imported <= {"Request", "Response", "Transport"}, (rel, imported)
            assert not any(n.split(".")[0] in ("aiohttp", "yarl") for n in names), rel
    for name in ("_args.py", "_auth.py"):  # argument checks never reach the transport
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any("_transport" in m or "aiohttp" in m for m in modules), name
