"""Ed25519 signing keys for evidence bundles.

`generate_keypair(dir)` writes `assay-signing.key` (PKCS#8 PEM, mode 0600) and
`assay-signing.pub` (SubjectPublicKeyInfo PEM). A signing key is loaded from a file
path, from PEM text, or from the environment variable ASSAY_SIGNING_KEY (PEM text or a
path). The key id is the first 16 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assay.core.errors import InputError

ENV_VAR = "ASSAY_SIGNING_KEY"
PRIVATE_NAME = "assay-signing.key"
PUBLIC_NAME = "assay-signing.pub"


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return hashlib.sha256(raw_public(pub)).hexdigest()[:16]


def public_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(key)).decode("ascii")


def generate_keypair(directory: str | Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write a new key pair into `directory`; returns (private_path, public_path)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = d / PRIVATE_NAME, d / PUBLIC_NAME
    if not overwrite and (priv_path.exists() or pub_path.exists()):
        raise InputError(f"a key already exists in {d}; remove it or pass overwrite", where=str(priv_path))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # create with 0600 from the start: the key is never readable by others, not even briefly
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(priv_path, 0o600)
    pub_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return priv_path, pub_path


def _pem_or_path(value: str | bytes | Path, where: str) -> tuple[bytes, str]:
    if isinstance(value, bytes):
        return value, where
    if isinstance(value, str) and "-----BEGIN" in value:
        return value.encode("ascii", "replace"), where
    path = Path(value).expanduser()
    try:
        return path.read_bytes(), str(path)
    except OSError as e:
        raise InputError(f"cannot read key file: {e.strerror or e}", where=str(path)) from None


def load_private_key(source: str | bytes | Path | None = None) -> Ed25519PrivateKey:
    """A signing key from a path or PEM text, or (source None) from $ASSAY_SIGNING_KEY."""
    where = "--key"
    if source is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise InputError(
                f"no signing key: pass --key PATH or set {ENV_VAR} (PEM text or a path)", where="--key"
            )
        source, where = env, ENV_VAR
    data, where = _pem_or_path(source, where)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError("not a PEM private key (unencrypted PKCS#8 Ed25519 expected)", where=where) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key is not an Ed25519 key", where=where)
    return key


def load_public_key(source: str | bytes | Path | Ed25519PublicKey) -> Ed25519PublicKey:
    """A public key from a PEM file, PEM text, or base64 of the 32 raw bytes."""
    if isinstance(source, Ed25519PublicKey):
        return source
    where = "--public-key"
    if (
        isinstance(source, str)
        and "-----BEGIN" not in source
        and len(source) == 44
        and not Path(source).exists()
    ):
        try:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(source, validate=True))
        except ValueError:
            pass
    data, where = _pem_or_path(source, where)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError("not a PEM public key", where=where) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the public key is not an Ed25519 key", where=where)
    return key


# ------------------------------------------------------------------ trusted keys

TRUSTED_DIR = "trusted-keys"


def trusted_keys_dir() -> Path:
    """$ASSAY_HOME/trusted-keys: the public keys whose bundles `verify` and `import` accept."""
    from assay.core.config import assay_home

    return assay_home() / TRUSTED_DIR


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def trusted_keys(directory: str | Path | None = None) -> dict[str, Ed25519PublicKey]:
    """key id -> key, for every `*.pub` in the trusted-keys folder (an unreadable one is an InputError)."""
    d = Path(directory) if directory is not None else trusted_keys_dir()
    out: dict[str, Ed25519PublicKey] = {}
    if not d.is_dir():
        return out
    for path in sorted(d.glob("*.pub")):
        key = load_public_key(path)
        out[key_id(key)] = key
    return out


def trust_key(
    source: str | bytes | Path | Ed25519PublicKey, directory: str | Path | None = None
) -> tuple[str, Path]:
    """Add a public key (PEM file or text, base64, or a key) to the trusted keys.

    Stored as `<key id>.pub`; trusting a key twice changes nothing. Returns (key id, path).
    """
    key = load_public_key(source)
    d = Path(directory) if directory is not None else trusted_keys_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{key_id(key)}.pub"
        if not path.exists():
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(public_pem(key))
            tmp.replace(path)
    except OSError as e:
        raise InputError(f"cannot write the trusted key: {e.strerror or e}", where=str(d)) from None
    return key_id(key), path


def untrust_key(kid: str, directory: str | Path | None = None) -> list[Path]:
    """Remove a key (by key id or a unique prefix of it) from the trusted keys; returns the files removed."""
    d = Path(directory) if directory is not None else trusted_keys_dir()
    matches = (
        [p for p in sorted(d.glob("*.pub")) if key_id(load_public_key(p)).startswith(kid)]
        if d.is_dir()
        else []
    )
    if not kid or len({key_id(load_public_key(p)) for p in matches}) != 1:
        raise InputError(
            "no trusted key with this id" if not matches else "more than one trusted key has this prefix",
            where=kid or "KEY_ID",
        )
    for p in matches:
        p.unlink()
    return matches
