"""One module per API resource: each builds requests, calls the transport, returns models."""

from .availability import AsyncAvailability, AsyncAvailabilityWithResponse
from .bookings import AsyncBookings, AsyncBookingsWithResponse
from .configurations import AsyncConfigurations, AsyncConfigurationsWithResponse
from .sessions import AsyncSessions, AsyncSessionsWithResponse
from .ui_settings import AsyncUISettings, AsyncUISettingsWithResponse

__all__ = [
    "AsyncAvailability",
    "AsyncAvailabilityWithResponse",
    "AsyncBookings",
    "AsyncBookingsWithResponse",
    "AsyncConfigurations",
    "AsyncConfigurationsWithResponse",
    "AsyncSessions",
    "AsyncSessionsWithResponse",
    "AsyncUISettings",
    "AsyncUISettingsWithResponse",
]
