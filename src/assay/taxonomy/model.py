"""Pydantic models of the unified taxonomy data file (`data/taxonomy.yaml`)."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Confidence = Literal["V", "S", "M", "?"]
DomainId = Literal["technical_safety", "application_security"]
MethodKind = Literal["measured", "coverage", "evidence"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Strict):
    """A bilingual string."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Domain(_Strict):
    id: DomainId
    name: Text
    description: Text


class SchemeItem(_Strict):
    """One item of a regime's own list (e.g. TC260-003 risk A.1.a, NIST AI 600-1 §2.2)."""

    id: str
    en: str
    zh: str
    group: str | None = None
    kind: str | None = None
    confidence: Confidence | None = None  # overrides the scheme's confidence
    external: bool = False

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Scheme(_Strict):
    """A regime's item list that categories map onto."""

    id: str
    title: Text
    source: str
    confidence: Confidence
    complete: bool = False  # True: every item (of `complete_kinds`) must be covered
    complete_kinds: tuple[str, ...] = ()
    free_text: bool = False  # refs are free text, not item ids
    groups: tuple[SchemeItem, ...] = ()
    items: tuple[SchemeItem, ...] = ()

    def item(self, ref: str) -> SchemeItem | None:
        """The item `ref` names: exact id, or its parent article (`55(1)(b)` → `55`)."""
        by_id = {i.id: i for i in self.items}
        cur = ref
        while True:
            if cur in by_id:
                return by_id[cur]
            shorter = re.sub(r"\([^()]*\)$", "", cur).strip()
            if shorter == cur or not shorter:
                return None
            cur = shorter

    def required_items(self) -> tuple[SchemeItem, ...]:
        if not self.complete:
            return ()
        if self.complete_kinds:
            return tuple(i for i in self.items if i.kind in self.complete_kinds)
        return self.items


class Mapping(_Strict):
    """One category → regime item link, with where it comes from and how sure we are."""

    ref: str
    source: str
    confidence: Confidence
    note: str = ""
    partial: bool = False


class TestMethod(_Strict):
    __test__ = False  # not a pytest class

    id: str = Field(pattern=r"^T-[A-Z0-9-]+$")
    name: Text
    metric: str
    kind: MethodKind
    banks: tuple[str, ...] = ()
    graders: tuple[str, ...] = ()
    transforms: tuple[str, ...] = ()
    standard_refs: tuple[str, ...] = ()


class Category(_Strict):
    id: str = Field(pattern=r"^(AS|TS)-\d\d$")
    domain: DomainId
    name: Text
    description: Text
    tests: tuple[str, ...]
    mappings: dict[str, tuple[Mapping, ...]]
    notes: str = ""

    def refs(self, scheme: str) -> tuple[str, ...]:
        return tuple(m.ref for m in self.mappings.get(scheme, ()))


class Aspect(_Strict):
    id: str
    en: str
    zh: str
    aliases: tuple[str, ...] = ()


class Taxonomy(_Strict):
    version: str
    edition: str
    title: Text
    domains: tuple[Domain, ...]
    schemes: tuple[Scheme, ...]
    non_refusal_aspects: tuple[Aspect, ...]
    test_methods: tuple[TestMethod, ...]
    categories: tuple[Category, ...]
    #: transform id -> scheme id -> item refs (security frameworks: OWASP, MITRE ATLAS)
    transform_tags: dict[str, dict[str, tuple[str, ...]]] = {}

    @model_validator(mode="after")
    def _check_references(self) -> Taxonomy:
        problems: list[str] = []
        for kind, ids in (
            ("category", [c.id for c in self.categories]),
            ("test method", [t.id for t in self.test_methods]),
            ("scheme", [s.id for s in self.schemes]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                problems.append(f"duplicate {kind} ids: {', '.join(dupes)}")
        methods = {t.id for t in self.test_methods}
        schemes = {s.id: s for s in self.schemes}
        for cat in self.categories:
            for t in cat.tests:
                if t not in methods:
                    problems.append(f"{cat.id}: unknown test method {t}")
            for scheme_id, maps in cat.mappings.items():
                scheme = schemes.get(scheme_id)
                if scheme is None:
                    problems.append(f"{cat.id}: unknown scheme {scheme_id}")
                    continue
                if scheme.free_text:
                    continue
                for m in maps:
                    if scheme.item(m.ref) is None:
                        problems.append(f"{cat.id}: {scheme_id} ref {m.ref!r} is not an item of the scheme")
        for tid, by_scheme in self.transform_tags.items():
            for scheme_id, refs in by_scheme.items():
                scheme = schemes.get(scheme_id)
                if scheme is None:
                    problems.append(f"transform_tags.{tid}: unknown scheme {scheme_id}")
                    continue
                for ref in refs:
                    if scheme.item(ref) is None:
                        problems.append(
                            f"transform_tags.{tid}: {scheme_id} ref {ref!r} is not an item of the scheme"
                        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    SECURITY_SCHEMES: ClassVar[tuple[str, ...]] = ("owasp_llm_2025", "owasp_agentic_2026", "mitre_atlas")

    def security_tags(self, key: str) -> list[str]:
        """OWASP LLM 2025 / OWASP Agentic 2026 / MITRE ATLAS refs of a category id or a transform id
        (a transform chain "a+b" gets the union); "outside" entries are left out."""
        tags: list[str] = []
        cats = {c.id: c for c in self.categories}
        for part in key.split("+"):
            base = part.split(":", 1)[0].strip().lower().replace("-", "_")
            for scheme_id in self.SECURITY_SCHEMES:
                if key in cats:
                    refs = cats[key].refs(scheme_id)
                else:
                    refs = self.transform_tags.get(base, {}).get(scheme_id, ())
                tags.extend(r for r in refs if r != "outside" and r not in tags)
            if key in cats:
                break
        return tags

    # -- look-ups ---------------------------------------------------------------------

    def category(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)

    def scheme(self, scheme_id: str) -> Scheme:
        for s in self.schemes:
            if s.id == scheme_id:
                return s
        raise KeyError(scheme_id)

    def method(self, method_id: str) -> TestMethod:
        for t in self.test_methods:
            if t.id == method_id:
                return t
        raise KeyError(method_id)

    def categories_in(self, domain: str | None = None) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if domain is None or c.domain == domain)

    def categories_for(self, scheme_id: str, item_id: str) -> tuple[str, ...]:
        """Ids of the categories mapped to `item_id` of `scheme_id` (exact or sub-item refs)."""
        scheme = self.scheme(scheme_id)
        out = []
        for c in self.categories:
            for m in c.mappings.get(scheme_id, ()):
                item = scheme.item(m.ref) if not scheme.free_text else None
                if m.ref == item_id or (item is not None and item.id == item_id):
                    out.append(c.id)
                    break
        return tuple(out)

    def coverage(self, scheme_id: str) -> dict[str, tuple[str, ...]]:
        """For every item of a scheme, the categories that map to it."""
        return {i.id: self.categories_for(scheme_id, i.id) for i in self.scheme(scheme_id).items}

    def uncovered(self, scheme_id: str) -> tuple[str, ...]:
        """Required items of a complete scheme that no category maps to."""
        scheme = self.scheme(scheme_id)
        cov = self.coverage(scheme_id)
        return tuple(i.id for i in scheme.required_items() if not cov.get(i.id))

    def aspect_id(self, value: str) -> str | None:
        """Normalise a should-not-refuse aspect name or alias to its id."""
        v = value.strip().lower()
        for a in self.non_refusal_aspects:
            if v == a.id or v in a.aliases:
                return a.id
        return None
