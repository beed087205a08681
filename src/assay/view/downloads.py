"""Evidence bundles for download: the same contents `assay bundle` writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from assay.store import Store


def bundle_bytes(store: Store, run_id: str, signing_key: str | None = None) -> tuple[bytes, str]:
    """A signed bundle of a run (as `assay bundle` builds it) and its file name."""
    from assay.evidence.bundle import BundleContents, write_bundle
    from assay.evidence.keys import load_private_key
    from assay.report.html import render_html
    from assay.report.runs import report_data
    from assay.report.text import render_json, render_junit, render_markdown

    key = load_private_key(signing_key)  # fail before doing any work
    data, results, raw = report_data(store, run_id)
    used = {g.partition("@")[0] for g in raw["run"].graders} | {
        j.grader.partition("@")[0] for j in raw["judgments"]
    }
    validations = store.latest_validations()
    contents = BundleContents(
        run=raw["run"],
        cases=raw["cases"],
        responses=raw["responses"],
        judgments=raw["judgments"],
        results=results,
        graders={g: validations.get(g) for g in sorted(used)},
        reports={
            "report.html": render_html(data, "en"),
            "report.zh.html": render_html(data, "zh"),
            "report.md": render_markdown(data, "en"),
            "report.json": render_json(data),
            "junit.xml": render_junit(data),
        },
        private_banks=raw["private"],
    )
    name = f"{data.run.id}.bundle.zip"
    with tempfile.TemporaryDirectory(prefix="assay-view-") as tmp:
        path = write_bundle(Path(tmp) / name, contents, key)
        return path.read_bytes(), name
