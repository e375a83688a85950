"""Tests of ``scheduler_async.webhooks`` (signatures, notifications, receivers) and
``client.webhooks``."""
