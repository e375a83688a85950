"""The one rule for hiding credentials in text an error exposes (pure, no I/O).

:class:`Secrets` holds every credential a client knows: its API key and each session token it
sent (in an ``Authorization`` header or in a URL path). :meth:`Secrets.scrub` replaces each
**whole-token** occurrence of one of them with ``***``:

* an occurrence glued to an ASCII letter or digit on either side is part of another word and
  is left alone (``api_key="booked"`` never turns ``"overbooked"`` into ``"over***"``);
  punctuation, ``_``, ``-``, ``/``, quotes and spaces are boundaries;
* a credential shorter than :data:`MIN_SECRET_LENGTH` (8) characters is never treated as a
  secret: it cannot be told apart from ordinary words (``api_key="k"`` would otherwise turn
  ``"booked"`` into ``"boo***ed"``), and a real API key or session token is far longer;
* an escaped character before a credential is a boundary like the character it encodes: in
  ``Bearer%20<key>`` (a percent-encoded space, also encoded twice as ``%2520``) or ``\\u0020<key>``
  the ``0`` belongs to the escape, not to the word;
* the percent-encoded form of a credential (as it appears in a path) is replaced too.

The set is bounded (:data:`MAX_SECRETS`, oldest forgotten first) so a long-running worker that
opens many sessions does not grow without end.
"""

from __future__ import annotations

import contextlib
import re
import reprlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "MAX_SECRETS",
    "MIN_SECRET_LENGTH",
    "REPLACEMENT",
    "ScrubbedCause",
    "Secrets",
    "forget_locals",
    "safe_repr",
    "scrub_text",
]

MIN_SECRET_LENGTH = 8
"""Credentials shorter than this are not scrubbed (they are not secrets, and would mangle text)."""
MAX_SECRETS = 1024
"""How many credentials one client remembers for scrubbing."""
REPLACEMENT = "***"
_MAX_DEPTH = 32
"""Deeper JSON in an error body is replaced by :data:`TOO_DEEP` (pickling and repr stay safe)."""
TOO_DEEP = "<nested too deep>"


_STARTS = (
    r"(?:(?<![A-Za-z0-9])"  # a boundary: start, punctuation, space
    r"|(?<=%[0-9A-Fa-f]{2})"  # a percent-escape (``Bearer%20<key>``, ``%2F``)
    r"|(?<=%25[0-9A-Fa-f]{2})"  # a percent-escape encoded twice (``Bearer%2520<key>``)
    r"|(?<=\\u[0-9A-Fa-f]{4})"  # a JSON or Python escape (``\\u0020<key>``)
    r"|(?<=\\x[0-9A-Fa-f]{2}))"  # a Python bytes escape (``\\x20<key>``)
)
"""Where a whole token may start: an escaped character counts as the character it encodes."""


def _variants(secret: str) -> set[str]:
    return {secret, quote(secret, safe="")} - {""}


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted(
        {v for s in secrets if len(s) >= MIN_SECRET_LENGTH for v in _variants(s)},
        key=len,
        reverse=True,  # the longest first, so one secret inside another is replaced whole
    )
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in words)
    return re.compile(f"{_STARTS}(?:{alternation})(?![A-Za-z0-9])")


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every whole-token occurrence of a secret replaced by ``***``."""
    pattern = _pattern(secrets)
    return text if pattern is None else pattern.sub(REPLACEMENT, text)


class Secrets:
    """The credentials one client knows, and the one place that hides them (thread-safe)."""

    __slots__ = ("_lock", "_pattern", "_secrets")

    def __init__(self, initial: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: OrderedDict[str, None] = OrderedDict()
        self._pattern: re.Pattern[str] | None = None
        for secret in initial:
            self.add(secret)

    def __repr__(self) -> str:
        return f"<Secrets count={len(self._secrets)}>"

    def add(self, secret: str | None) -> None:
        """Remember ``secret`` (ignored if ``None`` or shorter than the floor)."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret in self._secrets:
                self._secrets.move_to_end(secret)
                return
            self._secrets[secret] = None
            while len(self._secrets) > MAX_SECRETS:
                self._secrets.popitem(last=False)
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                self._pattern = _pattern(self._secrets)
            return self._pattern

    def scrub(self, text: str, *extra: str | None) -> str:
        """``text`` with every known secret (and ``extra`` ones) replaced, whole tokens only."""
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(REPLACEMENT, text)
        more = [s for s in extra if s and len(s) >= MIN_SECRET_LENGTH]
        return scrub_text(text, more) if more else text

    def scrub_data(self, data: Any, *extra: str | None, _depth: int = 0) -> Any:
        """Decoded JSON with every string scrubbed; nesting deeper than 32 is cut off."""
        if _depth > _MAX_DEPTH:
            return TOO_DEEP
        if isinstance(data, str):
            return self.scrub(data, *extra)
        if isinstance(data, dict):
            return {
                self.scrub(str(k), *extra): self.scrub_data(v, *extra, _depth=_depth + 1)
                for k, v in data.items()
            }
        if isinstance(data, list | tuple):
            return [self.scrub_data(v, *extra, _depth=_depth + 1) for v in data]
        return data

    def scrub_headers(
        self, headers: Mapping[str, str], *extra: str | None
    ) -> list[tuple[str, str]]:
        """Header pairs with every name and value scrubbed (order and repeats kept)."""
        items = headers.items()
        return [(self.scrub(k, *extra), self.scrub(v, *extra)) for k, v in items]


_SAFE_REPR = reprlib.Repr()
_SAFE_REPR.maxlevel = 4
_SAFE_REPR.maxstring = 200
_SAFE_REPR.maxother = 200
_SAFE_REPR.maxdict = _SAFE_REPR.maxlist = 10


def safe_repr(value: Any) -> str:
    """A short repr (200 characters at most) of decoded JSON, safe for any depth or size."""
    return _SAFE_REPR.repr(value)[:200]


class ScrubbedCause(Exception):
    """Stands in, as an error's ``__cause__``, for an exception that may hold a credential.

    It keeps what helps a reader (``type_name``, the original's ``module.QualName``, and its
    text with credentials removed) and nothing else: it was never raised, so it has no
    traceback, and no frame's locals (such as aiohttp's request headers) can be rendered from
    it, even by ``traceback.TracebackException(..., capture_locals=True)``.
    """

    type_name: str
    text: str

    def __init__(self, type_name: str, text: str) -> None:
        super().__init__(f"{type_name}: {text}" if text else type_name)
        self.type_name = type_name
        self.text = text

    @classmethod
    def of(cls, exc: BaseException, text: str) -> ScrubbedCause:
        """The stand-in for ``exc``, with ``text`` (already scrubbed) as its text."""
        return cls(f"{type(exc).__module__}.{type(exc).__qualname__}", text)

    def __reduce__(self) -> Any:
        return (type(self), (self.type_name, self.text))


def forget_locals(error: BaseException) -> None:
    """Clear the locals of this library's finished frames in the traceback of ``error`` and of
    each exception chained to it (``__cause__``, ``__context__``, ``cause``).

    Those frames hold raw answers, response headers and credentials; a traceback rendered with
    ``capture_locals=True`` (or a post-mortem debugger) then shows nothing of them. Frames
    still running, and every frame of other code (the caller's), are left alone.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if str(frame.f_globals.get("__name__", "")).startswith(_PACKAGE):
                with contextlib.suppress(RuntimeError):  # still running
                    frame.clear()
            tb = tb.tb_next
        cause = getattr(exc, "cause", None)
        todo += [
            exc.__cause__,
            exc.__context__,
            cause if isinstance(cause, BaseException) else None,
        ]


_PACKAGE = __name__.split(".")[0] + "."
