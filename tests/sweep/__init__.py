"""Tests of bulk calls (``sweep.py``) and their progress display (``progress.py``)."""
