"""Every exception a user can meet is importable from the package and shown in the README."""

from __future__ import annotations

import ast
from pathlib import Path

import scheduler_async
import scheduler_sync

ROOT = Path(__file__).resolve().parent.parent
OPTIONAL_MODULES = {"distributed.py"}  # needs the `distributed` extra: exported from there


def _error_classes() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("scheduler_async", "scheduler_sync"):
        for path in (ROOT / package).rglob("*.py"):
            if "emulator" in path.parts or path.name in OPTIONAL_MODULES:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                    found[node.name] = path
    return found


def test_every_error_is_exported_and_in_the_readme_tree() -> None:
    errors = _error_classes()
    assert {"LoopThreadCallError", "RateLimitWaitError", "WebhookSignatureError"} <= set(errors)
    readme = (ROOT / "README.md").read_text()
    tree = readme.split("## Errors", 1)[1].split("```", 2)[1]
    for name, path in errors.items():
        where = scheduler_sync if path.parts[-2:][0] == "scheduler_sync" else scheduler_async
        assert name in where.__all__, f"{name} ({path.name}) is not exported"
        assert getattr(where, name).__name__ == name
        assert name in tree, f"{name} is missing from the README's error tree"
    # the sync facade re-exports every async error too, so one `except` serves both clients
    for name in scheduler_async.__all__:
        if name.endswith("Error"):
            assert getattr(scheduler_sync, name) is getattr(scheduler_async, name)
