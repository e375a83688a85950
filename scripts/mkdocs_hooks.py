"""MkDocs hooks (mkdocs.yml ``hooks:``): render the test-runner fences as plain Python.

The guide's blocks are fenced ``python notest`` or ``python continuation`` for pytest-markdown-docs;
Python-Markdown's fenced-code extension takes only a language there, so without this such a
block would be rendered as Markdown text.
"""

from __future__ import annotations

import re
from typing import Any

_TEST_FENCE = re.compile(r"^(\s*```python)[ \t]+(?:notest|continuation)[ \t]*$", re.M)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Drop the test runner's words from a fence's info string."""
    return _TEST_FENCE.sub(r"\1", markdown)
