"""The one scrubbing rule (scheduler_async._scrub), table-tested."""

from __future__ import annotations

import pytest

from scheduler_async import _scrub
from scheduler_async._scrub import (
    MAX_SECRETS,
    MIN_SECRET_LENGTH,
    TOO_DEEP,
    Secrets,
    forget_locals,
    scrub_text,
)

LONG = "sk_live_SECRET_key_000"


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        # whole tokens go, wherever punctuation or spaces bound them
        (f"Bearer {LONG}", [LONG], "Bearer ***"),
        (f"'{LONG}'.", [LONG], "'***'."),
        (f"/sessions/{LONG}?x=1", [LONG], "/sessions/***?x=1"),
        (f"key={LONG}&a", [LONG], "key=***&a"),
        (f"{LONG}_suffix {LONG}-x", [LONG], "***_suffix ***-x"),
        (f'{{"auth":"{LONG}"}}', [LONG], '{"auth":"***"}'),
        # glued to a letter or digit: part of another word, left alone
        (f"x{LONG}", [LONG], f"x{LONG}"),
        (f"{LONG}9", [LONG], f"{LONG}9"),
        # too short to be a secret: never scrubbed (the floor is 8)
        ("time slot has just been booked", ["k"], "time slot has just been booked"),
        ("booked by 1234567", ["1234567"], "booked by 1234567"),
        ("booked by 12345678", ["12345678"], "booked by ***"),
        ("overbooked booked", ["booked"], "overbooked booked"),
        # an escaped character before it is a boundary: the 0 of %20 is not part of the word
        (f"Bearer%20{LONG}", [LONG], "Bearer%20***"),
        (f"Bearer%2520{LONG}%0A", [LONG], "Bearer%2520***%0A"),
        (f"a%2F{LONG}", [LONG], "a%2F***"),
        (f"Bearer\\u0020{LONG} \\x20{LONG}", [LONG], "Bearer\\u0020*** \\x20***"),
        (f"x20{LONG}", [LONG], f"x20{LONG}"),
        # the percent-encoded form in a path
        ("/sessions/a%2Fb%2Fcdefgh", ["a/b/cdefgh"], "/sessions/***"),
        # one secret inside another: the longer is replaced whole
        (f"{LONG}_x and {LONG}", [LONG, f"{LONG}_x"], "*** and ***"),
        ("", [LONG], ""),
        ("nothing here", [], "nothing here"),
    ],
)
def test_scrub_rule(text: str, secrets: list[str], expected: str) -> None:
    assert scrub_text(text, secrets) == expected
    assert Secrets(secrets).scrub(text) == expected
    assert Secrets().scrub(text, *secrets) == expected


def test_floor_is_eight() -> None:
    assert MIN_SECRET_LENGTH == 8
    assert repr(Secrets(["1234567", None, ""])) == "<Secrets count=0>"


def test_secrets_are_bounded_oldest_forgotten_first() -> None:
    s = Secrets()
    for i in range(MAX_SECRETS + 5):
        s.add(f"token_{i:08d}")
    assert s.scrub("token_00000000") == "token_00000000"
    assert s.scrub(f"token_{MAX_SECRETS + 4:08d}") == "***"


def test_scrub_data_walks_json_and_cuts_deep_nesting() -> None:
    s = Secrets([LONG])
    data = {"a": [LONG, {"b": f"x {LONG}"}], LONG: 1, "n": 5}
    assert s.scrub_data(data) == {"a": ["***", {"b": "x ***"}], "***": 1, "n": 5}
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    out = s.scrub_data(deep)
    for _ in range(33):
        assert isinstance(out, list)
        out = out[0]
    assert out == TOO_DEEP
    assert s.scrub_headers({"X-Echo": f"Bearer {LONG}"}) == [("X-Echo", "Bearer ***")]
    assert s.scrub_headers({f"X-{LONG}": "1"}) == [("X-***", "1")]


def test_forget_locals_clears_only_the_librarys_finished_frames() -> None:
    def callers_code() -> None:
        mine = "the caller's data"
        raise ValueError(mine)

    def library_code(earlier: BaseException) -> None:
        # a library frame: it runs with the package's globals (as if defined in it)
        raise RuntimeError("x") from earlier

    library = type(library_code)(
        library_code.__code__, vars(_scrub), "library_code", None, library_code.__closure__
    )
    try:
        callers_code()
    except ValueError as exc:
        earlier = exc
    try:
        library(earlier)
    except RuntimeError as exc:
        error = exc
    assert error.__traceback__ is not None and earlier.__traceback__ is not None
    lib_frame = error.__traceback__.tb_next.tb_frame  # type: ignore[union-attr]
    user_frame = earlier.__traceback__.tb_next.tb_frame  # type: ignore[union-attr]
    assert "earlier" in lib_frame.f_locals and "mine" in user_frame.f_locals
    forget_locals(error)
    assert lib_frame.f_locals == {} and user_frame.f_locals["mine"] == "the caller's data"
