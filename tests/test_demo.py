"""The demo (README's main job) runs on the embedded emulator unless --real asks otherwise."""

from __future__ import annotations

import pytest

from scheduler_async import demo


def test_demo_ignores_nylas_api_uri_and_runs_on_the_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NYLAS_API_URI", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NYLAS_API_KEY", "a-real-looking-key-that-must-not-be-used")
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert "embedded emulator at http://127.0.0.1:" in out
    assert "A configuration says who meets" in out
    assert "demo finished: every step succeeded" in out
    assert "127.0.0.1:9" not in out


def test_base_url_without_real_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        demo.main(["--base-url", "https://api.eu.nylas.com"])
    assert info.value.code == 2
    assert "--base-url is only used with --real" in capsys.readouterr().err


def test_real_without_credentials_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NYLAS_API_KEY", raising=False)
    monkeypatch.delenv("NYLAS_GRANT_ID", raising=False)
    with pytest.raises(SystemExit) as info:
        demo.main(["--real", "--email", "me@example.com"])
    assert info.value.code == 2
    assert "--real needs NYLAS_API_KEY, NYLAS_GRANT_ID and --email" in capsys.readouterr().err


def test_help_explains_the_terms(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        demo.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "a *session* is a short-lived" in out
    assert "--real" in out
