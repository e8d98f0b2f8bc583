"""What `%agent` subcommands return: `Report` and `Table`, which live in view/report.py so that
the Python API's listings (api/) show the same way."""

from __future__ import annotations

from ..view.report import Report, Table

__all__ = ["Report", "Table"]
