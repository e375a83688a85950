"""Packaging metadata: one version, typed marker, declared imports, a build floor that works."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import scheduler_async

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_is_single_sourced() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert module == "scheduler_async._version" and name == "__version__"
    assert scheduler_async.__version__.count(".") == 2


def test_spdx_license_needs_setuptools_77() -> None:
    # PEP 639 ``license = "MIT"`` is only understood from setuptools 77 on.
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


def test_typed_and_classified() -> None:
    classifiers = PYPROJECT["project"]["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert (ROOT / "scheduler_async" / "py.typed").exists()
    assert (ROOT / "scheduler_sync" / "py.typed").exists()
    assert PYPROJECT["project"]["urls"]


def _top_level_imports() -> set[str]:
    found: set[str] = set()
    for package in ("scheduler_async", "scheduler_sync"):
        for path in (ROOT / package).rglob("*.py"):
            if "emulator" in path.parts:
                continue  # the emulator is the server side; its needs are aiohttp's own
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_of_the_client_is_declared() -> None:
    declared = {
        dep.split(">")[0].split("=")[0].split("[")[0].strip().replace("-", "_")
        for dep in PYPROJECT["project"]["dependencies"]
    }
    optional = {
        dep.split(">")[0].split("=")[0].split("[")[0].strip().replace("-", "_")
        for deps in PYPROJECT["project"]["optional-dependencies"].values()
        for dep in deps
    }

    third_party = {
        name
        for name in _top_level_imports()
        if name not in sys.stdlib_module_names
        and name not in {"scheduler_async", "scheduler_sync", "__future__"}
    }
    assert {"yarl", "multidict"} <= declared
    missing = third_party - declared - optional
    assert not missing, f"imported but not declared: {sorted(missing)}"


def test_lint_tools_are_contributor_extras() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert not any(dep.startswith("mypy") for dep in extras["test"])
    assert any(dep.startswith("mypy") for dep in extras["dev"])
