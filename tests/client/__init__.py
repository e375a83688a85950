"""Tests of the client core: transport, retries, settings, lifecycle, security, end to end."""
