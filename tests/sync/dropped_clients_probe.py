"""Run in a subprocess by tests/sync/test_sync_runtime.py: what sync clients dropped unclosed leave.

Usage: ``python -m tests.sync.dropped_clients_probe URL COUNT``. Makes COUNT ``scheduler_sync``
clients against the emulator at URL, calls each once and drops it without ``close()``; prints
one JSON line: the RSS growth (KiB) and the growth of the ``atexit`` list, threads and file
descriptors, measured after a warm-up of 100 clients, once the dropped clients' threads ended.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
import threading

from scheduler_sync import Scheduler


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _settled() -> None:
    """Collect, then wait until no client thread is left running."""
    gc.collect()
    for thread in threading.enumerate():
        if thread.name == "scheduler-sync":
            thread.join()
    gc.collect()


def _use_once(url: str) -> None:
    client = Scheduler(api_key="k" * 20, grant_id="g-org", base_url=url)
    client.configurations.list_page(limit=1)


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    for _ in range(100):
        _use_once(url)
    _settled()
    before = (
        _rss_kib(),
        atexit._ncallbacks(),
        threading.active_count(),
        len(os.listdir("/proc/self/fd")),
    )
    for i in range(count):
        _use_once(url)
        if i % 100 == 99:
            gc.collect()
    _settled()
    after = (
        _rss_kib(),
        atexit._ncallbacks(),
        threading.active_count(),
        len(os.listdir("/proc/self/fd")),
    )
    keys = ("rss_kib", "atexit", "threads", "fds")
    print(json.dumps({k: b - a for k, a, b in zip(keys, before, after, strict=True)}))


if __name__ == "__main__":
    main()
