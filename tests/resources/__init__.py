"""Tests of the resource namespaces (``scheduler_async/resources/``) and pagination."""
