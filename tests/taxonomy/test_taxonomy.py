"""The unified taxonomy covers every regime list in full and references only what exists."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from assay.core.errors import InputError
from assay.core.io import parse_yaml, validate_as
from assay.taxonomy import export_crosswalk, load_taxonomy, taxonomy_hash
from assay.taxonomy.model import Taxonomy


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


def test_version_and_hash_are_stable(tax: Taxonomy) -> None:
    assert tax.version
    h = taxonomy_hash()
    assert len(h) == 64 and h == taxonomy_hash()


def test_37_categories_in_two_domains(tax: Taxonomy) -> None:
    assert len(tax.categories) == 37
    assert len(tax.categories_in("application_security")) == 21
    assert len(tax.categories_in("technical_safety")) == 16
    for c in tax.categories:
        assert c.name.en and c.name.zh and c.description.en and c.description.zh


def test_appendix_a_has_31_risks_8_9_5_7_2(tax: Taxonomy) -> None:
    scheme = tax.scheme("tc260_003_appendix_a")
    ids = [i.id for i in scheme.items]
    assert len(ids) == 31 == len(set(ids))
    per_group = {g: sum(1 for i in ids if i.startswith(g + ".")) for g in ("A.1", "A.2", "A.3", "A.4", "A.5")}
    assert per_group == {"A.1": 8, "A.2": 9, "A.3": 5, "A.4": 7, "A.5": 2}
    assert all(i.zh and i.en for i in scheme.items)


@pytest.mark.parametrize(
    ("scheme_id", "expected"),
    [("tc260_003_appendix_a", 31), ("nist_600_1", 12), ("ailuminate", 12), ("gpai_cop", 4), ("tc260_fw", 26)],
)
def test_every_regime_list_is_fully_covered(tax: Taxonomy, scheme_id: str, expected: int) -> None:
    scheme = tax.scheme(scheme_id)
    required = scheme.required_items()
    assert len(required) == expected
    assert tax.uncovered(scheme_id) == ()
    cov = tax.coverage(scheme_id)
    for item in required:
        assert cov[item.id], f"{scheme_id} {item.id} has no category"


def test_cop_systemic_risks_are_the_four(tax: Taxonomy) -> None:
    ids = {i.id for i in tax.scheme("gpai_cop").required_items()}
    assert ids == {"cbrn", "loss_of_control", "cyber_offence", "harmful_manipulation"}


def test_every_mapping_carries_source_and_confidence(tax: Taxonomy) -> None:
    n = 0
    for c in tax.categories:
        for maps in c.mappings.values():
            for m in maps:
                assert m.source.strip()
                assert m.confidence in {"V", "S", "M", "?"}
                n += 1
    assert n > 300


def test_every_referenced_test_method_exists(tax: Taxonomy) -> None:
    methods = {t.id for t in tax.test_methods}
    assert len(methods) == 43  # 41 + T-AGENT-INJECTION, T-AGENT-AGENCY (issue 18)
    for c in tax.categories:
        assert c.tests
        assert set(c.tests) <= methods
    # measured methods name the banks and graders that implement them
    for t in tax.test_methods:
        if t.kind == "measured":
            assert t.banks and t.graders, t.id


def test_every_mapping_ref_resolves_to_an_item(tax: Taxonomy) -> None:
    for c in tax.categories:
        for scheme_id, maps in c.mappings.items():
            scheme = tax.scheme(scheme_id)
            if scheme.free_text:
                continue
            for m in maps:
                assert scheme.item(m.ref) is not None, (c.id, scheme_id, m.ref)


def test_parent_article_resolution(tax: Taxonomy) -> None:
    eu = tax.scheme("eu_ai_act")
    item = eu.item("55(1)(b)")
    assert item is not None and item.id == "55"
    assert eu.item("Annex III(5)") is not None
    assert eu.item("999(1)") is None


def test_known_links(tax: Taxonomy) -> None:
    assert "AS-18" in tax.categories_for("ailuminate", "iwp")
    assert "AS-18" in tax.categories_for("gpai_cop", "cbrn")
    assert "TS-04" in tax.categories_for("nist_600_1", "2.2")
    assert set(tax.categories_for("tc260_003_appendix_a", "A.2.e")) >= {"AS-09", "TS-02"}
    # a sub-hazard ref (spc_hlt) is recorded under the 12-hazard uid with a note
    spc = [m for m in tax.category("AS-15").mappings["ailuminate"] if m.ref == "spc"]
    assert spc and "spc_" in spc[0].note


def test_aspects(tax: Taxonomy) -> None:
    assert len(tax.non_refusal_aspects) == 13
    assert tax.aspect_id("religion") == "beliefs"
    assert tax.aspect_id("History") == "history"
    assert tax.aspect_id("weather") is None


def test_unknown_test_method_is_rejected(tax: Taxonomy) -> None:
    data = tax.model_dump(mode="json")
    data["categories"][0]["tests"].append("T-NOPE")
    with pytest.raises(InputError) as err:
        validate_as(Taxonomy, data, "tax.yaml")
    assert "T-NOPE" in str(err.value) and "tax.yaml" in str(err.value)


def test_bad_ref_is_rejected(tax: Taxonomy) -> None:
    data = tax.model_dump(mode="json")
    data["categories"][0]["mappings"]["tc260_003_appendix_a"].append(
        {"ref": "A.9.z", "source": "x", "confidence": "V"}
    )
    with pytest.raises(InputError, match=r"A\.9\.z"):
        validate_as(Taxonomy, data, "tax.yaml")


def test_yaml_syntax_error_names_line() -> None:
    with pytest.raises(InputError, match=r"f\.yaml:2"):
        parse_yaml("a: 1\nb: : x\nc: 2\n", "f.yaml")


def test_export_csv_and_json(tax: Taxonomy) -> None:
    text = export_crosswalk(tax, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(len(v) for c in tax.categories for v in c.mappings.values())
    a1a = [r for r in rows if r["ref"] == "A.1.a"]
    assert a1a and a1a[0]["item_name"].startswith("Inciting subversion")
    zh = export_crosswalk(tax, "csv", lang="zh")
    assert "煽动颠覆国家政权" in zh
    doc = json.loads(export_crosswalk(tax, "json", domain="technical_safety"))
    assert doc["taxonomy_version"] == tax.version
    assert {c["id"][:2] for c in doc["categories"]} == {"TS"}
    assert all(r["domain"] == "technical_safety" for r in doc["crosswalk"])


def test_data_file_is_plain_yaml_with_version() -> None:
    from importlib import resources

    raw = resources.files("assay.taxonomy").joinpath("data", "taxonomy.yaml").read_text(encoding="utf-8")
    assert yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["version"]
