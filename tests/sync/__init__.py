"""Tests of the generated sync facade (``scheduler_sync/``) and its runtime."""
