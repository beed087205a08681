"""Load the packaged taxonomy with importlib.resources."""

from __future__ import annotations

from functools import cache
from importlib import resources

from assay.core.ids import sha256_hex
from assay.core.io import parse_yaml, validate_as
from assay.taxonomy.model import Taxonomy

TAXONOMY_FILE = "taxonomy.yaml"


def _data_bytes() -> bytes:
    return resources.files("assay.taxonomy").joinpath("data", TAXONOMY_FILE).read_bytes()


@cache
def load_taxonomy() -> Taxonomy:
    """The unified taxonomy, validated (cached: the packaged file does not change at run time)."""
    where = f"assay/taxonomy/data/{TAXONOMY_FILE}"
    return validate_as(Taxonomy, parse_yaml(_data_bytes().decode("utf-8"), where), where)


@cache
def taxonomy_hash() -> str:
    """SHA-256 of the taxonomy data file as shipped (a run records it)."""
    return sha256_hex(_data_bytes())
