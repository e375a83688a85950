"""Every exception a user can meet lives in ``errors.py``, is importable from the package and
shown in the user guide's tree (``docs/guide/errors-and-retries.md``) and in the tree of
``errors.py``'s docstring."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import scheduler_async
import scheduler_sync
from scheduler_async import errors

ROOT = Path(__file__).resolve().parent.parent


def _error_classes() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("scheduler_async", "scheduler_sync"):
        for path in (ROOT / package).rglob("*.py"):
            if "emulator" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                    found[node.name] = path
    return found


def test_every_error_is_exported_and_in_the_guide_tree() -> None:
    found = _error_classes()
    assert {"LoopThreadCallError", "DistributedSweepError", "InvalidBookingRefError"} <= set(found)
    guide = (ROOT / "docs" / "guide" / "errors-and-retries.md").read_text()
    tree = guide.split("## Errors", 1)[1].split("```", 2)[1]
    doc_tree = errors.__doc__ or ""
    for name, path in found.items():
        assert path == ROOT / "scheduler_async" / "errors.py", f"{name} is defined in {path}"
        assert name in errors.__all__ and name in scheduler_async.__all__, f"{name} not exported"
        assert getattr(scheduler_async, name) is getattr(errors, name)
        assert name in tree, f"{name} is missing from the error tree of the guide"
        assert re.search(rf"\b{name}\b", doc_tree), f"{name} is missing from the tree of errors.py"
    assert set(errors.__all__) == set(found)
    # the sync facade re-exports every async error too, so one `except` serves both clients
    for name in scheduler_async.__all__:
        if name.endswith("Error"):
            assert getattr(scheduler_sync, name) is getattr(scheduler_async, name)


def test_old_import_paths_of_errors_keep_working() -> None:
    from scheduler_async.booking_ref import BookingRef, InvalidBookingRefError, parse_booking_ref
    from scheduler_sync._runtime import LoopThreadCallError

    assert InvalidBookingRefError is errors.InvalidBookingRefError
    assert LoopThreadCallError is errors.LoopThreadCallError
    assert BookingRef is scheduler_async.BookingRef
    assert parse_booking_ref is scheduler_async.parse_booking_ref


def test_models_do_not_import_booking_ref_module() -> None:
    for path in (ROOT / "scheduler_async" / "models").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.level == 2 and node.module == "booking_ref"), path.name
