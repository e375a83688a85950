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


def test_python_blocks_run_and_fragments_are_few() -> None:
    """Every ``python`` block runs in the suite (pytest-markdown-docs); ``notest`` fragments
    are the exception, and even they must compile."""
    readme = (ROOT / "README.md").read_text()
    fences = re.findall(r"```python([^\n]*)\n(.*?)\n```", readme, re.DOTALL)
    fragments = [code for info, code in fences if "notest" in info]
    assert len(fences) >= 10
    assert len(fragments) <= len(fences) // 4, "too many README blocks are left untested"
    for code in fragments:
        compile(code, "README.md", "exec")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "--markdown-docs" in pyproject and '"README.md"' in pyproject


def test_readme_blocks_print_only_when_they_fail_and_skips_say_why(tmp_path: Path) -> None:
    """pytest-markdown-docs turns capture off around a block; the root conftest keeps it on."""
    import subprocess
    import sys
    import tomllib

    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"][
        "addopts"
    ]
    assert "-rs" in addopts.split()
    page = tmp_path / "page.md"
    page.write_text('```python\nprint("QUIET-" + "BLOCK")\n```\n')
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "--markdown-docs", str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "QUIET-BLOCK" not in run.stdout + run.stderr
