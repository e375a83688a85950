"""Nylas's web components for the emulator's pages, fetched without npm.

``python -m scheduler_async fetch-web-elements [--version V] [--dest DIR] [--registry URL]``
reads the npm registry's metadata of ``@nylas/web-elements`` (MIT), downloads its tarball over
HTTP(S), checks it against the registry's ``dist.integrity`` (sha512) and writes the two CDN
bundles the emulator serves, with the package's ``LICENSE`` and ``package.json``::

    .cache/web-elements/<version>/nylas-scheduling.es.js        <nylas-scheduling>
    .cache/web-elements/<version>/nylas-scheduler-editor.es.js  <nylas-scheduler-editor>

then prints that directory (give it to ``emulator --web-elements-dir``). Idempotent: when both
bundles are there, nothing is downloaded. The registry is ``--registry``, else
``$npm_config_registry`` (as for npm), else ``https://registry.npmjs.org``; ``HTTPS_PROXY``
and friends are honoured. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import WebElementsError

__all__ = [
    "BUNDLES",
    "DEFAULT_REGISTRY",
    "PACKAGE",
    "WebElementsError",
    "extract_bundles",
    "fetch_web_elements",
    "main",
    "verify_integrity",
]

PACKAGE = "@nylas/web-elements"
DEFAULT_VERSION = "2.6.0"  # the version the emulator's pages load (booking_page.COMPONENT_VERSION)
DEFAULT_REGISTRY = "https://registry.npmjs.org"
BUNDLES = (
    "nylas-scheduling/nylas-scheduling.es.js",
    "nylas-scheduler-editor/nylas-scheduler-editor.es.js",
)
"""The bundles taken from the tarball's ``package/dist/cdn/``."""
_EXTRAS = ("LICENSE", "package.json")
_MAX_BYTES = 256 * 1024 * 1024
"""A tarball (or metadata) larger than this is refused rather than read."""


def default_dest(version: str) -> Path:
    """``.cache/web-elements/<version>`` under the current directory."""
    return Path(".cache") / "web-elements" / version


_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
"""What npm asks for: the abbreviated metadata (each version's ``dist``), not the full one."""


def _get(url: str, timeout: float) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise WebElementsError(f"refusing a non-http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"Accept": _ABBREVIATED})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(_MAX_BYTES + 1)
    except OSError as exc:  # URLError, HTTPError, timeouts, refused connections
        raise WebElementsError(f"could not download {url}: {exc}") from exc
    if len(data) > _MAX_BYTES:
        raise WebElementsError(f"{url} is larger than {_MAX_BYTES} bytes")
    return data


def verify_integrity(data: bytes, integrity: str) -> None:
    """Check ``data`` against an npm ``dist.integrity`` (Subresource Integrity) string.

    One of its ``sha512-<base64>`` entries must match; a string without sha512 is refused (the
    older sha1 ``shasum`` is not trusted).
    """
    expected = [
        entry.split("-", 1)[1].split("?", 1)[0]
        for entry in integrity.split()
        if entry.startswith("sha512-")
    ]
    if not expected:
        raise WebElementsError(f"no sha512 checksum in the registry's integrity {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual not in expected:
        raise WebElementsError(
            f"checksum mismatch: the tarball's sha512 is {actual}, the registry says "
            f"{' '.join(expected)}; nothing was written"
        )


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.getmember(name)
    except KeyError:
        raise WebElementsError(f"{name} is not in the tarball") from None
    handle = archive.extractfile(member) if member.isfile() else None
    if handle is None:
        raise WebElementsError(f"{name} in the tarball is not a regular file")
    with handle:
        return handle.read()


def extract_bundles(tarball: bytes, dest: Path) -> list[Path]:
    """Write the :data:`BUNDLES`, ``LICENSE`` and ``package.json`` of an npm tarball to
    ``dest`` (flat, by file name; each written whole or not at all); return the paths."""
    wanted = [f"package/dist/cdn/{name}" for name in BUNDLES]
    wanted += [f"package/{name}" for name in _EXTRAS]
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for name in wanted:
                contents[Path(name).name] = _member(archive, name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise WebElementsError(f"not a readable gzipped tarball: {exc}") from exc
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in contents.items():
        target = dest / filename
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{filename}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        written.append(target)
    return written


def _registry(registry: str | None, environ: Mapping[str, str]) -> str:
    value = registry or environ.get("npm_config_registry") or environ.get("NPM_CONFIG_REGISTRY")
    return (value or DEFAULT_REGISTRY).rstrip("/")


def fetch_web_elements(
    version: str = DEFAULT_VERSION,
    dest: str | Path | None = None,
    *,
    registry: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch ``@nylas/web-elements@version``'s bundles into ``dest`` (see the module doc);
    return the directory. Raises :class:`WebElementsError` with what went wrong."""
    target = Path(dest) if dest is not None else default_dest(version)
    if all((target / Path(name).name).is_file() for name in BUNDLES) and all(
        (target / Path(name).name).stat().st_size > 0 for name in BUNDLES
    ):
        return target
    base = _registry(registry, os.environ)
    name = urllib.parse.quote(PACKAGE, safe="@")  # @nylas%2Fweb-elements
    meta_url = f"{base}/{name}"
    try:
        meta: Any = json.loads(_get(meta_url, timeout))
        versions = meta["versions"]
        if version not in versions:
            latest = (meta.get("dist-tags") or {}).get("latest")
            raise WebElementsError(
                f"{PACKAGE} has no version {version!r} at {base} (latest: {latest})"
            )
        dist = versions[version]["dist"]
        tarball_url, integrity = dist["tarball"], dist["integrity"]
        if not isinstance(tarball_url, str) or not isinstance(integrity, str):
            raise TypeError("dist.tarball and dist.integrity must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        raise WebElementsError(
            f"unexpected registry answer for {PACKAGE}@{version} at {meta_url}: {exc!r}"
        ) from None
    tarball = _get(tarball_url, timeout)
    verify_integrity(tarball, integrity)
    extract_bundles(tarball, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scheduler_async fetch-web-elements``: fetch, print the directory."""
    parser = argparse.ArgumentParser(
        prog="python -m scheduler_async fetch-web-elements",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", default=DEFAULT_VERSION, help="package version")
    parser.add_argument(
        "--dest", default=None, help="directory (default .cache/web-elements/<version>)"
    )
    parser.add_argument("--registry", default=None, help="npm registry URL")
    args = parser.parse_args(argv)
    try:
        path = fetch_web_elements(args.version, args.dest, registry=args.registry)
    except WebElementsError as exc:
        print(f"fetch-web-elements: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0
