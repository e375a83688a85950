"""The README's two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ci_command(name: str) -> str:
    text = (ROOT / ".ci" / "run").read_text()
    match = re.search(rf'^{name}="(.*)"$', text, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)
    assert blocks[0] == _ci_command("DEMO_CMD")
    assert blocks[1] == _ci_command("TEST_CMD")
