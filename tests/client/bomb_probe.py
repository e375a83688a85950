"""Run in a subprocess by tests/client/test_hostile.py: peak RSS growth while refusing a bomb.

Usage: ``python -m tests.client.bomb_probe ENCODING CHUNKED LIMIT_BYTES INFLATED_BYTES``. Starts a
loopback server that answers with a body that inflates to INFLATED_BYTES, calls the client with
``max_response_bytes=LIMIT_BYTES`` and prints one JSON line: the exception type, the compressed
size, and the peak RSS growth (``ru_maxrss``) the call caused.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import zlib

from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler_async import AsyncScheduler


def _compressed(encoding: str, size: int) -> bytes:
    block = b"\x00" * (1 << 20)
    if encoding == "br":
        import brotli

        comp = brotli.Compressor(quality=5)
        parts = [comp.process(block) for _ in range(size >> 20)]
        parts.append(comp.finish())
        return b"".join(parts)
    wbits = 31 if encoding == "gzip" else 15
    z = zlib.compressobj(9, zlib.DEFLATED, wbits)
    parts = [z.compress(block) for _ in range(size >> 20)]
    parts.append(z.flush())
    return b"".join(parts)


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def main(encoding: str, chunked: bool, limit: int, inflated: int) -> dict[str, object]:
    payload = _compressed(encoding, inflated)
    seen = 0

    async def bomb(request: web.Request) -> web.StreamResponse:
        nonlocal seen
        seen += 1
        headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
        resp = web.StreamResponse(headers=headers)
        if not chunked:
            resp.content_length = len(payload)
        await resp.prepare(request)
        for i in range(0, len(payload), 16384):
            await resp.write(payload[i : i + 16384])
        return resp

    app = web.Application()
    app.router.add_get("/v3/scheduling/availability", bomb)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    error = "none"
    try:
        async with AsyncScheduler(
            base_url=str(server.make_url("")), max_response_bytes=limit
        ) as client:
            await client.availability.get(start_time=1, end_time=2, configuration_id="c")
    except Exception as exc:  # the expected path: the body is refused
        error = type(exc).__name__
    finally:
        await server.close()
    return {"error": error, "compressed": len(payload), "requests": seen}


async def measure(encoding: str, chunked: bool, limit: int, inflated: int) -> dict[str, object]:
    # Warm every code path (imports, server, client, a small answer) before the baseline.
    await main(encoding, chunked, limit, 1 << 20)
    baseline = _peak_kib()
    result = await main(encoding, chunked, limit, inflated)
    result["rss_growth_kib"] = _peak_kib() - baseline
    return result


if __name__ == "__main__":
    enc, chunk, lim, inf = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4])
    inf = inf or 256 << 20  # 0: the case, 256 MiB
    print(json.dumps(asyncio.run(measure(enc, chunk, lim, inf))))
