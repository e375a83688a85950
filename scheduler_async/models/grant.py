"""Grants and their calendars: ``/v3/grants/{grant_id}`` and ``.../calendars``."""

from __future__ import annotations

import attrs

from ._fields import checked

__all__ = ["Calendar", "Grant"]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Grant:
    """A connected account (``GET /v3/grants/{grant_id}``)."""

    id: str
    email: str | None = None
    provider: str | None = None
    grant_status: str | None = None
    scope: tuple[str, ...] = ()
    created_at: int | None = None
    updated_at: int | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Calendar:
    """A calendar of a grant; its ``id`` is what configurations' ``calendar_ids`` take."""

    id: str
    grant_id: str | None = None
    name: str | None = None
    description: str | None = None
    is_primary: bool | None = None
    read_only: bool | None = None
    is_owned_by_user: bool | None = None
    timezone: str | None = None
    hex_color: str | None = None
