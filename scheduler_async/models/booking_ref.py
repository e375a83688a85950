"""Booking references: the compact token in Scheduler confirmation, reschedule and cancel links.

A booking reference is URL-safe base64 without padding of ``configuration UUID (16 bytes) ‖
booking UUID (16 bytes) ‖ salt bytes`` (the booking page decodes it the same way). The salt is
what ``PUT /v3/scheduling/bookings/{id}`` expects, re-encoded as URL-safe base64 without padding.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid

import attrs

from ..errors import InvalidBookingRefError

__all__ = ["BookingRef", "parse_booking_ref"]

_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_UUID_BYTES = 16


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str, what: str) -> bytes:
    if not _B64URL.match(text):
        raise InvalidBookingRefError(f"{what} is not URL-safe base64")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise InvalidBookingRefError(f"{what} has an impossible base64 length")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (ValueError, binascii.Error) as exc:  # pragma: no cover - the regex guards this
        raise InvalidBookingRefError(f"{what} is not URL-safe base64") from exc


def _uuid_text(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidBookingRefError(f"not a UUID: {value!r}") from exc


def _salt_text(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidBookingRefError("salt must be a string")
    return _b64url(_b64url_decode(value, "salt"))


@attrs.frozen(slots=True, kw_only=True)
class BookingRef:
    """A decoded booking reference.

    ``configuration_id`` and ``booking_id`` are canonical lowercase UUID strings; ``salt`` is the
    URL-safe base64 (no padding) text the confirm/cancel call sends.
    """

    configuration_id: str = attrs.field(converter=_uuid_text)
    booking_id: str = attrs.field(converter=_uuid_text)
    salt: str = attrs.field(converter=_salt_text, repr=False)

    @property
    def salt_bytes(self) -> bytes:
        """The raw salt bytes."""
        return _b64url_decode(self.salt, "salt")

    def encode(self) -> str:
        """The reference text: URL-safe base64 without padding."""
        raw = uuid.UUID(self.configuration_id).bytes + uuid.UUID(self.booking_id).bytes
        return _b64url(raw + self.salt_bytes)

    def __str__(self) -> str:
        return self.encode()


def parse_booking_ref(text: str) -> BookingRef:
    """Decode a booking reference (padding and surrounding whitespace tolerated).

    Raises :class:`InvalidBookingRefError` (a ``ValueError``) when ``text`` is not one.
    """
    if not isinstance(text, str):
        raise InvalidBookingRefError(f"a booking reference is a string, not {type(text).__name__}")
    raw = _b64url_decode(text.strip(), "booking reference")
    if len(raw) <= 2 * _UUID_BYTES:
        raise InvalidBookingRefError(
            f"booking reference decodes to {len(raw)} bytes; expected more than {2 * _UUID_BYTES}"
        )
    return BookingRef(
        configuration_id=str(uuid.UUID(bytes=raw[:_UUID_BYTES])),
        booking_id=str(uuid.UUID(bytes=raw[_UUID_BYTES : 2 * _UUID_BYTES])),
        salt=_b64url(raw[2 * _UUID_BYTES :]),
    )
