"""The packaged bank providers: importing this module registers them (the bank registry
imports it on first lookup, so `import assay.banks.files` alone does not build or load them)."""

from assay.banks import agentic, governance, tc260, technical  # noqa: F401  (register providers)
