"""Signed evidence bundles: write, verify, read back safely.

Format `assay.bundle/1` — a zip with these members (and nothing else):

    run.json             the Run: profile, plan, plan hash, bank and data hashes, software versions
    cases.jsonl          one case a line; a private-bank case keeps only its id, labels and
                         `text_sha256` (never its messages, follow-ups or metadata)
    responses.jsonl      one Response a line
    judgments.jsonl      one Judgment a line
    results.json         the scoring Assessment (verdicts, decisions, breakdowns, grades)
    graders.json         validation figures of the graders used
    reports/...          rendered reports (report.html, report.md, report.json, ...)
    MANIFEST.json        {"format", "run_id", "created_at", "files": {name: {"sha256", "size"}}}
    MANIFEST.sig         {"algorithm": "ed25519", "key_id", "public_key" (base64 raw), "signature"
                         (base64, over the exact bytes of MANIFEST.json)}

Everything written passes through `redact` (declared secrets + secret-looking environment
variables + credential-shaped strings). Zip entries carry a fixed timestamp, so the
same contents give the same bytes.

`verify_bundle` checks every member against the manifest (hash and size), that no member
is missing or extra, and the signature; it names every tampered file. Then the signer:
a bundle verifies only when its key is trusted — the `trusted_public_key` given, else one
of the keys in $ASSAY_HOME/trusted-keys (`assay keys trust FILE`; a key that signed a
bundle here, or was generated here, is trusted here). A valid signature by any other key
is the distinct outcome "signature valid but signer not trusted" (`VerifyReport.untrusted`).

`read_bundle` is for `assay import`: it never extracts to disk; it reads members into
memory with hard limits (member size, total size, compression ratio, member count),
rejects absolute paths, `..`, backslashes, drive letters, symlinks, duplicate names and
encrypted members, verifies the bundle, and returns the parsed contents.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import stat
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

from assay.core.errors import AssayError, InputError
from assay.core.ids import canonical_json, sha256_hex
from assay.core.secrets import known_secrets, redact
from assay.core.types import Case, Judgment, Message, Response, Run
from assay.evidence.keys import (
    key_id,
    load_private_key,
    load_public_key,
    public_b64,
    trust_key,
    trusted_keys,
    trusted_keys_dir,
)
from assay.report.build import hide_user_turns, private_text_hash

FORMAT = "assay.bundle/1"
MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.sig"
CORE_MEMBERS = (
    "run.json",
    "cases.jsonl",
    "responses.jsonl",
    "judgments.jsonl",
    "results.json",
    "graders.json",
)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class BundleContents:
    """What goes into a bundle. `reports` maps a file name (e.g. "report.html") to its text."""

    run: Run
    cases: Sequence[Case]
    responses: Mapping[str, Response] | Sequence[Response]
    judgments: Sequence[Judgment]
    results: BaseModel | Mapping[str, Any] | None = None
    graders: Sequence[Mapping[str, Any]] | Mapping[str, Any] = field(default_factory=list)
    reports: Mapping[str, str | bytes] = field(default_factory=dict)
    private_banks: Iterable[str] = ()
    secrets: Iterable[str] = ()


def run_contents(source: Any, run_id: str) -> BundleContents:
    """What a run's bundle holds, from a store (`assay bundle`, the dashboard's download and
    `api.bundle` all build it here): the run, its cases, answers and judgments, the
    assessment, the validation figures of every grader it used, and the reports in every
    format."""
    from assay.report.html import render_html
    from assay.report.runs import report_data
    from assay.report.text import render_json, render_junit, render_markdown

    data, results, raw = report_data(source, run_id)
    used = {g.partition("@")[0] for g in raw["run"].graders} | {
        j.grader.partition("@")[0] for j in raw["judgments"]
    }
    validations = source.latest_validations()
    return BundleContents(
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


class BundleRejected(AssayError):
    """A bundle that does not verify — tampered, or signed by a key that is not trusted:
    `import` stores nothing (exit 1: a failed check, not bad input)."""

    exit_code = 1


@dataclass
class VerifyReport:
    path: str
    ok: bool = False
    signature_ok: bool = False
    key_id: str | None = None
    trusted: bool | None = None  # is the signer one of the trusted keys (None: not checked)
    trust_source: str | None = None  # where the trusted key came from (--public-key, trusted-keys/…)
    trusted_from: str = ""  # which trusted keys were consulted (for messages)
    tampered: list[str] = field(default_factory=list)  # hash or size differs from the manifest
    missing: list[str] = field(default_factory=list)  # in the manifest, not in the zip
    extra: list[str] = field(default_factory=list)  # in the zip, not in the manifest
    errors: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def untrusted(self) -> bool:
        """Intact and validly signed, but by a key that is not trusted."""
        return (
            self.signature_ok
            and self.trusted is False
            and not (self.tampered or self.missing or self.extra or self.errors)
        )

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.files} files match the manifest; signature valid, "
                f"key {self.key_id} (trusted: {self.trust_source})"
            )
        if self.untrusted:
            return (
                f"UNTRUSTED: signature valid but signer not trusted: key {self.key_id} is not "
                f"among {self.trusted_from or 'the trusted keys'} ({self.files} files match the manifest). "
                "If you trust its signer, add the key with `assay keys trust FILE` or name it with --public-key"
            )
        parts = [f"tampered: {', '.join(self.tampered)}"] if self.tampered else []
        parts += [f"missing: {', '.join(self.missing)}"] if self.missing else []
        parts += [f"extra: {', '.join(self.extra)}"] if self.extra else []
        parts += self.errors
        return "FAILED: " + "; ".join(parts)


@dataclass
class BundleData:
    """A verified bundle, parsed, for `assay import`."""

    manifest: dict[str, Any]
    run: Run
    cases: list[dict[str, Any]]  # private cases are hash-only dicts, so not Case objects
    responses: list[Response]
    judgments: list[Judgment]
    results: dict[str, Any]
    graders: Any
    reports: dict[str, bytes]
    verify: VerifyReport

    def full_cases(self) -> list[Case]:
        """The cases that carry their text (public banks) as Case objects."""
        return [Case.model_validate(c) for c in self.cases if not c.get("private")]


@dataclass(frozen=True)
class Limits:
    max_member: int = 256 * 1024 * 1024
    max_total: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed / compressed, for members above `ratio_floor`
    ratio_floor: int = 1024 * 1024
    max_members: int = 10_000


# ------------------------------------------------------------------ writing


def _jsonl(items: Iterable[Any]) -> bytes:
    return "".join(canonical_json(x) + "\n" for x in items).encode("utf-8")


def _dump(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    return obj


def case_record(case: Case, private: bool) -> dict[str, Any]:
    if not private:
        return case.model_dump(mode="json")
    return {
        "id": case.id,
        "bank": case.bank,
        "private": True,
        "text_sha256": private_text_hash(case),
        "language": case.language,
        "categories": list(case.categories),
        "risks": list(case.risks),
        "expected": case.expected,
        "transforms": list(case.transforms),
        "parent": case.parent,
    }


def _safe_report_name(name: str) -> str:
    p = PurePosixPath(name)
    if p.is_absolute() or len(p.parts) != 1 or name in ("", ".", "..") or "\\" in name:
        raise InputError(f"report name {name!r} must be a plain file name", where="reports")
    return f"reports/{name}"


def bundle_members(contents: BundleContents) -> dict[str, bytes]:
    """The data members of a bundle (no manifest, no signature), redacted."""
    private = set(contents.private_banks)
    private_ids = {c.id for c in contents.cases if c.bank in private or bool(c.metadata.get("private"))}
    responses = (
        list(contents.responses.values())
        if isinstance(contents.responses, Mapping)
        else list(contents.responses)
    )
    members: dict[str, bytes] = {
        "run.json": (
            json.dumps(contents.run.model_dump(mode="json"), indent=2, ensure_ascii=False, sort_keys=True)
            + "\n"
        ).encode(),
        "cases.jsonl": _jsonl(
            case_record(c, c.bank in private or bool(c.metadata.get("private"))) for c in contents.cases
        ),
        "responses.jsonl": _jsonl(
            (
                r.model_copy(update={"transcript": tuple(hide_user_turns(r.transcript))})
                if r.case_id in private_ids
                else r
            ).model_dump(mode="json")
            for r in responses
        ),
        "judgments.jsonl": _jsonl(j.model_dump(mode="json") for j in contents.judgments),
        "results.json": (
            json.dumps(_dump(contents.results) or {}, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        ).encode(),
        "graders.json": (
            json.dumps(_dump(contents.graders), indent=2, ensure_ascii=False, sort_keys=True, default=_dump)
            + "\n"
        ).encode(),
    }
    for name, body in sorted(contents.reports.items()):
        members[_safe_report_name(name)] = body.encode("utf-8") if isinstance(body, str) else body
    secrets = known_secrets(contents.secrets)
    out: dict[str, bytes] = {}
    for name, data in members.items():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            out[name] = data  # binary report (none today): written as is
            continue
        out[name] = redact(text, secrets).encode("utf-8")
    return out


def manifest_bytes(members: Mapping[str, bytes], run_id: str, created_at: datetime | None = None) -> bytes:
    doc = {
        "format": FORMAT,
        "run_id": run_id,
        "created_at": (created_at or datetime.now(UTC)).isoformat(),
        "files": {n: {"sha256": sha256_hex(b), "size": len(b)} for n, b in sorted(members.items())},
    }
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def sign_manifest(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    sig = {
        "algorithm": "ed25519",
        "key_id": key_id(key),
        "public_key": public_b64(key.public_key()),
        "signature": base64.b64encode(key.sign(manifest)).decode("ascii"),
        "signed": MANIFEST,
    }
    return (json.dumps(sig, indent=2, sort_keys=True) + "\n").encode("utf-8")


def write_bundle(
    path: str | Path,
    contents: BundleContents,
    signing_key: Ed25519PrivateKey | str | Path | None = None,
    *,
    created_at: datetime | None = None,
    trust_signer: bool = True,
) -> Path:
    """Write a signed bundle to `path` (key: object, PEM path/text, or None for $ASSAY_SIGNING_KEY).

    With `trust_signer` the signing key's public half joins this machine's trusted keys, so
    a bundle made here verifies here; elsewhere its key must be trusted explicitly."""
    key = signing_key if isinstance(signing_key, Ed25519PrivateKey) else load_private_key(signing_key)
    members = bundle_members(contents)
    manifest = manifest_bytes(members, contents.run.id, created_at)
    sig = sign_manifest(manifest, key)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in [*sorted(members.items()), (MANIFEST, manifest), (SIGNATURE, sig)]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data)
    tmp.replace(out)
    if trust_signer:
        # an unwritable ASSAY_HOME: the bundle is written; its key is just not trusted here
        with contextlib.suppress(InputError):
            trust_key(key.public_key())
    return out


# ------------------------------------------------------------------ reading safely


def _check_name(name: str) -> str | None:
    """Why a member name is unsafe, or None."""
    if not name or "\x00" in name:
        return "empty or NUL in name"
    if "\\" in name:
        return "backslash in name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".") for p in parts) or name.endswith("/"):
        return "path traversal or directory entry"
    return None


def _read_members(path: str | Path, limits: Limits, corrupt: list[str] | None = None) -> dict[str, bytes]:
    """All members, in memory, with every safety check; InputError on the first problem.

    A member whose data fails to decompress or fails its CRC is an InputError, unless
    `corrupt` is given: then its name is appended there (verify reports it as tampered).
    """
    p = Path(path)
    try:
        zf = zipfile.ZipFile(p)
    except (OSError, zipfile.BadZipFile) as e:
        raise InputError(f"not a readable zip file: {e}", where=str(p)) from None
    out: dict[str, bytes] = {}
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise InputError(f"too many members ({len(infos)} > {limits.max_members})", where=str(p))
        for info in infos:
            name = info.filename
            where = f"{p}:{name}"
            why = _check_name(name)
            if why:
                raise InputError(f"unsafe member name ({why})", where=where)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise InputError("symlink members are not allowed", where=where)
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise InputError("only regular files are allowed", where=where)
            if info.flag_bits & 0x1:
                raise InputError("encrypted members are not allowed", where=where)
            if name in out:
                raise InputError("duplicate member name", where=where)
            if info.file_size > limits.max_member:
                raise InputError(
                    f"member too large ({info.file_size} > {limits.max_member} bytes)", where=where
                )
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
                1, info.compress_size
            ):
                raise InputError("compression ratio too high (zip bomb?)", where=where)
            # never trust the header's size: read at most the limit plus one byte
            budget = min(limits.max_member, limits.max_total - total)
            try:
                with zf.open(info) as f:
                    data = f.read(budget + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
                if corrupt is None:
                    raise InputError(f"corrupt member: {e}", where=where) from None
                corrupt.append(name)
                continue
            if len(data) > budget:
                raise InputError("member larger than declared or over the total size limit", where=where)
            total += len(data)
            out[name] = data
    return out


def _verify_members(
    members: Mapping[str, bytes], path: str, trusted: Mapping[str, str], corrupt: Sequence[str] = ()
) -> VerifyReport:
    """`trusted`: key id -> where that trusted key came from."""
    rep = VerifyReport(path=path)
    rep.tampered.extend(corrupt)
    man_raw, sig_raw = members.get(MANIFEST), members.get(SIGNATURE)
    if man_raw is None or sig_raw is None:
        rep.missing = [n for n in (MANIFEST, SIGNATURE) if n not in members and n not in rep.tampered]
        rep.errors.append("no manifest or signature")
        return rep
    try:
        manifest = json.loads(man_raw)
        files: dict[str, dict[str, Any]] = manifest["files"]
        if manifest.get("format") != FORMAT:
            rep.errors.append(f"unknown bundle format {manifest.get('format')!r}")
    except (ValueError, KeyError, TypeError):
        rep.tampered.append(MANIFEST)
        rep.errors.append("the manifest is not valid JSON of the bundle format")
        return rep
    rep.files = len(files)
    for name, meta in sorted(files.items()):
        data = members.get(name)
        if name in rep.tampered:
            continue
        if data is None:
            rep.missing.append(name)
        elif len(data) != meta.get("size") or sha256_hex(data) != meta.get("sha256"):
            rep.tampered.append(name)
    rep.extra = sorted(n for n in members if n not in files and n not in (MANIFEST, SIGNATURE))
    try:
        sig = json.loads(sig_raw)
        embedded = load_public_key(sig["public_key"])
        signature = base64.b64decode(sig["signature"], validate=True)
        rep.key_id = key_id(embedded)
        if sig.get("key_id") != rep.key_id:
            rep.errors.append("the signature's key id does not match its public key")
    except (ValueError, KeyError, TypeError, InputError):
        rep.tampered.append(SIGNATURE)
        rep.errors.append("the signature file is malformed")
        return rep
    try:
        embedded.verify(signature, man_raw)
        rep.signature_ok = True
    except InvalidSignature:
        # the signature cannot tell which of the two changed: name both
        for n in (MANIFEST, SIGNATURE):
            if n not in rep.tampered:
                rep.tampered.append(n)
        rep.errors.append(
            "the signature does not match the manifest: MANIFEST.json or MANIFEST.sig was changed"
        )
    rep.trust_source = trusted.get(rep.key_id or "")
    rep.trusted = rep.trust_source is not None
    rep.ok = rep.signature_ok and rep.trusted and not (rep.tampered or rep.missing or rep.extra or rep.errors)
    return rep


def check_is_bundle(bundle: Path) -> None:
    """InputError (bad input, exit 2), not a failed verification, for what is not a bundle
    at all: no such file, not a zip (or a truncated one), a zip without manifest and
    signature, an unsafe member name (zip-slip)."""
    if not bundle.is_file():
        raise InputError("no such file", where=str(bundle))
    try:
        with zipfile.ZipFile(bundle) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise InputError(f"not a bundle: not a readable zip file ({exc})", where=str(bundle)) from None
    for name in names:
        why = _check_name(name)
        if why:
            raise InputError(f"not a bundle: unsafe member name {name!r} ({why})", where=str(bundle))
    if MANIFEST not in names and SIGNATURE not in names:
        raise InputError(f"not an Assay bundle: no {MANIFEST} or {SIGNATURE}", where=str(bundle))


def trust_set(
    trusted_public_key: Ed25519PublicKey | str | Path | None = None,
    trusted: Mapping[str, Ed25519PublicKey] | None = None,
) -> tuple[dict[str, str], str]:
    """The keys a bundle may be signed by (key id -> source) and a phrase naming them.

    An explicit key replaces the trusted-keys folder; otherwise `trusted` (when given) or
    the folder $ASSAY_HOME/trusted-keys is used."""
    if trusted_public_key is not None:
        k = load_public_key(trusted_public_key)
        return {key_id(k): "--public-key"}, f"the key given with --public-key ({key_id(k)})"
    if trusted is not None:
        return {kid: "trusted keys" for kid in trusted}, f"the {len(trusted)} trusted key(s) given"
    folder = trusted_keys_dir()
    keys = trusted_keys(folder)
    return {kid: f"{folder.name}/{kid}.pub" for kid in keys}, f"the {len(keys)} trusted key(s) in {folder}"


def verify_bundle(
    path: str | Path,
    trusted_public_key: Ed25519PublicKey | str | Path | None = None,
    *,
    limits: Limits = Limits(),
    trusted: Mapping[str, Ed25519PublicKey] | None = None,
) -> VerifyReport:
    """Check every member hash and size, missing and extra members, the Ed25519 signature,
    and that the signer is trusted (see `trust_set`)."""
    keys, phrase = trust_set(trusted_public_key, trusted)
    corrupt: list[str] = []
    try:
        members = _read_members(path, limits, corrupt)
    except InputError as e:
        return VerifyReport(path=str(path), errors=[str(e)])
    rep = _verify_members(members, str(path), keys, corrupt)
    rep.trusted_from = phrase
    return rep


def read_bundle(
    path: str | Path,
    trusted_public_key: Ed25519PublicKey | str | Path | None = None,
    *,
    limits: Limits = Limits(),
    trusted: Mapping[str, Ed25519PublicKey] | None = None,
    accept_untrusted: bool = False,
) -> BundleData:
    """Read, verify and parse a bundle for import. Raises BundleRejected unless it
    verifies; an intact bundle signed by an untrusted key only with `accept_untrusted`."""
    keys, phrase = trust_set(trusted_public_key, trusted)
    members = _read_members(path, limits)
    rep = _verify_members(members, str(path), keys)
    rep.trusted_from = phrase
    if not rep.ok and not (accept_untrusted and rep.untrusted):
        hint = "; import it anyway with --accept-untrusted" if rep.untrusted else ""
        raise BundleRejected(f"{path}: bundle does not verify: {rep.summary()}{hint}")

    def load_json(name: str) -> Any:
        try:
            return json.loads(members[name])
        except (KeyError, ValueError) as e:
            raise InputError(f"cannot parse: {e}", where=f"{path}:{name}") from None

    def load_jsonl(name: str) -> list[Any]:
        rows = []
        for i, line in enumerate(io.StringIO(members.get(name, b"").decode("utf-8")), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    raise InputError(f"line {i} is not JSON: {e}", where=f"{path}:{name}:{i}") from None
        return rows

    def models(cls: type[Any], name: str) -> list[Any]:
        out = []
        for i, row in enumerate(load_jsonl(name), 1):
            try:
                out.append(cls.model_validate(row))
            except ValueError as e:
                raise InputError(f"invalid record: {e}", where=f"{path}:{name}:{i}") from None
        return out

    try:
        run = Run.model_validate(load_json("run.json"))
    except ValueError as e:
        raise InputError(f"invalid run: {e}", where=f"{path}:run.json") from None
    return BundleData(
        manifest=json.loads(members[MANIFEST]),
        run=run,
        cases=load_jsonl("cases.jsonl"),
        responses=models(Response, "responses.jsonl"),
        judgments=models(Judgment, "judgments.jsonl"),
        results=load_json("results.json") if "results.json" in members else {},
        graders=load_json("graders.json") if "graders.json" in members else [],
        reports={n.removeprefix("reports/"): b for n, b in members.items() if n.startswith("reports/")},
        verify=rep,
    )


@runtime_checkable
class RunSink(Protocol):
    def create_run(self, run: Run, cases: Sequence[Case], graders: dict[str, Sequence[str]]) -> None: ...
    def write_results(
        self, run_id: str, responses: Sequence[Response], judgments: Sequence[Judgment]
    ) -> None: ...


def import_bundle(
    sink: RunSink, bundle: Path, public_key: str | None = None, *, accept_untrusted: bool = False
) -> Run:
    """Verify and load a bundle into a store. Private cases become hash-only placeholders.

    A bundle signed by a key that is not trusted is refused (BundleRejected, nothing
    stored) unless `accept_untrusted`; the run's notes then say so."""
    data = read_bundle(bundle, public_key, accept_untrusted=accept_untrusted)
    cases: list[Case] = []
    for i, c in enumerate(data.cases, 1):
        try:
            if c.get("private"):
                cases.append(
                    Case(
                        id=c["id"],
                        bank=c["bank"],
                        messages=(
                            Message(role="user", content=f"[private case: sha256:{c['text_sha256']}]"),
                        ),
                        language=c["language"],
                        categories=tuple(c.get("categories", ())),
                        risks=tuple(c.get("risks", ())),
                        expected=c["expected"],
                        transforms=tuple(c.get("transforms", ())),
                        parent=c.get("parent"),
                        metadata={"private": True, "text_sha256": c["text_sha256"]},
                    )
                )
            else:
                cases.append(Case.model_validate(c))
        except (KeyError, ValueError) as e:
            raise InputError(f"invalid case record: {e}", where=f"{bundle}:cases.jsonl:{i}") from None
    run = data.run.model_copy(
        update={
            "notes": [
                *data.run.notes,
                f"imported from bundle {bundle.name}, signed by key {data.verify.key_id}"
                + (
                    f" (trusted: {data.verify.trust_source})"
                    if data.verify.trusted
                    else " — NOT a trusted key (accepted with --accept-untrusted)"
                ),
            ]
        }
    )
    getter = getattr(sink, "get_run", None)
    if getter is not None:
        try:
            existing = getter(run.id)
        except InputError:
            existing = None
        if existing is not None and existing.id == run.id:
            raise InputError(f"run {run.id} is already in this store; nothing imported", where=str(bundle))
    graders: dict[str, Sequence[str]] = {}
    for j in data.judgments:
        gid = j.grader.partition("@")[0]
        graders[j.case_id] = (
            [*graders.get(j.case_id, ()), gid]
            if gid not in graders.get(j.case_id, ())
            else graders[j.case_id]
        )
    sink.create_run(run, cases, graders)
    sink.write_results(run.id, data.responses, data.judgments)
    return run
