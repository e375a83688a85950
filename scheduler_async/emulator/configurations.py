"""Configurations and scheduling sessions: the :class:`ConfigurationsMixin` of the store."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from scheduler_async.emulator.entities import (
    Session,
    StoredConfiguration,
    decode_cursor,
    encode_cursor,
)
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.state import StoreBase
from scheduler_async.emulator.validation import (
    DEFAULT_PAGE_LIMIT,
    DEFAULT_SESSION_TTL_MINUTES,
    MAX_PAGE_LIMIT,
    MAX_SESSION_TTL_MINUTES,
    normalize_configuration,
)

__all__ = ["ConfigurationsMixin"]


class ConfigurationsMixin(StoreBase):
    """Create, read, list, update and delete configurations; open and close sessions."""

    # ----------------------------------------------------------------- configurations

    def _check_participant_grants(self, data: Mapping[str, Any]) -> None:
        """Participants' explicit grants must exist (strict) or are provisioned (lenient)."""
        for participant in data["participants"]:
            if participant.get("grant_id"):
                self.get_grant(participant["grant_id"])

    def _check_slug(self, slug: str | None, exclude: str | None = None) -> None:
        if slug is None:
            return
        for stored in self.configurations.values():
            if stored.slug == slug and stored.configuration_id != exclude:
                raise EmulatorError.conflict(f"slug {slug!r} is already in use")

    def create_configuration(self, grant_id: str, body: Mapping[str, Any]) -> StoredConfiguration:
        """Validate, fill defaults, assign a UUID and store a configuration for a grant."""
        data = normalize_configuration(body)
        with self.lock:
            grant = self.get_grant(grant_id)
            self._check_participant_grants(data)
            return self._store_new(grant.grant_id, data)

    def _store_new(self, grant_id: str, data: dict[str, Any]) -> StoredConfiguration:
        """Store validated ``data`` as a new configuration (its slug unused); lock held."""
        self._check_slug(data.get("slug"))
        stored = StoredConfiguration(str(uuid.uuid4()), grant_id, data, next(self._seq))
        self.configurations[stored.configuration_id] = stored
        self._emit("configuration.created", stored)
        return stored

    def _store_update(
        self, stored: StoredConfiguration, data: dict[str, Any]
    ) -> StoredConfiguration:
        """Replace the ``data`` of ``stored`` with validated ``data`` (its slug unused by any
        other); lock held."""
        self._check_slug(data.get("slug"), exclude=stored.configuration_id)
        stored.data = data
        self._emit("configuration.updated", stored)
        return stored

    def get_configuration(self, grant_id: str, configuration_id: str) -> StoredConfiguration:
        """A configuration of a grant (404 if it belongs to another grant or does not exist)."""
        with self.lock:
            grant = self.get_grant(grant_id)
            stored = self.configurations.get(configuration_id)
            if stored is None or stored.grant_id != grant.grant_id:
                raise EmulatorError.not_found(f"configuration {configuration_id!r} not found")
            return stored

    def list_configurations(
        self, grant_id: str, *, limit: int = DEFAULT_PAGE_LIMIT, page_token: str | None = None
    ) -> tuple[list[StoredConfiguration], str | None]:
        """One page of a grant's configurations in creation order, and the next cursor."""
        if limit < 1:
            raise EmulatorError.invalid("limit must be at least 1")
        limit = min(limit, MAX_PAGE_LIMIT)
        after = decode_cursor("after", page_token) if page_token else 0
        with self.lock:
            grant = self.get_grant(grant_id)
            items = sorted(
                (
                    c
                    for c in self.configurations.values()
                    if c.grant_id == grant.grant_id and c.seq > after
                ),
                key=lambda c: c.seq,
            )
        page = items[:limit]
        cursor = encode_cursor("after", page[-1].seq) if len(items) > limit else None
        return page, cursor

    def update_configuration(
        self, grant_id: str, configuration_id: str, body: Mapping[str, Any]
    ) -> StoredConfiguration:
        """PUT semantics: top-level keys present replace the stored value wholesale."""
        with self.lock:
            stored = self.get_configuration(grant_id, configuration_id)
            merged = {**stored.data, **{k: v for k, v in body.items() if k not in ("id", "ID")}}
            data = normalize_configuration(merged)
            self._check_participant_grants(data)
            return self._store_update(stored, data)

    def delete_configuration(self, grant_id: str, configuration_id: str) -> None:
        """Delete a configuration; 409 while it has live sessions."""
        with self.lock:
            stored = self.get_configuration(grant_id, configuration_id)
            now = self.clock.now()
            live = [
                s
                for s in self.sessions.values()
                if s.configuration_id == configuration_id and s.is_live(now)
            ]
            if live:
                raise EmulatorError.conflict(
                    f"configuration has {len(live)} active session(s); delete them or let "
                    "them expire first"
                )
            del self.configurations[stored.configuration_id]
            self._emit("configuration.deleted", stored)

    # ----------------------------------------------------------------- sessions

    def create_session(
        self,
        *,
        configuration_id: str | None = None,
        slug: str | None = None,
        time_to_live: int | None = None,
    ) -> Session:
        """Open a session on a configuration; ``time_to_live`` in minutes (1..30, default 5)."""
        ttl = DEFAULT_SESSION_TTL_MINUTES if time_to_live is None else time_to_live
        if (
            not isinstance(ttl, int)
            or isinstance(ttl, bool)
            or not 1 <= ttl <= MAX_SESSION_TTL_MINUTES
        ):
            raise EmulatorError.invalid(
                f"time_to_live must be an integer number of minutes between 1 and "
                f"{MAX_SESSION_TTL_MINUTES}"
            )
        if configuration_id is None and slug is None:
            raise EmulatorError.invalid("configuration_id or slug is required")
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id, slug=slug)
            now = self.clock.now()
            session = Session(str(uuid.uuid4()), stored.configuration_id, now, now + ttl * 60)
            self.sessions[session.session_id] = session
            self._emit("session.created", session)
            return session

    def delete_session(self, session_id: str) -> None:
        """Delete a session (404 if unknown or already deleted)."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or session.deleted:
                raise EmulatorError.not_found("session not found")  # never echo a token
            session.deleted = True
            self._emit("session.deleted", session)

    def resolve_session(self, token: str) -> Session | None:
        """The live session for a Bearer token; None if the token was never a session id.

        A token that was a session but has expired or been deleted is a 401 ``invalid_session``
        (an ``error.type`` the booking page knows).
        """
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                return None
            if session.deleted:
                raise EmulatorError.invalid_session("session has been deleted")
            if not session.is_live(self.clock.now()):
                raise EmulatorError.invalid_session("session has expired")
            if session.configuration_id not in self.configurations:
                raise EmulatorError.invalid_session("session's configuration no longer exists")
            return session
