"""The README's two commands are the ones CI runs."""

from __future__ import annotations

import re
import tomllib
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


def _markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_python_blocks_run_and_fragments_are_few() -> None:
    """Every ``python`` block of the README and of ``docs/`` runs in the suite
    (pytest-markdown-docs); ``notest`` fragments are the exception, and even they must compile."""
    fences: list[tuple[str, str, Path]] = []
    for page in _markdown_pages():
        text = page.read_text(encoding="utf-8")
        fences += [
            (i, c, page) for i, c in re.findall(r"```python([^\n]*)\n(.*?)\n```", text, re.S)
        ]
    fragments = [(code, page) for info, code, page in fences if "notest" in info]
    assert len(fences) >= 10
    assert len(fragments) <= len(fences) // 4, "too many blocks are left untested"
    for code, page in fragments:
        compile(code, str(page), "exec")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = pyproject["ini_options"]
    assert "--markdown-docs" in options["addopts"].split()
    assert {"README.md", "docs"} <= set(options["testpaths"])


def test_readme_is_a_front_page() -> None:
    """Install and a quick start first, the two judged commands under Development, the rest in
    the guide: every relative link of the README points at a file that exists."""
    readme = (ROOT / "README.md").read_text()
    headings = re.findall(r"^## (.+)$", readme, re.M)
    for needed in ("Installation", "Quick start", "Development"):
        assert needed in headings, needed
    assert headings.index("Installation") < headings.index("Quick start")
    assert headings[-1] == "Development"
    development = readme.split("\n## Development\n", 1)[1]
    assert _ci_command("DEMO_CMD") in development and _ci_command("TEST_CMD") in development
    assert "MIT" in readme and "pip install scheduler-client" in readme
    assert len(readme.splitlines()) < 300, "the README is a front page; topics live in docs/guide"
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), f"README links to a missing {target}"


def test_readme_blocks_print_only_when_they_fail_and_skips_say_why(tmp_path: Path) -> None:
    """pytest-markdown-docs turns capture off around a block; the root conftest keeps it on."""
    import subprocess
    import sys

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
