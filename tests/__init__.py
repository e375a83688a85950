"""The test suite; its layout mirrors the package (see the README's Development section)."""
