"""One module per API resource: each builds requests, calls the transport, returns models."""

from .availability import AsyncAvailability, AsyncAvailabilityWithResponse
from .bookings import AsyncBookings, AsyncBookingsWithResponse
from .configurations import AsyncConfigurations, AsyncConfigurationsWithResponse
from .group_events import AsyncGroupEvents, AsyncGroupEventsWithResponse
from .sessions import AsyncSessions, AsyncSessionsWithResponse
from .ui_settings import AsyncUISettings, AsyncUISettingsWithResponse
from .webhooks import AsyncWebhooks, AsyncWebhooksWithResponse

__all__ = [
    "AsyncAvailability",
    "AsyncAvailabilityWithResponse",
    "AsyncBookings",
    "AsyncBookingsWithResponse",
    "AsyncConfigurations",
    "AsyncConfigurationsWithResponse",
    "AsyncGroupEvents",
    "AsyncGroupEventsWithResponse",
    "AsyncSessions",
    "AsyncSessionsWithResponse",
    "AsyncUISettings",
    "AsyncUISettingsWithResponse",
    "AsyncWebhooks",
    "AsyncWebhooksWithResponse",
]
