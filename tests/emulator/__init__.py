"""Tests of ``scheduler_async.emulator`` (mirrors the package: store, http, engine, ...)."""
