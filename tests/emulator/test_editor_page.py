"""The Scheduler Editor page (``--editor``): served on its own origin, both auth modes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from scheduler_async.emulator.editor_page import EDITOR_FILE


def test_cli_editor_serves_the_page_on_another_origin_and_seeds_a_grant(tmp_path: Path) -> None:
    (tmp_path / EDITOR_FILE).write_text("export function defineCustomElement() {}\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "scheduler_async", "emulator", "--port", "0", "--editor"]
    proc = subprocess.Popen(
        [*cmd, "--web-elements-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        api = lines[0].split("listening on ", 1)[1].split()[0]
        hosted = lines[2].split(": ", 1)[1].strip()
        assert lines[2].startswith("scheduler editor (hosted login): "), lines
        assert "Continue with Google" in lines[3] and "host@example.com" in lines[3]
        keyed = lines[4].split(": ", 1)[1].strip()
        assert not hosted.startswith(api)  # another origin than the API
        page = requests.get(hosted, timeout=5)
        assert page.status_code == 200 and "nylasSessionsConfig" in page.text
        assert f'"apiUrl":"{api}"' in page.text and '"apiKey":null' in page.text
        page = requests.get(keyed, timeout=5)
        assert page.status_code == 200 and '"grantId":"demo-grant"' in page.text
        assert requests.get(hosted.split("?")[0] + "?auth=api-key", timeout=5).status_code == 400
        asset = requests.get(hosted.replace("/editor", f"/editor/assets/{EDITOR_FILE}"), timeout=5)
        assert asset.status_code == 200
        calendars = requests.get(
            f"{api}/v3/grants/demo-grant/calendars", headers={"Authorization": "Bearer k"}
        )
        assert [c["id"] for c in calendars.json()["data"]] == ["primary", "work"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
