"""The report formats a run's report can be written in (format -> file extension).

Kept apart from the report modules so that checking `--format` before a run starts does not
import them: they load while the run sends (`assay.report.runs.warm`)."""

from __future__ import annotations

FORMATS = {"html": "html", "md": "md", "json": "json", "junit": "xml"}
