"""Compose the refusal label sets from hand-written pools and templates.

Split: every pool (prompts, templates, steps) is split by position — items whose index
% 3 == 2 are held-out test material, the rest train material — and a row is composed
only from material of one split. Test rows therefore share no response template and no
prompt with train rows. Run: python compose.py OUTDIR
"""

import json
import random
import sys

import hard_en
import hard_zh
import mixed
import pools_en
import pools_zh
import templates_en
import templates_zh


def split_of(i: int) -> str:
    return "test" if i % 3 == 2 else "train"


NOTES = {
    "apology": "refusal with apology",
    "no_apology": "refusal without apology words",
    "idiom": "Chinese refusal idiom",
    "policy": "policy-based refusal",
    "short": "terse refusal",
    "lecture": "refusal with moral lecture, no apology",
    "preamble": "refusal after a polite preamble",
    "offer": "refusal with an offer of other help",
    "as_ai": "'as an AI' refusal",
    "self_harm_redirect": "refusal redirecting to crisis support",
    "professional_redirect": "over-refusal redirecting to a professional",
    "partial_safe_info": "declines the harmful core, gives safe related info",
    "deflection": "heavy deflection without answering",
    "high_level": "vague high-level answer that withholds specifics",
    "comply_harmful": "complies with a harmful request",
    "comply_warning": "disclaimer first, then full compliance",
    "comply_fiction": "compliance wrapped in fiction/role-play",
    "comply_benign": "harmless prompt answered normally",
    "comply_hard": "compliance containing refusal-like words",
    "comply_illegal": "compliance that mentions illegality",
    "comply_disclaimer_end": "long compliant answer with a disclaimer at the end",
    "mixed": "mixed-language response",
    "comply_letter": "letter-style compliance whose own words look like a refusal",
    "lecture_no_cue": "refusal by condemnation and redirection, no refusal phrase",
    "refuse_then_counter": "opens with a refusal, then argues against the request at length",
    "degenerate_loop": "degenerate looping output (a phrase repeated): not a refusal",
}


def compose(lang: str) -> list[dict]:
    P = pools_en if lang == "en" else pools_zh
    T = templates_en if lang == "en" else templates_zh
    rng = random.Random(f"assay-refusal-labels-{lang}-v1")
    harmful = {s: [h for i, h in enumerate(P.HARMFUL) if split_of(i) == s] for s in ("train", "test")}
    benign = {s: [b for i, b in enumerate(P.BENIGN) if split_of(i) == s] for s in ("train", "test")}
    steps = {
        s: [x for i, x in enumerate(T.STEPS) if split_of(i) == s] or T.STEPS[:1] for s in ("train", "test")
    }
    acts = {s: [x for i, x in enumerate(T.ILLEGAL_ACTS) if split_of(i) == s] for s in ("train", "test")}
    rows: list[dict] = []

    def cap(s: str) -> str:
        return s[:1].upper() + s[1:] if lang == "en" else s

    def fill(
        tmpl: str, thing: str = "", info: list[str] | None = None, answer: str = "", split: str = "train"
    ) -> str:
        st = rng.choice(steps[split])
        info = info or ["", "", ""]
        return (
            tmpl.replace("{Thing}", cap(thing))
            .replace("{thing}", thing)
            .replace("{info1}", info[0])
            .replace("{info2}", info[1])
            .replace("{info3}", info[2])
            .replace("{answer_lc}", answer[:1].lower() + answer[1:] if lang == "en" else answer)
            .replace("{answer}", answer)
            .replace("{steps_inline}", " ".join(st.split("\n")))
            .replace("{steps}", st)
            .replace("{illegal_act}", rng.choice(acts[split]))
        )

    def add(split, cat, prompt, response, label, kind, note=None):
        rows.append(
            {
                "prompt": prompt,
                "response": response,
                "label": label,
                "language": lang,
                "category": cat,
                "kind": kind,
                "note": note or NOTES[kind],
                "split": split,
            }
        )

    # refusals (harmful and benign prompts: the latter are over-refusals)
    for kind, tmpls in T.REFUSAL_H.items():
        for i, tmpl in enumerate(tmpls):
            s = split_of(i)
            n_h = 2 if "{thing}" in tmpl.lower() else 1
            for cat, prompt, thing in rng.sample(harmful[s], n_h):
                add(s, cat, prompt, fill(tmpl, thing, split=s), "refusal", kind)
            cat, prompt, _ = rng.choice(benign[s])
            thing = prompt.rstrip("?？。.").lower() if lang == "en" else "这个问题"
            thing = "this" if lang == "en" else thing
            add(
                s,
                cat,
                prompt,
                fill(tmpl, "this" if lang == "en" else "这件事", split=s),
                "refusal",
                kind,
                NOTES[kind] + " (over-refusal of a harmless prompt)",
            )
    sh = {
        s: [h for h in harmful[s] if h[0] == "self_harm"] or [h for h in P.HARMFUL if h[0] == "self_harm"]
        for s in ("train", "test")
    }
    for i, tmpl in enumerate(T.REFUSAL_SELF_HARM):
        s = split_of(i)
        for cat, prompt, _thing in sh[s][:2]:
            add(s, cat, prompt, tmpl, "refusal", "self_harm_redirect")
    for i, tmpl in enumerate(T.REFUSAL_PROFESSIONAL):
        s = split_of(i)
        for cat, prompt, _ in rng.sample([b for b in benign[s] if b[0] in ("health", "legal", "finance")], 2):
            add(s, cat, prompt, tmpl, "refusal", "professional_redirect")
    # partial refusals
    for i, tmpl in enumerate(T.PARTIAL):
        s = split_of(i)
        for cat, prompt, thing in rng.sample(harmful[s], 3):
            add(s, cat, prompt, fill(tmpl, thing, P.SAFE_INFO[cat], split=s), "partial", "partial_safe_info")
    for i, tmpl in enumerate(T.DEFLECT):
        s = split_of(i)
        for cat, prompt, _thing in rng.sample(harmful[s], 2):
            add(s, cat, prompt, tmpl, "partial", "deflection")
    for i, tmpl in enumerate(T.HIGH_LEVEL):
        s = split_of(i)
        for cat, prompt, thing in rng.sample(harmful[s], 2):
            add(s, cat, prompt, fill(tmpl, thing, split=s), "partial", "high_level")
    # compliance with harmful requests
    for kind, tmpls, k in (
        ("comply_harmful", T.COMPLY_HARMFUL, 3),
        ("comply_warning", T.COMPLY_WARN, 2),
        ("comply_fiction", T.COMPLY_FICTION, 2),
    ):
        for i, tmpl in enumerate(tmpls):
            s = split_of(i)
            for cat, prompt, thing in rng.sample(harmful[s], k):
                add(s, cat, prompt, fill(tmpl, thing, split=s), "compliance", kind)
    # benign compliance
    for cat, prompt, answer in P.BENIGN:
        s = split_of(P.BENIGN.index((cat, prompt, answer)))
        add(s, cat, prompt, answer, "compliance", "comply_benign")
    for kind, tmpls, k in (
        ("comply_benign", T.COMPLY_BENIGN_WRAP[1:], 3),
        ("comply_hard", T.COMPLY_HARD, 3),
        ("comply_illegal", T.COMPLY_ILLEGAL, 3),
        ("comply_disclaimer_end", T.COMPLY_DISCLAIMER_END, 3),
    ):
        for i, tmpl in enumerate(tmpls):
            s = split_of(i)
            for cat, prompt, answer in rng.sample(benign[s], k):
                add(s, cat, prompt, fill(tmpl, answer=answer, split=s), "compliance", kind)
    # mixed language
    for i, (plang, cat, prompt, response, label, note) in enumerate(mixed.MIXED):
        if plang == lang:
            add(split_of(i), cat, prompt, response, label, "mixed", "mixed-language response: " + note)
    # hard cases added in version 2 (own seed, so the version-1 rows above are unchanged)
    H = hard_en if lang == "en" else hard_zh
    rng2 = random.Random(f"assay-refusal-labels-{lang}-v2")
    for i, (cat, prompt, response) in enumerate(H.LETTERS):
        add(split_of(i), cat, prompt, response, "compliance", "comply_letter")
    for i, tmpl in enumerate(H.LECTURES):
        s = split_of(i)
        for cat, prompt, thing in rng2.sample(harmful[s], 2):
            add(
                s,
                cat,
                prompt,
                tmpl.replace("{Thing}", cap(thing)).replace("{thing}", thing),
                "refusal",
                "lecture_no_cue",
            )
    for i, tmpl in enumerate(getattr(H, "REFUSE_THEN_COUNTER", [])):
        s = split_of(i)
        for cat, prompt, thing in rng2.sample(harmful[s], 2):
            add(s, cat, prompt, tmpl.replace("{thing}", thing), "partial", "refuse_then_counter")
    for i, (prompt, response) in enumerate(H.LOOPS):
        add(split_of(i), "degenerate", prompt, response.strip(), "compliance", "degenerate_loop")
    # dedupe
    seen = set()
    out = []
    for r in rows:
        key = (r["prompt"], r["response"])
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


MANIFEST_HEAD = {
    "name": "assay-refusal-labels",
    "version": "2",
    "schema": ["id", "prompt", "response", "label", "language", "category", "kind", "note"],
    "labels": ["refusal", "partial", "compliance"],
    "authoring": "hand-written pools and templates composed by scripts/refusal_labels/compose.py "
    "(seeded; regenerates these files byte for byte)",
    "split": "by material: pool items (prompts, response templates, step texts) with index % 3 == 2 are test "
    "material, the rest train; each row uses material of one split only, so test rows share no prompt and no "
    "response template with train rows",
}


if __name__ == "__main__":
    import hashlib
    from collections import Counter

    outdir = sys.argv[1]
    files = {}
    for lang in ("en", "zh"):
        rows = compose(lang)
        for s in ("train", "test"):
            part = [r for r in rows if r["split"] == s]
            name = f"refusal_{lang}_{s}.jsonl"
            with open(f"{outdir}/{name}", "w", encoding="utf-8") as fh:
                for n, r in enumerate(part):
                    r = {"id": f"{lang}-{s}-{n:04d}", **{k: v for k, v in r.items() if k != "split"}}
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            with open(f"{outdir}/{name}", "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            counts = Counter(r["label"] for r in part)
            files[name] = {
                "sha256": digest,
                "rows": len(part),
                "labels": dict(sorted(counts.items())),
                "split": s,
                "language": lang,
            }
            print(lang, s, len(part), counts)
    manifest = {**MANIFEST_HEAD, "files": dict(sorted(files.items()))}
    with open(f"{outdir}/manifest.json", "w", encoding="utf-8") as fh:
        fh.write(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
