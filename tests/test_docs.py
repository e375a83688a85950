"""The documentation site's API reference covers every public name.

``docs/reference/*.md`` name modules and classes with mkdocstrings' ``::: target`` lines; a
public name (in ``scheduler_async.__all__`` or ``scheduler_sync.__all__``) must be documented by
one of them: the object itself, or the module that defines it (a package target with
``show_submodules`` covers its submodules).  The site itself is built by ``.ci/run``
(``mkdocs build --strict``).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import scheduler_async
import scheduler_sync

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"


def _targets() -> tuple[set[str], set[str]]:
    """(every ``::: target``, the package targets shown with their submodules)."""
    targets: set[str] = set()
    packages: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^::: ([\w.]+)\n((?:    .*\n)*)", text, re.M):
            targets.add(match.group(1))
            if "show_submodules: true" in match.group(2):
                packages.add(match.group(1))
    return targets, packages


def _documented_modules(targets: set[str], packages: set[str]) -> list[ModuleType]:
    modules: list[ModuleType] = []
    for target in targets:
        with contextlib.suppress(ImportError):
            modules.append(importlib.import_module(target))
    for package in packages:
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            if not info.name.rsplit(".", 1)[-1].startswith("_"):
                modules.append(importlib.import_module(info.name))
    return modules


def _documented(name: str, obj: object, targets: set[str], packages: set[str]) -> bool:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", name)
    if not isinstance(module, str) or not module.startswith("scheduler_"):
        # A type alias or constant: named by a target, or assigned in a documented module.
        if any(t.endswith(f".{name}") for t in targets):
            return True
        assigned = re.compile(rf"^{re.escape(name)}\b[^=\n]*=", re.M)
        return any(
            assigned.search(inspect.getsource(mod))
            for mod in _documented_modules(targets, packages)
        )
    if f"{module}.{qualname}" in targets or module in targets:
        return True
    return any(module.startswith(f"{package}.") for package in packages)


@pytest.mark.parametrize("package", [scheduler_async, scheduler_sync], ids=lambda p: p.__name__)
def test_every_public_name_is_in_the_api_reference(package: object) -> None:
    targets, packages = _targets()
    missing = [
        name
        for name in package.__all__  # type: ignore[attr-defined]
        if not name.startswith("__")
        and not _documented(name, getattr(package, name), targets, packages)
    ]
    assert missing == []


def test_reference_pages_are_in_the_site_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in REFERENCE.glob("*.md"):
        assert f"reference/{page.name}" in nav


GUIDE = ROOT / "docs" / "guide"


def _resolve(identifier: str) -> object:
    """Import the longest module prefix of ``identifier`` and walk the rest as attributes."""
    parts = identifier.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(identifier)


def test_guide_pages_link_to_the_api_reference_by_name() -> None:
    """Each guide page names the reference of what it uses (mkdocstrings' autorefs:
    ``[text][scheduler_async.x.Y]``, checked by ``mkdocs build --strict``); every such
    identifier is a real object, so a rename shows here before the site build fails."""
    pages = sorted(GUIDE.glob("*.md"))
    assert len(pages) >= 12
    for page in pages:
        text = page.read_text(encoding="utf-8")
        identifiers = re.findall(r"\]\[(scheduler_(?:async|sync)[\w.]*)\]", text)
        if page.stem not in {"benchmarks", "design", "frameworks"}:
            assert identifiers or "../reference/" in text, f"{page.name} links no API reference"
        for identifier in identifiers:
            _resolve(identifier)
