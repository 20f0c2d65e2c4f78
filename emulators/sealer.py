"""A local stand-in for the proxy's KMS sealing (gptoss_proxy.core.sealed), for the dev server and tests only.

AES-256-GCM (the ``cryptography`` package, a dev dependency; the Lambda has none) with a random key per process
and the encryption context as associated data, so it verifies like KMS does: a changed byte, another key or
another context fails. The Lambda never uses this: wiring.py builds ``adapters.aws.KmsSealer`` from
``GPTOSS_REASONING_KEY_ID``, and this module is not part of the Lambda asset (lambda/invoke_proxy).
"""

from __future__ import annotations

import json
import os
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def local_sealer(key: bytes | None = None):
    from gptoss_proxy.core.sealed import SealBroken, Sealer

    aead = AESGCM(key or AESGCM.generate_key(bit_length=256))

    def aad(context: Mapping[str, str]) -> bytes:
        return json.dumps(dict(context), sort_keys=True).encode()

    def seal(plaintext: bytes, context: Mapping[str, str]) -> bytes:
        nonce = os.urandom(12)
        return nonce + aead.encrypt(nonce, plaintext, aad(context))

    def open_(blob: bytes, context: Mapping[str, str]) -> bytes:
        try:
            return aead.decrypt(blob[:12], blob[12:], aad(context))
        except (InvalidTag, ValueError):
            raise SealBroken("the ciphertext does not verify") from None

    return Sealer(seal=seal, open=open_)
