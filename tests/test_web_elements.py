"""``fetch-web-elements`` against a registry served on loopback (never the internet)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scheduler_async import web_elements
from scheduler_async.__main__ import main as cli
from scheduler_async.emulator.booking_page import COMPONENT_VERSION
from scheduler_async.web_elements import WebElementsError, fetch_web_elements, verify_integrity

ROOT = Path(__file__).resolve().parent.parent
VERSION = "9.9.9"
FILES = {
    "package/dist/cdn/nylas-scheduling/nylas-scheduling.es.js": b"export const a = 1;\n",
    "package/dist/cdn/nylas-scheduler-editor/nylas-scheduler-editor.es.js": b"export const b;\n",
    "package/LICENSE": b"MIT\n",
    "package/package.json": b'{"name": "@nylas/web-elements"}\n',
    "package/dist/other.js": b"not wanted\n",
}


def make_tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class Registry:
    """A minimal npm registry: the package's abbreviated metadata and one tarball."""

    def __init__(self) -> None:
        self.tarball = make_tarball(FILES)
        self.integrity = sri(self.tarball)
        self.paths: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.paths.append(self.path)
                if self.path == "/@nylas%2Fweb-elements":
                    dist = {"tarball": f"{registry.url}/t.tgz", "integrity": registry.integrity}
                    meta = {"dist-tags": {"latest": VERSION}, "versions": {VERSION: {"dist": dist}}}
                    body = json.dumps(meta).encode()
                elif self.path == "/t.tgz":
                    body = registry.tarball
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def registry() -> Iterator[Registry]:
    reg = Registry()
    thread = threading.Thread(target=reg.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield reg
    finally:
        reg.server.shutdown()
        reg.server.server_close()
        thread.join()


def test_fetches_verifies_and_extracts_both_bundles(registry: Registry, tmp_path: Path) -> None:
    dest = tmp_path / "we"
    assert fetch_web_elements(VERSION, dest, registry=registry.url) == dest
    assert sorted(p.name for p in dest.iterdir()) == [
        "LICENSE",
        "nylas-scheduler-editor.es.js",
        "nylas-scheduling.es.js",
        "package.json",
    ]
    assert (dest / "nylas-scheduling.es.js").read_bytes() == FILES[
        "package/dist/cdn/nylas-scheduling/nylas-scheduling.es.js"
    ]
    assert registry.paths == ["/@nylas%2Fweb-elements", "/t.tgz"]
    fetch_web_elements(VERSION, dest, registry=registry.url)  # idempotent: nothing downloaded
    assert len(registry.paths) == 2


def test_a_wrong_checksum_writes_nothing(registry: Registry, tmp_path: Path) -> None:
    registry.integrity = sri(b"something else")
    with pytest.raises(WebElementsError, match="checksum mismatch"):
        fetch_web_elements(VERSION, tmp_path / "we", registry=registry.url)
    assert not (tmp_path / "we").exists()


def test_a_tarball_without_a_bundle_is_refused(registry: Registry, tmp_path: Path) -> None:
    files = dict(FILES)
    del files["package/dist/cdn/nylas-scheduler-editor/nylas-scheduler-editor.es.js"]
    registry.tarball = make_tarball(files)
    registry.integrity = sri(registry.tarball)
    with pytest.raises(WebElementsError, match=r"nylas-scheduler-editor\.es\.js is not in"):
        fetch_web_elements(VERSION, tmp_path / "we", registry=registry.url)
    assert not (tmp_path / "we").exists()


def test_an_unknown_version_names_the_latest(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(WebElementsError, match=r"no version '1\.0\.0'.*latest: 9\.9\.9"):
        fetch_web_elements("1.0.0", tmp_path / "we", registry=registry.url)


def test_integrity_needs_sha512() -> None:
    with pytest.raises(WebElementsError, match="no sha512"):
        verify_integrity(b"x", "sha1-" + base64.b64encode(hashlib.sha1(b"x").digest()).decode())
    verify_integrity(b"x", f"sha1-abc {sri(b'x')}")


def test_unreachable_registry_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WebElementsError, match=re.escape("could not download http://127.0.0.1:9/")):
        fetch_web_elements(VERSION, tmp_path, registry="http://127.0.0.1:9", timeout=5)
    with pytest.raises(WebElementsError, match="non-http"):
        web_elements._get("file:///etc/passwd", 5)


def test_cli_and_script(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "cli"
    args = ["fetch-web-elements", "--version", VERSION, "--dest", str(dest)]
    assert cli([*args, "--registry", registry.url]) == 0
    assert capsys.readouterr().out.strip() == str(dest)
    unknown = ["fetch-web-elements", "--version", "0.0.1", "--dest", str(tmp_path / "x")]
    assert cli([*unknown, "--registry", registry.url]) == 1
    assert "no version '0.0.1'" in capsys.readouterr().err
    # The script CI runs is a thin wrapper of the command (registry as for npm).
    out = subprocess.run(
        [str(ROOT / "scripts" / "fetch_web_elements.sh"), VERSION, "--dest", str(tmp_path / "sh")],
        env={"PATH": "/usr/bin:/bin", "npm_config_registry": registry.url},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "sh")
    assert (tmp_path / "sh" / "nylas-scheduler-editor.es.js").is_file()


def test_the_default_version_is_the_one_the_pages_load() -> None:
    assert web_elements.DEFAULT_VERSION == COMPONENT_VERSION
