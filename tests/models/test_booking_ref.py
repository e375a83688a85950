"""BookingRef: decoding, encoding, agreement with the emulator's booking references."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler_async.booking_ref import BookingRef, InvalidBookingRefError, parse_booking_ref
from scheduler_async.emulator.store import Booking

CFG = uuid.UUID("9a4e8b3c-2f1d-4c6b-8e7a-5d3c2b1a0f9e")
BKG = uuid.UUID("1b2c3d4e-5f60-4718-89ab-cdef01234567")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("salt", [b"\x00", b"s", b"\xff\xfe\xfd", bytes(range(16)), b"x" * 33])
def test_parse_table(salt: bytes) -> None:
    text = b64(CFG.bytes + BKG.bytes + salt)
    ref = parse_booking_ref(text)
    assert ref.configuration_id == str(CFG)
    assert ref.booking_id == str(BKG)
    assert ref.salt == b64(salt)
    assert ref.salt_bytes == salt
    assert ref.encode() == text
    assert str(ref) == text
    assert parse_booking_ref(ref.encode()) == ref


def test_padding_and_whitespace_tolerated() -> None:
    raw = CFG.bytes + BKG.bytes + b"salt!"
    padded = base64.urlsafe_b64encode(raw).decode()
    assert padded.endswith("=")
    assert parse_booking_ref(f"  {padded}\n").encode() == b64(raw)


def test_construct_and_encode_round_trip() -> None:
    ref = BookingRef(configuration_id=str(CFG).upper(), booking_id=BKG.hex, salt="c2FsdA==")
    assert ref.configuration_id == str(CFG)
    assert ref.booking_id == str(BKG)
    assert ref.salt == "c2FsdA"
    assert base64.urlsafe_b64decode(ref.encode() + "==") == CFG.bytes + BKG.bytes + b"salt"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not base64!",
        "abc$def",
        b64(CFG.bytes + BKG.bytes),  # no salt
        b64(CFG.bytes),
        "A",  # impossible base64 length
        "+" + b64(CFG.bytes + BKG.bytes + b"salt")[1:],  # standard, not URL-safe, alphabet
    ],
)
def test_bad_input(text: str) -> None:
    with pytest.raises(InvalidBookingRefError):
        parse_booking_ref(text)


def test_bad_types_and_fields() -> None:
    with pytest.raises(InvalidBookingRefError):
        parse_booking_ref(123)  # type: ignore[arg-type]
    with pytest.raises(InvalidBookingRefError):
        BookingRef(configuration_id="nope", booking_id=str(BKG), salt="c2FsdA")
    with pytest.raises(InvalidBookingRefError):
        BookingRef(configuration_id=str(CFG), booking_id=str(BKG), salt="not/url-safe")
    assert issubclass(InvalidBookingRefError, ValueError)


def test_repr_hides_salt() -> None:
    ref = parse_booking_ref(b64(CFG.bytes + BKG.bytes + b"secret-salt"))
    assert ref.salt not in repr(ref)


def test_agrees_with_emulator_booking_reference() -> None:
    salt = bytes(range(1, 17))
    booking = Booking(
        booking_id=str(BKG),
        configuration_id=str(CFG),
        event_id="ev",
        grant_id="g",
        calendar_id="primary",
        start_time=0,
        end_time=1800,
        status="booked",
        title="t",
        description="",
        organizer_email="o@example.com",
        organizer_name=None,
        guest={"name": "G", "email": "g@example.com"},
        participants=[],
        salt=salt,
        created_at=0,
        updated_at=0,
    )
    ref = parse_booking_ref(booking.reference)
    assert (ref.configuration_id, ref.booking_id) == (str(CFG), str(BKG))
    assert ref.salt == booking.salt_b64
    assert ref.encode() == booking.reference


@given(cfg=st.uuids(), bkg=st.uuids(), salt=st.binary(min_size=1, max_size=64))
def test_round_trip_property(cfg: uuid.UUID, bkg: uuid.UUID, salt: bytes) -> None:
    text = b64(cfg.bytes + bkg.bytes + salt)
    ref = parse_booking_ref(text)
    assert (ref.configuration_id, ref.booking_id, ref.salt_bytes) == (str(cfg), str(bkg), salt)
    assert ref.encode() == text
    assert (
        BookingRef(configuration_id=ref.configuration_id, booking_id=ref.booking_id, salt=ref.salt)
        == ref
    )
