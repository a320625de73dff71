"""Chain of custody: SHA-256 of what a job read and wrote, signed so it can be checked offline.

Reports and audit-trail exports are signed with Ed25519 (``cryptography``): the
private key stays in the data folder (``custody.key``, 0600); the public key
(``custody.pub``, also at ``GET /v1/custody/key``) is what a recipient needs to
check a document with ``veil verify``. Ed25519 rather than an HMAC because
checking must not need the secret that signs, and rather than RSA because its
keys and signatures are small and its one parameter set leaves nothing to
misconfigure.

The signature covers the document's canonical JSON (sorted keys, no spaces)
without its ``signature`` member.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from veil import version
from veil.errors import VeilError
from veil.service.secrets import key_file
from veil.service.settings import ServiceSettings
from veil.service.store import AuditEvent
from veil.service.store.audit import GENESIS, chain_ok
from veil.service.store.records import iso

ALGORITHM = "Ed25519"
_models: dict[tuple[str, int, int], str] = {}


def canonical(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _private_key(settings: ServiceSettings) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    def make() -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    pem = key_file(settings.data_dir / "custody.key", make)
    key = serialization.load_pem_private_key(pem, password=None)
    public = public_key_text(key.public_key().public_bytes_raw())
    published = settings.data_dir / "custody.pub"
    if not published.exists():
        key_file(published, lambda: public.encode())
    return key


def public_key_text(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def key_id(public_key: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def public_key(settings: ServiceSettings) -> str:
    """The service's public key, base64: what ``veil verify --key`` takes."""
    return public_key_text(_private_key(settings).public_key().public_bytes_raw())


def sign(settings: ServiceSettings, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with a ``signature`` member over everything else in it."""
    key = _private_key(settings)
    public = public_key_text(key.public_key().public_bytes_raw())
    value = base64.b64encode(key.sign(canonical(document))).decode()
    signature = {"algorithm": ALGORITHM, "key": public, "key_id": key_id(public), "value": value}
    return {**document, "signature": signature}


def check_signature(document: dict[str, Any], trusted: str | None) -> str:
    """The signing key's id if ``document``'s signature is valid (and by ``trusted``, if
    given); VeilError saying what is wrong otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        raise VeilError("not signed (no Ed25519 signature)")
    public = str(signature.get("key", ""))
    if trusted is not None and public != trusted.strip():
        raise VeilError(
            f"signed by key {key_id(public) if public else '?'}, not by the trusted key "
            f"{key_id(trusted.strip())}"
        )
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        key.verify(base64.b64decode(str(signature.get("value", ""))), canonical(document))
    except (InvalidSignature, ValueError) as exc:
        raise VeilError("the signature does not match the document: it was changed") from exc
    return key_id(public)


def model_hashes(detector: str) -> dict[str, str]:
    """SHA-256 of the model files a detector loads, by file name (cached per file version)."""
    from veil.detect import centerface, models_of, retinaface

    files = {"centerface": centerface.weights_path, "retinaface": retinaface.weights_path}
    hashes = {}
    for model in models_of(detector):
        path = files[model]()
        stat = path.stat()
        cache = (str(path), stat.st_size, stat.st_mtime_ns)
        if cache not in _models:
            _models[cache] = sha256_file(path)
        hashes[path.name] = _models[cache]
    return hashes


def veil_version() -> str:
    return version()


def signed_audit(settings: ServiceSettings, job_id: str, events: list[AuditEvent]) -> dict:
    """A job's audit trail as a signed document."""
    return sign(
        settings,
        {
            "type": "veil.audit",
            "job": job_id,
            "veil_version": veil_version(),
            "exported_at": iso(events[-1].at) if events else None,
            "chain": "sha256(prev + entry)",
            "head": events[-1].hash if events else GENESIS,
            "chain_ok": chain_ok(events),
            "events": [e.public() for e in events],
        },
    )


def check_chain(document: dict[str, Any]) -> int:
    """The number of entries if an exported audit trail's hash chain holds."""
    try:
        events = [_entry(document["job"], e) for e in document.get("events", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise VeilError(f"not an audit trail export ({exc})") from exc
    if not chain_ok(events) or (events and events[-1].hash != document.get("head")):
        raise VeilError("the audit trail's hash chain is broken: an entry was changed or removed")
    return len(events)


def _entry(job_id: str, e: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        job_id, int(e["seq"]), float(e["at_seconds"]), e["who"], e["action"], e["details"],
        e["prev"], e["hash"],
    )  # fmt: skip
