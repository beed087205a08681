"""Attack and perturbation transforms (cases stage).

`apply_chain(case, "roleplay:dan+base64", seed)` derives a variant of a case;
`list_transforms()` describes every registered transform. See `assay.transforms.base`.
"""

from assay.transforms import adaptive, crescendo, encoding, framing, perturb, translate  # noqa: F401  (register)
from assay.transforms.base import (
    TRANSFORMS,
    Skip,
    Transform,
    TransformContext,
    TransformMeta,
    TransformResult,
    TransformSkipped,
    Translator,
    apply_chain,
    apply_chain_async,
    apply_transform,
    chain_name,
    chain_of,
    expand_cases,
    get_transform,
    list_transforms,
    parse_chain,
    register_transform,
)

__all__ = [
    "TRANSFORMS",
    "Skip",
    "Transform",
    "TransformContext",
    "TransformMeta",
    "TransformResult",
    "TransformSkipped",
    "Translator",
    "apply_chain",
    "apply_chain_async",
    "apply_transform",
    "chain_name",
    "chain_of",
    "expand_cases",
    "get_transform",
    "list_transforms",
    "parse_chain",
    "register_transform",
]
