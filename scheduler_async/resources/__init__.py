"""One module per API resource: each builds requests, calls the transport, returns models."""

from .availability import AsyncAvailability, AsyncAvailabilityWithResponse
from .bookings import AsyncBookings, AsyncBookingsWithResponse
from .calendars import AsyncCalendars, AsyncCalendarsWithResponse
from .configurations import AsyncConfigurations, AsyncConfigurationsWithResponse
from .grants import AsyncGrants, AsyncGrantsWithResponse
from .group_events import AsyncGroupEvents, AsyncGroupEventsWithResponse
from .sessions import AsyncSessions, AsyncSessionsWithResponse
from .ui_settings import AsyncUISettings, AsyncUISettingsWithResponse
from .webhooks import AsyncWebhooks, AsyncWebhooksWithResponse

__all__ = [
    "AsyncAvailability",
    "AsyncAvailabilityWithResponse",
    "AsyncBookings",
    "AsyncBookingsWithResponse",
    "AsyncCalendars",
    "AsyncCalendarsWithResponse",
    "AsyncConfigurations",
    "AsyncConfigurationsWithResponse",
    "AsyncGrants",
    "AsyncGrantsWithResponse",
    "AsyncGroupEvents",
    "AsyncGroupEventsWithResponse",
    "AsyncSessions",
    "AsyncSessionsWithResponse",
    "AsyncUISettings",
    "AsyncUISettingsWithResponse",
    "AsyncWebhooks",
    "AsyncWebhooksWithResponse",
]
