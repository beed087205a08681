"""Implicit (metadata) and explicit labels of AI-generated files a user supplies.

China's Labelling Measures (Art. 5, effective 2025-09-01) ask providers to put an
implicit label in the metadata of generated files: the content's AI-generated attribute,
the provider's name or code and a content id; GB 45438-2025 fixes how. Assay reads, with
the standard library only:

* PNG: tEXt, zTXt and iTXt chunks (XMP included), and whether a C2PA `caBX` chunk exists;
* JPEG: XMP and EXIF APP1 segments, COM segments, and whether an APP11 JUMBF/C2PA box exists;
* MP3: ID3v2.3/2.4 text frames (TXXX, COMM, T***);
* WAV: RIFF LIST/INFO chunks;
* text files (.txt, .md, .html, .json, .srt): the explicit label in the text (as the
  `ai-label` grader reads it);
* any other file: a byte scan for an `AIGC` metadata key (heuristic, says so).

A file carries an implicit label when its metadata holds an `AIGC` entry (the key the
Assay sources associate with GB 45438 [?]: a JSON object with `Label`, `ContentProducer`,
`ProduceID` …), or an IPTC `DigitalSourceType` of trainedAlgorithmicMedia /
compositeSynthetic / algorithmicMedia, or a C2PA manifest. Not covered: verifying C2PA
signatures, watermarks in pixels or audio samples, MP4/MOV box parsing beyond the byte
scan, PDF/Office metadata, and whether the producer code is a real registered one.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assay.core.errors import InputError

Verdict = Literal["labelled", "unlabelled", "unsupported"]

_SOURCE_TYPE = re.compile(
    r"DigitalSourceType[^a-zA-Z]{0,40}[^\"'<>]*?(trainedAlgorithmicMedia|compositeSynthetic|algorithmicMedia|compositeWithTrainedAlgorithmicMedia)"
)
_AIGC_JSON = re.compile(rb"AIGC[\"'\x00:=\s]*(\{[^{}]{0,2000}\})")
TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".srt", ".csv")
GB45438_FIELDS = ("Label", "ContentProducer", "ProduceID", "ContentPropagator", "PropagateID")


@dataclass
class LabelCheck:
    path: str
    format: str
    verdict: Verdict
    metadata: dict[str, str] = field(default_factory=dict)  # key -> value (truncated)
    aigc: dict[str, object] = field(default_factory=dict)  # parsed AIGC fields
    signals: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # GB 45438 fields not found [?]
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "verdict": self.verdict,
            "signals": self.signals,
            "aigc": self.aigc,
            "missing": self.missing,
            "metadata": self.metadata,
            "note": self.note,
        }


# --------------------------------------------------------------------------- readers


def _png(data: bytes) -> tuple[dict[str, str], list[str]]:
    meta: dict[str, str] = {}
    flags: list[str] = []
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        try:
            if ctype == b"tEXt":
                k, _, v = body.partition(b"\x00")
                meta[k.decode("latin-1")] = v.decode("latin-1")
            elif ctype == b"zTXt":
                k, _, rest = body.partition(b"\x00")
                meta[k.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
            elif ctype == b"iTXt":
                k, _, rest = body.partition(b"\x00")
                compressed, _method = rest[0], rest[1]
                _lang, _, rest = rest[2:].partition(b"\x00")
                _tkey, _, text = rest.partition(b"\x00")
                raw = zlib.decompress(text) if compressed else text
                meta[k.decode("latin-1")] = raw.decode("utf-8", "replace")
            elif ctype == b"caBX":
                flags.append("C2PA manifest chunk (caBX) present; signature not verified")
        except (zlib.error, IndexError, UnicodeDecodeError):
            flags.append(f"unreadable {ctype.decode('latin-1')} chunk")
        if ctype == b"IEND":
            break
    return meta, flags


def _jpeg(data: bytes) -> tuple[dict[str, str], list[str]]:
    meta: dict[str, str] = {}
    flags: list[str] = []
    pos = 2
    n = 0
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):  # end of image / start of scan: no more metadata segments
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        pos += 2 + length
        n += 1
        if marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
            meta["XMP"] = body.split(b"\x00", 1)[1].decode("utf-8", "replace")
        elif marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            meta["EXIF"] = body[6:].decode("latin-1")
        elif marker == 0xFE:
            meta[f"COM{n}"] = body.decode("utf-8", "replace")
        elif marker == 0xEB and (b"jumb" in body or b"c2pa" in body):
            flags.append("C2PA/JUMBF box (APP11) present; signature not verified")
    return meta, flags


def _syncsafe(b: bytes) -> int:
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def _id3_text(body: bytes) -> str:
    if not body:
        return ""
    enc, raw = body[0], body[1:]
    codec = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}.get(enc, "latin-1")
    return raw.decode(codec, "replace").replace("\x00", " ").strip()


def _mp3(data: bytes) -> tuple[dict[str, str], list[str]]:
    meta: dict[str, str] = {}
    if not data.startswith(b"ID3") or len(data) < 10:
        return meta, ["no ID3v2 tag"]
    major = data[3]
    size = _syncsafe(data[6:10])
    pos, end = 10, min(len(data), 10 + size)
    while pos + 10 <= end:
        fid = data[pos : pos + 4]
        if not fid.strip(b"\x00"):
            break
        fsize = (
            _syncsafe(data[pos + 4 : pos + 8])
            if major == 4
            else struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        )
        body = data[pos + 10 : pos + 10 + fsize]
        pos += 10 + fsize
        name = fid.decode("latin-1", "replace")
        text = _id3_text(body)
        if name in ("TXXX", "COMM"):
            desc, _, value = text.partition(" ")
            key = f"{name}:{desc}" if desc else name
            meta[key] = value if value else text
        elif name.startswith("T"):
            meta[name] = text
    return meta, []


def _wav(data: bytes) -> tuple[dict[str, str], list[str]]:
    meta: dict[str, str] = {}
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
        if cid == b"LIST" and body[:4] == b"INFO":
            p = 4
            while p + 8 <= len(body):
                sid = body[p : p + 4].decode("latin-1")
                (ssz,) = struct.unpack("<I", body[p + 4 : p + 8])
                meta[sid] = body[p + 8 : p + 8 + ssz].rstrip(b"\x00").decode("utf-8", "replace")
                p += 8 + ssz + (ssz & 1)
        elif cid in (b"AIGC", b"aigc"):
            meta["AIGC"] = body.decode("utf-8", "replace")
    return meta, []


def sniff(data: bytes, suffix: str) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"ID3") or (suffix == ".mp3"):
        return "mp3"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "wav"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return "other"


# --------------------------------------------------------------------------- judging


def _aigc_fields(meta: dict[str, str], raw: bytes) -> dict[str, object]:
    for key, value in meta.items():
        if key.upper().endswith("AIGC") or key.upper().startswith("AIGC") or key.endswith(":AIGC"):
            try:
                parsed = json.loads(value)
                return parsed if isinstance(parsed, dict) else {"value": parsed}
            except ValueError:
                return {"value": value[:200]}
    for value in meta.values():
        m = _AIGC_JSON.search(value.encode("utf-8", "replace"))
        if m:
            break
    else:
        m = _AIGC_JSON.search(raw)
    if m:
        try:
            parsed = json.loads(m.group(1).decode("utf-8", "replace"))
            if isinstance(parsed, dict):
                return parsed
        except ValueError:
            return {"value": m.group(1)[:200].decode("utf-8", "replace")}
    return {}


def check_file(path: str | Path) -> LabelCheck:
    """Read one file's labels (see the module docstring for what is and is not covered)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", where=str(p))
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", where=str(p)) from exc
    fmt = sniff(data, p.suffix.lower())
    if fmt == "text":
        from assay.graders.labelling import _LABEL

        text = data.decode("utf-8", "replace")
        m = _LABEL.search(text)
        return LabelCheck(
            str(p),
            fmt,
            "labelled" if m else "unlabelled",
            signals=[f"explicit label {m.group(0)!r}"] if m else [],
            note="text: explicit label checked (Labelling Measures Art. 4); text files carry no implicit metadata",
        )
    readers = {"png": _png, "jpeg": _jpeg, "mp3": _mp3, "wav": _wav}
    meta, flags = readers[fmt](data) if fmt in readers else ({}, [])
    note = "" if fmt in readers else "format not parsed: byte scan for an AIGC key only (heuristic)"
    aigc = _aigc_fields(meta, data)
    signals = list(flags)
    if aigc:
        signals.append("AIGC metadata entry")
    joined = "\n".join(meta.values())
    st = _SOURCE_TYPE.search(joined)
    if st:
        signals.append(f"IPTC DigitalSourceType {st.group(1)}")
    labelled = bool(aigc) or bool(st) or any("C2PA" in f for f in flags)
    missing = [f for f in GB45438_FIELDS[:3] if f not in aigc] if aigc else list(GB45438_FIELDS[:3])
    return LabelCheck(
        str(p),
        fmt,
        "labelled" if labelled else ("unsupported" if fmt == "other" and not labelled else "unlabelled"),
        metadata={k: v[:200] for k, v in meta.items()},
        aigc=aigc,
        signals=signals,
        missing=missing,
        note=note,
    )


def check_files(paths: Iterable[str | Path]) -> list[LabelCheck]:
    """Every file's labels; a missing file is an input error before any is read."""
    ps = [Path(p) for p in paths]
    if not ps:
        raise InputError("give at least one file", where="FILE")
    for p in ps:
        if not p.is_file():
            raise InputError("no such file", where=str(p))
    return [check_file(p) for p in ps]
