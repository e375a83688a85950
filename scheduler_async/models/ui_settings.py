"""What the booking page loads first: ``GET /v3/scheduling/ui-settings``."""

from __future__ import annotations

from typing import Any

import attrs

from ._fields import checked
from .booking import AdditionalGuest, Guest

__all__ = ["UISettings", "UISettingsBooking", "UISettingsOrganizer"]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class UISettingsOrganizer:
    """The organizer the booking page shows."""

    name: str | None = None
    email: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class UISettingsBooking:
    """The booking to prefill when rescheduling (present when ``booking_id`` was given).

    ``event_data`` (``location``, ``when``) and ``event_organizer`` are kept as sent.
    """

    guest: Guest | None = None
    additional_guests: tuple[AdditionalGuest, ...] = ()
    additional_fields: dict[str, Any] = attrs.field(factory=dict)
    timezone: str | None = None
    email_language: str | None = None
    event_data: dict[str, Any] | None = None
    event_organizer: dict[str, Any] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class UISettings:
    """A configuration as the booking page sees it.

    ``scheduler`` (the configuration's scheduler settings: ``available_days_in_future``,
    ``min_booking_notice``, ``additional_fields``, ...) and ``appearance`` are kept as sent.
    """

    configuration_id: str | None = None
    app_client_id: str | None = None
    name: str | None = None
    slug: str | None = None
    booking_type: str | None = None
    organizer: UISettingsOrganizer | None = None
    appearance: dict[str, Any] = attrs.field(factory=dict)
    scheduler: dict[str, Any] = attrs.field(factory=dict)
    booking: UISettingsBooking | None = None
