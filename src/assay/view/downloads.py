"""Evidence bundles for download: the same contents `assay bundle` writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from assay.store import Store


def bundle_bytes(store: Store, run_id: str, signing_key: str | None = None) -> tuple[bytes, str]:
    """A signed bundle of a run (as `assay bundle` builds it) and its file name."""
    from assay.evidence.bundle import run_contents, write_bundle
    from assay.evidence.keys import load_private_key

    key = load_private_key(signing_key)  # fail before doing any work
    contents = run_contents(store, run_id)
    name = f"{contents.run.id}.bundle.zip"
    with tempfile.TemporaryDirectory(prefix="assay-view-") as tmp:
        path = write_bundle(Path(tmp) / name, contents, key)
        return path.read_bytes(), name
