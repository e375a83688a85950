"""Seed files: a world described in the API's own JSON shapes (``--seed-file world.json``).

A seed file is one JSON object; every key is optional::

    {
      "grants": [{"id": "grant-1", "email": "host@example.com",
                  "calendars": [{"id": "primary", "is_primary": true}, {"id": "work"}]}],
      "events": [{"id": "busy-1", "grant_id": "grant-1", "calendar_id": "primary",
                  "title": "Dentist", "busy": true,
                  "when": {"start_time": 1767600000, "end_time": 1767603600}}],
      "configurations": [{"id": "<uuid>", "grant_id": "grant-1", "slug": "intro",
                          "participants": [...], "availability": {...},
                          "event_booking": {...}}],
      "webhooks": [{"id": "...", "webhook_url": "https://...", "trigger_types": [...],
                    "webhook_secret": "..."}]
    }

Grants are ``GET /v3/grants/{id}`` objects with their ``GET .../calendars`` list; events are
``GET .../events`` objects; configurations are ``GET .../configurations/{id}`` objects plus
their ``grant_id``; webhooks are ``GET /v3/webhooks`` objects (``webhook_secret`` optional).
Fields the emulator computes (``object``, ``provider``, ``created_at``...) are ignored.
Ids are kept when given (a configuration's must then be a UUID), generated otherwise.
``GET /_emulator/export`` (:func:`export_world`) writes the current state in this format
(bookings, sessions and group events are not part of it: use a snapshot or the state file).

Errors (:class:`SeedError`) name the file, the place in it and the field, e.g.
``world.json: configurations[1]: availability.duration_minutes must be ...``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.grants import (
    EVENT_EXTRA_FIELDS,
    EVENT_STATUSES,
    calendar_json,
    event_json,
)

if TYPE_CHECKING:
    from scheduler_async.emulator.store import Store

__all__ = ["SeedError", "apply_seed", "export_world", "load_seed_file"]

_SECTIONS = ("grants", "events", "configurations", "webhooks")


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message names the file, the place and the field."""


def _fail(where: str, message: str) -> SeedError:
    return SeedError(f"{where}: {message}")


@contextmanager
def _at(where: str) -> Iterator[None]:
    """Turn the store's errors about one item into :class:`SeedError` naming the item."""
    try:
        yield
    except EmulatorError as exc:
        raise _fail(where, exc.message) from None


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "must be an object")
    return value


def _str(item: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(where, f"{name} must be a non-empty string")
    return value


def _int(item: Mapping[str, Any], name: str, where: str) -> int:
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"{name} must be an integer (Unix seconds)")
    return value


def _seed_grants(store: Store, items: list[Any], src: str) -> None:
    for i, raw in enumerate(items):
        where = f"{src}: grants[{i}]"
        item = _obj(raw, where)
        grant_id = _str(item, "id", where)
        assert grant_id is not None
        calendars = item.get("calendars") or []
        if not isinstance(calendars, list):
            raise _fail(where, "calendars must be an array")
        primary, others = "primary", []
        for j, cal in enumerate(calendars):
            cal = _obj(cal, f"{where}.calendars[{j}]")
            cal_id = _str(cal, "id", f"{where}.calendars[{j}]")
            if cal.get("is_primary") is True:
                primary = cal_id or primary
            else:
                others.append(cal_id or "")
        with _at(where):
            store.add_grant(
                grant_id,
                email=_str(item, "email", where, required=False),
                calendars=others,
                primary_calendar_id=primary,
            )


def _seed_events(store: Store, items: list[Any], src: str) -> None:
    for i, raw in enumerate(items):
        where = f"{src}: events[{i}]"
        item = _obj(raw, where)
        when = _obj(item.get("when"), f"{where}.when")
        status = item.get("status", "confirmed")
        if status not in EVENT_STATUSES:
            raise _fail(where, "status must be confirmed, tentative or cancelled")
        busy = item.get("busy", True)
        if not isinstance(busy, bool):
            raise _fail(where, "busy must be a boolean")
        grant_id = _str(item, "grant_id", where)
        assert grant_id is not None
        if grant_id not in store.grants:
            raise _fail(where, f"grant_id {grant_id!r} is not among the file's grants")
        with _at(where):
            event = store.add_event(
                grant_id,
                _str(item, "calendar_id", where, required=False) or "primary",
                _int(when, "start_time", f"{where}.when"),
                _int(when, "end_time", f"{where}.when"),
                busy=busy,
                status=status,
                title=_str(item, "title", where, required=False) or "",
                description=item.get("description") or "",
                event_id=_str(item, "id", where, required=False),
            )
        event.extra = {k: item[k] for k in EVENT_EXTRA_FIELDS if item.get(k) not in (None, [])}


def _seed_configurations(store: Store, items: list[Any], src: str) -> None:
    for i, raw in enumerate(items):
        where = f"{src}: configurations[{i}]"
        item = dict(_obj(raw, where))
        grant_id = _str(item, "grant_id", where)
        config_id = _str(item, "id", where, required=False)
        if config_id is not None:
            try:
                config_id = str(uuid.UUID(config_id))
            except ValueError:
                raise _fail(where, "id must be a UUID") from None
            if config_id in store.configurations:
                raise _fail(where, f"id {config_id!r} is used twice")
        body = {k: v for k, v in item.items() if k not in ("id", "ID", "grant_id")}
        assert grant_id is not None
        with _at(where):
            stored = store.create_configuration(grant_id, body)
        if config_id is not None:
            del store.configurations[stored.configuration_id]
            stored.configuration_id = config_id
            store.configurations[config_id] = stored


def _seed_webhooks(store: Store, items: list[Any], src: str) -> None:
    from scheduler_async.emulator.webhook_routes import _validate

    hub = store.webhook_hub()
    for i, raw in enumerate(items):
        where = f"{src}: webhooks[{i}]"
        item = _obj(raw, where)
        body = {k: v for k, v in item.items() if k not in ("status",)}
        with _at(where):
            _validate(body, create=True)
        hook_id = _str(item, "id", where, required=False)
        secret = _str(item, "webhook_secret", where, required=False)
        if hook_id is not None and hook_id in hub.webhooks:
            raise _fail(where, f"id {hook_id!r} is used twice")
        hook = hub.create(body)
        with hub._lock:
            if hook_id is not None:
                del hub.webhooks[hook.id]
                hook.id = hook_id
                hub.webhooks[hook_id] = hook
            if secret is not None:
                hook.secret = secret


_SEEDERS = {
    "grants": _seed_grants,
    "events": _seed_events,
    "configurations": _seed_configurations,
    "webhooks": _seed_webhooks,
}


def apply_seed(store: Store, world: Any, *, source: str = "seed") -> dict[str, int]:
    """Add a seed document's grants, events, configurations and webhooks to the store.

    All or nothing: on any error the store is reset and :class:`SeedError` names ``source``,
    the place in it and the field.  Returns the number of items per section.
    """
    doc = _obj(world, source)
    unknown = sorted(set(doc) - set(_SECTIONS))
    if unknown:
        raise _fail(source, f"unknown key {unknown[0]!r} (expected: {', '.join(_SECTIONS)})")
    with store.lock:
        try:
            for name in _SECTIONS:
                items = doc.get(name) or []
                if not isinstance(items, list):
                    raise _fail(f"{source}: {name}", "must be an array")
                _SEEDERS[name](store, items, source)
        except SeedError:
            store.reset()
            raise
    return {name: len(doc.get(name) or []) for name in _SECTIONS}


def load_seed_file(store: Store, path: str | Path) -> dict[str, int]:
    """Read a seed file (JSON) and :func:`apply_seed` it; errors name the file."""
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{src}: cannot read the seed file: {exc.strerror}") from None
    try:
        world = json.loads(text)
    except ValueError as exc:
        raise SeedError(f"{src}: not valid JSON: {exc}") from None
    return apply_seed(store, world, source=src)


def export_world(store: Store) -> dict[str, Any]:
    """The store's grants, calendars, events (not those of bookings), configurations and
    webhooks as a seed document (``GET /_emulator/export``)."""
    with store.lock:
        grants = []
        for grant in store.grants.values():
            cals = sorted(grant.calendars.values(), key=lambda c: (not c.is_primary, c.calendar_id))
            grants.append(
                {
                    "id": grant.grant_id,
                    "email": grant.email,
                    "calendars": [calendar_json(grant, c) for c in cals],
                }
            )
        events = [
            event_json(e)
            for e in sorted(store.events.values(), key=lambda e: (e.start_time, e.event_id))
            if e.booking_id is None
        ]
        configurations = [
            {**c.to_json(), "grant_id": c.grant_id}
            for c in sorted(store.configurations.values(), key=lambda c: c.seq)
        ]
        hub = store._webhook_hub
        hooks = [] if hub is None else [h.to_json(with_secret=True) for h in hub.list_webhooks()]
    return {
        "grants": grants,
        "events": events,
        "configurations": configurations,
        "webhooks": hooks,
    }
