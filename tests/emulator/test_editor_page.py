"""The Scheduler Editor page (``--editor``): served on its own origin, both auth modes."""

from __future__ import annotations

import signal
from pathlib import Path

import requests

from scheduler_async.emulator.editor_page import EDITOR_FILE

from .support import cli_emulator


def test_cli_editor_serves_the_page_on_another_origin_and_seeds_a_grant(tmp_path: Path) -> None:
    (tmp_path / EDITOR_FILE).write_text("export function defineCustomElement() {}\n")
    with cli_emulator("--editor", "--web-elements-dir", str(tmp_path)) as (proc, api):
        assert proc.stdout is not None
        lines = ["", *(proc.stdout.readline() for _ in range(4))]  # lines[0]: "listening on"
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
