"""Evidence stage: signed bundles (write, verify, safe read), signing keys, secret scanning."""

from typing import TYPE_CHECKING

from assay._lazy import lazy_exports

if TYPE_CHECKING:
    from assay.evidence.bundle import (
        BundleContents,
        BundleData,
        BundleRejected,
        Limits,
        VerifyReport,
        read_bundle,
        verify_bundle,
        write_bundle,
    )
    from assay.evidence.hygiene import Finding, assert_no_secrets, redact, scan_for_secrets
    from assay.evidence.keys import (
        generate_keypair,
        key_id,
        load_private_key,
        load_public_key,
        trust_key,
        trusted_keys,
        trusted_keys_dir,
        untrust_key,
    )

__getattr__ = lazy_exports(__name__, ("bundle", "hygiene", "keys"))


__all__ = [
    "BundleContents",
    "BundleData",
    "BundleRejected",
    "Finding",
    "Limits",
    "VerifyReport",
    "assert_no_secrets",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "read_bundle",
    "redact",
    "scan_for_secrets",
    "trust_key",
    "trusted_keys",
    "trusted_keys_dir",
    "untrust_key",
    "verify_bundle",
    "write_bundle",
]
