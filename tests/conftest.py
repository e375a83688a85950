"""Shared test setup.

aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` argument that
aiohttp >= 3.14 requires (pnuckowski/aioresponses#289); this shim supplies a stand-in.
"""

from __future__ import annotations

import types
from typing import Any

import aiohttp
import aioresponses.core as _arcore


class _CompatClientResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, *, stream_writer: Any = None, **kwargs: Any) -> None:
        if stream_writer is None:
            stream_writer = types.SimpleNamespace(output_size=0)
        super().__init__(method, url, stream_writer=stream_writer, **kwargs)


_arcore.ClientResponse = _CompatClientResponse  # type: ignore[misc]
