"""The one after-fork registry: what each live object must do in the child of ``os.fork``.

The child of ``os.fork`` inherits objects bound to the parent's sockets, event loops and
threads (an aiohttp session, a sync client's loop thread) that it must never use, close or
free. Each such object registers itself here once, with the function to run on it in the
child; one ``os.register_at_fork`` hook runs them all. The registry holds its objects weakly.

This is the library's only module-level mutable state. :func:`live` lets a module find its own
live objects (the sync facade closes its unclosed clients at interpreter exit this way).
"""

from __future__ import annotations

import ctypes
import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["keep_forever", "live", "register"]

T = TypeVar("T")

_LIVE: weakref.WeakKeyDictionary[Any, Callable[[Any], None]] = weakref.WeakKeyDictionary()
"""Every registered object (weakly) and what to run on it in the child."""


def register(obj: T, in_child: Callable[[T], None]) -> None:
    """Run ``in_child(obj)`` in the child of every later ``os.fork`` while ``obj`` lives.

    ``in_child`` must not hold ``obj`` (pass an unbound method, e.g. ``Transport._forked``).
    """
    _LIVE[obj] = in_child


def live(cls: type[T]) -> list[T]:
    """The registered objects of type ``cls`` that are still alive."""
    return [obj for obj in list(_LIVE.keys()) if isinstance(obj, cls)]


def keep_forever(obj: object) -> None:
    """One extra reference to ``obj`` that is never released, not even at interpreter exit.

    For what a child inherited: freeing uvloop's loop (which believes it still runs) or its
    handles, or closing sockets the parent still uses, would crash the child or the parent.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def _after_fork_in_child() -> None:
    for obj, in_child in list(_LIVE.items()):
        in_child(obj)


os.register_at_fork(after_in_child=_after_fork_in_child)
