"""Rebuilds constructs/assets/tiktoken/o200k_base.tar.gz, the tokenizer encoding GptOssEndpoint ships to the model.

Why: vLLM loads the gpt-oss (harmony) tokenizer through openai-harmony, which reads ``o200k_base.tiktoken`` from
``$TIKTOKEN_ENCODINGS_BASE`` or downloads it from the public internet (openai/harmony
src/tiktoken_ext/public_encodings.rs; vllm-project/vllm#22525, openai/harmony#46, #95). Our endpoint runs with network
isolation, so the file must come with the model: an additional model data source, untarred by SageMaker.

Where the bytes come from: the PyPI package ``oss-harmony`` (a fork of openai-harmony) embeds the vocabulary in its
binary. This script decodes every mergeable rank back to its bytes and writes the ``.tiktoken`` format (``base64 rank``
per line); the result must hash to the SHA-256 that openai-harmony pins for o200k_base, or the script fails.

Run it in a throwaway venv (oss-harmony and openai-harmony share the import name ``openai_harmony``)::

    python3 -m venv /tmp/oss-harmony && /tmp/oss-harmony/bin/pip install oss-harmony==0.0.11
    /tmp/oss-harmony/bin/python tools/build_tokenizer_asset.py
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

#: openai/harmony src/tiktoken_ext/public_encodings.rs, ``expected_hash`` of O200kBase (also used by O200kHarmony)
O200K_BASE_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
FILE_NAME = "o200k_base.tiktoken"
MERGEABLE_RANKS = 199998  # o200k_base's specials start at 199998 (public_encodings.rs)
ASSET = Path(__file__).resolve().parent.parent / "constructs" / "assets" / "tiktoken" / "o200k_base.tar.gz"


def encoding_file() -> bytes:
    """The o200k_base.tiktoken bytes, rebuilt from oss-harmony's embedded vocabulary and checked against the pin."""
    from openai_harmony import HarmonyEncodingName, load_harmony_encoding

    inner = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)._inner
    lines = [base64.b64encode(bytes(inner.decode_bytes([rank]))) + b" " + str(rank).encode() for rank in range(MERGEABLE_RANKS)]
    data = b"\n".join(lines) + b"\n"
    digest = hashlib.sha256(data).hexdigest()
    if digest != O200K_BASE_SHA256:
        raise SystemExit(f"rebuilt {FILE_NAME} hashes to {digest}, expected {O200K_BASE_SHA256}: is oss-harmony installed?")
    return data


def tarball(data: bytes) -> bytes:
    """A reproducible .tar.gz holding only ``o200k_base.tiktoken`` (fixed mtime/owner, so the asset hash is stable)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            info = tarfile.TarInfo(FILE_NAME)
            info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o644, 0, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main() -> int:
    ASSET.parent.mkdir(parents=True, exist_ok=True)
    ASSET.write_bytes(tarball(encoding_file()))
    print(f"wrote {ASSET} ({ASSET.stat().st_size} bytes, {FILE_NAME} sha256 {O200K_BASE_SHA256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
