"""The README's Webhooks section: every ``python`` block runs as written (``python notest``
blocks, which need a framework or a pytest fixture, at least compile)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> list[tuple[str, str]]:
    text = README.read_text()
    section = text.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python( notest)?\n(.*?)\n```", section, re.DOTALL)


BLOCKS = _blocks()
RUNNABLE = [code for notest, code in BLOCKS if not notest]


def test_section_has_runnable_and_framework_examples() -> None:
    assert len(RUNNABLE) >= 3
    assert any("fastapi" in code for notest, code in BLOCKS if notest)


@pytest.mark.parametrize("code", RUNNABLE, ids=[f"block{i}" for i in range(len(RUNNABLE))])
def test_readme_webhook_example_runs(code: str) -> None:
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})


@pytest.mark.parametrize("code", [code for notest, code in BLOCKS if notest])
def test_readme_notest_blocks_compile(code: str) -> None:
    compile(code, str(README), "exec")
