"""Reasoning the client carries between requests but can neither read nor forge (``encrypted_content``).

OpenAI's stateless round trip for ``store: false``: with ``include: ["reasoning.encrypted_content"]`` every
reasoning item comes back with ``encrypted_content``; the client sends the item back in the next request's
``input`` and the model sees its earlier chain of thought again (openai-python
``types/responses/response_includable.py``; ``response_reasoning_item.py``).

Design (one KMS call per 4 KiB of compressed reasoning, no data key ever in this process):

- the reasoning text is zlib-compressed and cut into parts of at most 4,096 bytes, the largest plaintext KMS
  ``Encrypt`` takes (botocore's KMS model: ``PlaintextType`` max 4096);
- each part is sealed by the injected ``Sealer.seal(plaintext, context)``: in the Lambda, KMS ``Encrypt`` with the
  proxy's own key (adapters/aws.py ``KmsSealer``); KMS ciphertext is authenticated and bound to its encryption
  context (AWS KMS developer guide, "Encryption context": the same context is required to decrypt);
- the context is ``{"purpose": "gptoss-reasoning", "route": <model name>, "item": <reasoning item id>,
  "part": "<i>/<n>"}``: a part cannot be moved to another route, item or position, and the key policy / IAM
  statement only allow the proxy role to use the key with a ``route`` it serves (``kms:EncryptionContext:route``);
- ``encrypted_content`` is base64 of ``{"v": 1, "id": <item id>, "parts": [<base64 ciphertext>, ...]}``: the item
  id travels inside, because clients do not always send the item's own id back (codex-rs does not serialize a
  reasoning item's ``id``).

Why not an envelope (one GenerateDataKey per cold start, local AES-GCM): the Lambda runtime has no AES in its
standard library or boto3, and a process-wide data key would bind nothing per route or item — every ciphertext
of every route would open with the same key held in memory. Direct ``Encrypt`` keeps the binding in KMS.

Tests and the local dev server inject a local AES-GCM sealer (emulators/sealer.py); the Lambda only ever gets
the KMS one (wiring.py), and without a key configured ``encrypted_content`` is refused with a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Callable, Mapping

PURPOSE = "gptoss-reasoning"
#: KMS Encrypt's largest plaintext (botocore kms service model, ``PlaintextType``: max 4096)
MAX_PART_BYTES = 4096
#: reasoning longer than this (compressed) is refused rather than sealed in hundreds of KMS calls
MAX_PARTS = 16
VERSION = 1


class SealBroken(ValueError):
    """The ciphertext is not one this proxy sealed for this route (tampered, foreign, or for another route)."""


class SealUnavailable(RuntimeError):
    """The sealing service failed (KMS throttled or unreachable): the client may retry."""


@dataclass(frozen=True)
class Sealer:
    """``seal(plaintext, context) -> ciphertext`` and ``open(ciphertext, context) -> plaintext``; ``open`` raises
    ``SealBroken`` when the ciphertext or context does not verify, ``SealUnavailable`` when the service failed."""

    seal: Callable[[bytes, Mapping[str, str]], bytes]
    open: Callable[[bytes, Mapping[str, str]], bytes]


def context(route: str, item_id: str, part: int, parts: int) -> dict[str, str]:
    return {"purpose": PURPOSE, "route": route, "item": item_id, "part": f"{part}/{parts}"}


def seal_reasoning(sealer: Sealer, text: str, route: str, item_id: str) -> str:
    """The reasoning text as ``encrypted_content`` for a reasoning item of ``route``."""
    data = zlib.compress(text.encode("utf-8"), 9)
    chunks = [data[i:i + MAX_PART_BYTES] for i in range(0, len(data), MAX_PART_BYTES)] or [b""]
    chunks = chunks[:MAX_PARTS]  # longer reasoning keeps its first parts: opening stops at the gap (below)
    total = len(chunks)
    parts = [base64.b64encode(sealer.seal(c, context(route, item_id, i, total))).decode() for i, c in enumerate(chunks)]
    frame = {"v": VERSION, "id": item_id, "parts": parts}
    return base64.b64encode(json.dumps(frame, separators=(",", ":")).encode()).decode()


def open_reasoning(sealer: Sealer, token: str, route: str) -> str:
    """The reasoning text sealed in ``token`` for ``route``; raises ``SealBroken`` on anything that does not verify."""
    try:
        frame = json.loads(base64.b64decode(token, validate=True))
        item_id, parts = frame["id"], frame["parts"]
        if frame.get("v") != VERSION or not isinstance(item_id, str) or not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
            raise ValueError("unknown frame")
        blobs = [base64.b64decode(p, validate=True) for p in parts]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise SealBroken("not an encrypted_content this proxy issued") from None
    data = b"".join(sealer.open(b, context(route, item_id, i, len(blobs))) for i, b in enumerate(blobs))
    decompressor = zlib.decompressobj()
    try:
        text = decompressor.decompress(data)
    except zlib.error:
        raise SealBroken("the sealed reasoning does not decompress") from None
    return text.decode("utf-8", errors="replace")
