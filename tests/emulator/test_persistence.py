"""State that outlives the emulator: dump/load parts, snapshots, the SQLite state file."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from scheduler_async.emulator import Emulator, FakeClock, Store
from scheduler_async.emulator import persistence as persistence_module
from scheduler_async.emulator.persistence import StateFile, StateFileError
from scheduler_async.emulator.state_parts import (
    HUB_NOT_STATE,
    HUB_STATE,
    NOT_STATE,
    PARTS,
    SNAPSHOT_VERSION,
    SnapshotError,
    dump_state,
    encode_snapshot,
    load_state,
)

from .persist_support import CFGS, GRANT, GUEST, Receiver, build_world, observe, receiver
from .support import DAY, HOUR, KEY, T0, config_body


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def world(emu: Emulator, hook: Receiver) -> dict[str, str]:
    """Every kind of state on the shared emulator, one webhook attempt failed (retry pending)."""
    ids = build_world(emu, hook.url)
    emu.deliver_webhooks()
    assert emu.webhooks.pending > 0
    return ids


# --------------------------------------------------------------------------- parts


def test_every_store_attribute_belongs_to_a_part() -> None:
    store = Store(FakeClock(T0))
    hub = store.webhook_hub()
    covered = {a for p in PARTS for a in p.attrs}
    assert set(vars(store)) - NOT_STATE == covered, "a store attribute has no dump/load part"
    assert set(vars(hub)) - HUB_NOT_STATE == HUB_STATE, "a hub attribute is not persisted"


def test_every_part_round_trips(emu: Emulator, world: dict[str, str]) -> None:
    parts = dump_state(emu.store)
    assert set(parts) == {p.name for p in PARTS}
    for name, value in parts.items():
        assert value, f"the world leaves part {name!r} empty: extend build_world"
    copy = Store(FakeClock(0))
    load_state(copy, json.loads(json.dumps(parts)))
    again = dump_state(copy)
    for p in PARTS:
        assert again[p.name] == parts[p.name], p.name


def test_a_part_missing_from_the_data_loads_empty(store: Store) -> None:
    store.add_grant("g", email="a@example.com")
    load_state(store, {"clock": {"kind": "fake", "now": T0 + 5, "start": T0}})
    assert store.grants == {} and store.clock.now() == T0 + 5


# --------------------------------------------------------------------------- snapshots


def test_snapshot_restore_brings_back_every_answer(emu: Emulator, world: dict[str, str]) -> None:
    before = observe(emu, world)
    snap = emu.snapshot()
    requests.post(f"{emu.url}/_emulator/reset")
    emu.clock.advance(DAY)
    emu.restore(snap)
    assert observe(emu, world) == before
    emu.restore(snap)  # again (the parsed snapshot is reused): same state, fresh records
    assert observe(emu, world) == before


def _change_everything(emu: Emulator, world: dict[str, str], round_: int) -> None:
    """Write every kind of record the restore reuses, through HTTP and from Python."""
    u, cfg = emu.url, {"configuration_id": world["config"]}
    r = requests.delete(f"{u}/v3/scheduling/bookings/{world['booked']}", params=cfg)
    assert r.status_code == 200, r.text
    start = T0 + DAY + (15 + round_) * HOUR
    moved = {"start_time": start, "end_time": start + 1800}
    r = requests.patch(f"{u}/v3/scheduling/bookings/{world['moved']}", params=cfg, json=moved)
    assert r.status_code == 200, r.text
    new = {"start_time": T0 + DAY + 9 * HOUR, "end_time": T0 + DAY + 9 * HOUR + 1800}
    r = requests.post(f"{u}/v3/scheduling/bookings", params=cfg, json={**new, "guest": GUEST})
    assert r.status_code == 200, r.text
    event = f"{u}/v3/grants/{GRANT}/events/{world['event']}"
    when = {"when": {"start_time": T0 + 2 * DAY, "end_time": T0 + 2 * DAY + HOUR}}
    r = requests.put(event, params={"calendar_id": "primary"}, json=when, headers=KEY)
    assert r.status_code == 200, r.text
    emu.add_grant(GRANT, email=f"new{round_}@example.com", calendars=[f"extra{round_}"])
    emu.add_event(GRANT, "work", T0 + DAY, T0 + DAY + HOUR, title="added")
    pending = emu.store.bookings[world["pending"]]
    pending.title = f"changed from Python {round_}"
    emu.store.events[pending.event_id].busy = False
    if round_ == 2:
        r = requests.delete(event, params={"calendar_id": "primary"}, headers=KEY)
        assert r.status_code == 200, r.text


def _index_is_sound(store: Store) -> None:
    for grant in store.grants.values():
        for calendar in grant.calendars.values():
            index = calendar.events
            events = list(index.in_order())
            assert events == sorted(
                index.values(), key=lambda e: (e.start_time, e.end_time, e.event_id)
            )
            assert all(e.__dict__["_index"]() is index for e in events)
            assert all(store.events[e.event_id] is e for e in events)


def _restored(emu: Emulator, world: dict[str, str]) -> tuple[bytes, dict[str, Any], Any]:
    """The world's snapshot, restored once (later restores reuse its records), with the
    dumped state and the HTTP answers right after."""
    snap = emu.snapshot()
    emu.restore(snap)
    return snap, dump_state(emu.store), observe(emu, world)


def test_a_second_restore_of_the_same_bytes_puts_back_what_changed(
    emu: Emulator, world: dict[str, str]
) -> None:
    snap, state, answers = _restored(emu, world)
    for round_ in (1, 2, 3):  # the records put back are watched again
        _change_everything(emu, world, round_)
        assert dump_state(emu.store) != state
        emu.restore(snap)  # from the records the first restore built
        assert dump_state(emu.store) == state, round_
        assert observe(emu, world) == answers, round_
        _index_is_sound(emu.store)


def test_a_restore_after_a_reset_or_another_snapshot_answers_the_same(
    emu: Emulator, world: dict[str, str]
) -> None:
    snap, state, answers = _restored(emu, world)
    _change_everything(emu, world, 1)
    requests.post(f"{emu.url}/_emulator/reset")
    emu.add_grant(GRANT, calendars=["other"])
    emu.restore(snap)
    assert dump_state(emu.store) == state and observe(emu, world) == answers
    _change_everything(emu, world, 2)
    other = emu.snapshot()
    emu.restore(other)  # a template of other records
    emu.store.bookings[world["seat"]].title = "changed"
    emu.add_grant(GRANT, calendars=["third"])
    emu.restore(snap)
    assert dump_state(emu.store) == state and observe(emu, world) == answers
    _index_is_sound(emu.store)


def _subscribe(emu: Emulator, trigger: str, url: str) -> None:
    body = {"trigger_types": [trigger], "webhook_url": url}
    assert requests.post(f"{emu.url}/v3/webhooks", json=body, headers=KEY).status_code == 200


def _book_at_16h(emu: Emulator, world: dict[str, str], moving: str | None = None) -> None:
    """Book the world's configuration at 16:00 on day 1 (or move booking ``moving`` there)."""
    start = T0 + DAY + 16 * HOUR
    body: dict[str, Any] = {"start_time": start, "end_time": start + 1800}
    url, params = f"{emu.url}/v3/scheduling/bookings", {"configuration_id": world["config"]}
    if moving is None:
        r = requests.post(url, params=params, json={**body, "guest": GUEST})
    else:
        r = requests.patch(f"{url}/{moving}", params=params, json=body)
    assert r.status_code == 200, r.text


def test_a_reschedule_after_a_repeated_restore_reports_the_old_times(
    emu: Emulator, world: dict[str, str], hook: Receiver
) -> None:
    snap = emu.snapshot()
    emu.restore(snap)
    _change_everything(emu, world, 1)
    emu.restore(snap)  # from the template: the webhook notifier must know the old times again
    booked = emu.store.bookings[world["booked"]]
    old = (booked.start_time, booked.end_time)
    hook.status = 200
    _subscribe(emu, "booking.rescheduled", hook.url)
    _book_at_16h(emu, world, moving=world["booked"])
    emu.deliver_webhooks()
    posts = [json.loads(p) for p in hook.posts]
    (post,) = [p for p in posts if p["type"] == "booking.rescheduled"]
    info = post["data"]["object"]["booking_info"]
    assert (info["old_start_time"], info["old_end_time"]) == old


def test_an_attempt_under_way_during_a_restore_stays_out_of_the_restored_state(
    emu: Emulator, world: dict[str, str]
) -> None:
    snap = emu.snapshot()
    emu.restore(snap)
    state = dump_state(emu.store)
    with receiver() as slow:
        slow.hold, slow.status = threading.Event(), 200
        _subscribe(emu, "booking.created", slow.url)
        _book_at_16h(emu, world)
        assert slow.arrived.wait(30)  # the attempt is under way
        emu.restore(snap)
        slow.hold.set()
        emu.deliver_webhooks()  # waits for the attempt under way to finish
    assert dump_state(emu.store) == state  # its outcome (log, retry) was not written here


def test_restore_does_not_share_records_between_restores(
    emu: Emulator, world: dict[str, str]
) -> None:
    snap = emu.snapshot()
    url = f"{emu.url}/v3/scheduling/bookings/{world['booked']}"
    r = requests.delete(url, params={"configuration_id": world["config"]})
    assert r.status_code == 200, r.text
    emu.restore(snap)
    r = requests.get(url, params={"configuration_id": world["config"]})
    assert r.status_code == 200 and r.json()["data"]["status"] == "booked"


def test_admin_snapshot_routes_need_the_admin_key(hook: Receiver) -> None:
    admin = {"Authorization": "Bearer k1"}
    with Emulator(api_keys=["k1"], clock=FakeClock(T0)) as emu:
        emu.add_grant("g", email="a@example.com")
        for path in ("/_emulator/snapshot", "/_emulator/restore"):
            assert requests.post(emu.url + path, data=b"{}").status_code == 401
        assert requests.get(emu.url + "/_emulator/export").status_code == 401
        snap = requests.post(emu.url + "/_emulator/snapshot", headers=admin)
        assert snap.status_code == 200
        emu.reset()
        r = requests.post(emu.url + "/_emulator/restore", data=snap.content, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["restored"]["grants"] == 1
        assert list(emu.store.grants) == ["g"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b'{"format": "x"}', "not an emulator snapshot"),
        (
            json.dumps(
                {"format": "scheduler-emulator-state", "version": SNAPSHOT_VERSION + 1, "parts": {}}
            ).encode(),
            "newer emulator",
        ),
        (encode_snapshot({"bookings": [{"booking_id": "b"}]}), "part 'bookings' is malformed"),
    ],
)
def test_restore_refuses_what_is_not_a_snapshot(emu: Emulator, body: bytes, message: str) -> None:
    r = requests.post(emu.url + "/_emulator/restore", data=body)
    assert r.status_code == 400 and message in r.json()["error"]["message"], r.text
    with pytest.raises(SnapshotError, match=message):
        emu.restore(body)


# The pytest plugin's world fixture: built once, restored before each test.


@pytest.fixture(scope="session")
def scheduler_emulator_world_builder() -> Callable[[Emulator], None]:
    def build(emu: Emulator) -> None:
        emu.clock.set(T0)
        emu.add_grant("grant-1", email="host@example.com")
        r = requests.post(
            f"{emu.url}/v3/grants/grant-1/scheduling/configurations",
            json=config_body(slug="world"),
            headers=KEY,
        )
        assert r.status_code == 200, r.text

    return build


@pytest.mark.parametrize("run", [1, 2])
def test_world_fixture_isolates_tests(scheduler_emulator_world: Emulator, run: int) -> None:
    emu = scheduler_emulator_world
    assert emu.clock.now() == T0  # the previous run advanced it
    (config,) = emu.store.configurations.values()
    body = {
        "start_time": T0 + DAY + 9 * HOUR,
        "end_time": T0 + DAY + 9 * HOUR + 1800,
        "guest": GUEST,
    }
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config.configuration_id},
        json=body,
    )
    assert r.status_code == 200, r.text  # the previous run's booking of this slot is gone
    emu.clock.advance(run * HOUR)


# --------------------------------------------------------------------------- the state file


def test_restart_with_the_state_file_answers_the_same(tmp_path: Path, hook: Receiver) -> None:
    path = tmp_path / "state.db"
    with Emulator(clock=FakeClock(T0), state_path=path) as emu:
        ids = build_world(emu, hook.url)
        emu.deliver_webhooks()  # the receiver answers 500: a retry is pending
        assert emu.webhooks.pending > 0 and not hook.posts
        before = observe(emu, ids)
    with Emulator(clock=FakeClock(0), state_path=path) as emu:
        assert observe(emu, ids) == before
        session = {"Authorization": f"Bearer {ids['session']}"}  # the session still works
        r = requests.get(
            f"{emu.url}/v3/scheduling/availability",
            headers=session,
            params={"start_time": T0 + DAY, "end_time": T0 + 2 * DAY},
        )
        assert r.status_code == 200, r.text
        hook.status = 200
        r = requests.post(f"{emu.url}/_emulator/clock", json={"advance": 600})
        assert r.status_code == 200
        assert hook.got.wait(10)  # the pending retry was delivered after the restart
        assert json.loads(hook.posts[0])["webhook_delivery_attempt"] == 2
        assert emu.state_file is not None and emu.state_file.integrity_check() == "ok"


def test_writes_are_in_the_file_before_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    # no autosave: only the write-through can have put the booking there
    with Emulator(clock=FakeClock(T0), state_path=path, autosave_interval=3600) as emu:
        emu.add_grant("grant-1", email="host@example.com")
        r = requests.post(
            f"{emu.url}/v3/grants/grant-1/scheduling/configurations",
            json=config_body(),
            headers=KEY,
        )
        config = r.json()["data"]["id"]
        body = {
            "start_time": T0 + DAY + 9 * HOUR,
            "end_time": T0 + DAY + 9 * HOUR + 1800,
            "guest": GUEST,
        }
        r = requests.post(
            f"{emu.url}/v3/scheduling/bookings", params={"configuration_id": config}, json=body
        )
        booking_id = r.json()["data"]["booking_id"]
        with sqlite3.connect(path) as db:
            kinds = dict(
                db.execute("SELECT id, kind FROM rows WHERE kind IN ('bookings', 'configurations')")
            )
        db.close()
        assert kinds == {booking_id: "bookings", config: "configurations"}


def test_a_second_emulator_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with (
        Emulator(state_path=path),
        pytest.raises(StateFileError, match="in use by another emulator process"),
    ):
        Emulator(state_path=path)
    Emulator(state_path=path).stop()  # released by stop()


def test_a_state_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Emulator(state_path=path).stop()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(StateFileError, match=r"newer emulator.*schema version 99"):
        Emulator(state_path=path)
    Emulator(state_path=tmp_path / "other.db").stop()  # the lock of the refused file was freed
    with pytest.raises(StateFileError, match="newer"):
        Emulator(state_path=path)


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(StateFileError, match="not an emulator state file"):
        Emulator(state_path=path)
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 200)
    with pytest.raises(StateFileError, match="not an emulator state file"):
        Emulator(state_path=text)


def test_an_older_state_file_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.db"
    store = Store(FakeClock(T0))
    store.add_grant("g", email="a@example.com")
    StateFile(path, store).close()

    def v1_to_v2(db: sqlite3.Connection) -> None:
        db.execute(
            "UPDATE rows SET data = json_set(data, '$.email', 'b@example.com') "
            "WHERE kind = 'grants'"
        )

    monkeypatch.setattr(persistence_module, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(persistence_module, "MIGRATIONS", {1: v1_to_v2})
    fresh = Store(FakeClock(0))
    state = StateFile(path, fresh)
    try:
        assert state.schema_version == 2
        state.load()
        assert fresh.grants["g"].email == "b@example.com"
    finally:
        state.close()


def test_reset_and_restore_are_written_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Emulator(clock=FakeClock(T0), state_path=path) as emu:
        emu.add_grant("a")
        snap = emu.snapshot()
        requests.post(f"{emu.url}/_emulator/reset")
        emu.add_grant("b")
        assert emu.state_file is not None
        emu.state_file.flush(verify=True)
        with Emulator(clock=FakeClock(T0), state_path=tmp_path / "x.db"):
            pass
        emu.restore(snap)
    with Emulator(clock=FakeClock(T0), state_path=path) as emu:
        assert list(emu.store.grants) == ["a"]


def test_state_changed_from_python_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Emulator(clock=FakeClock(T0), state_path=path, autosave_interval=0.01) as emu:
        emu.add_grant("g", email="a@example.com")
        emu.add_event("g", "primary", T0, T0 + HOUR, title="seeded")
        emu.clock.advance(90)
        state = emu.state_file
        assert state is not None
        for _ in range(1000):  # the autosave thread writes it on its own
            with sqlite3.connect(path) as db:
                n = db.execute("SELECT count(*) FROM rows WHERE kind = 'events'").fetchone()[0]
            db.close()
            if n:
                break
            state._stop.wait(0.01)
        assert n == 1
    with Emulator(clock=FakeClock(0), state_path=path) as emu:
        assert [e.title for e in emu.events("g")] == ["seeded"] and emu.clock.now() == T0 + 90


def test_every_api_write_is_in_the_file_before_its_answer(tmp_path: Path) -> None:
    """Without the background flush, the file matches the store after a run of API writes."""
    path = tmp_path / "state.db"
    with (
        receiver() as hook,
        Emulator(clock=FakeClock(T0), state_path=path, autosave_interval=3600) as emu,
    ):
        ids = build_world(emu, hook.url)
        u = emu.url
        r = requests.post(
            f"{u}/_emulator/grants", json={"grant_id": "grant-1", "email": "new@example.com"}
        )
        assert r.status_code == 200, r.text
        r = requests.put(
            f"{u}/v3/grants/grant-1/events/{ids['event']}", json={"title": "Moved"}, headers=KEY
        )
        assert r.status_code == 200, r.text
        r = requests.put(f"{u}{CFGS}/{ids['config']}", json={"name": "Renamed"}, headers=KEY)
        assert r.status_code == 200, r.text
        r = requests.put(
            f"{u}{CFGS}/{ids['group_config']}/group-events/{ids['group_event']}",
            json={"title": "Renamed class"},
            headers=KEY,
        )
        assert r.status_code == 200, r.text
        r = requests.delete(f"{u}/v3/scheduling/sessions/{ids['session']}", headers=KEY)
        assert r.status_code == 200, r.text
        assert emu.state_file is not None
        with emu.store.lock:
            in_file = emu.state_file.read_parts()
            in_memory = json.loads(json.dumps(dump_state(emu.store)))
        for name in in_memory:
            if name != "webhooks":  # deliveries run in the background, between API writes
                assert in_file.get(name) == in_memory[name], name
