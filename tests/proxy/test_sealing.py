"""Reasoning sealing (core/sealed.py) and its KMS adapter (adapters/aws.py ``KmsSealer``).

The adapter's calls are checked by botocore's ``Stubber`` against the KMS service model shipped with botocore
(parameter names and types: ``KeyId``, ``Plaintext`` up to 4,096 bytes, ``EncryptionContext``, ``CiphertextBlob``),
and its error mapping against the error codes the KMS API reference lists for Decrypt
(``InvalidCiphertextException``: "the encryption context ... does not match", ``IncorrectKeyException``).
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from emulators.sealer import local_sealer
from gptoss_proxy.adapters import aws
from gptoss_proxy.core import sealed

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def kms(monkeypatch):
    import boto3

    client = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(aws, "client", lambda service, timeout=300: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_kms_sealer_encrypts_each_part_with_the_route_context(kms):
    ctx = sealed.context("gpt-oss-20b", "rs_1", 0, 1)
    kms.add_response("encrypt", {"CiphertextBlob": b"sealed", "KeyId": KEY}, {"KeyId": KEY, "Plaintext": b"x" * 10, "EncryptionContext": ctx})
    kms.add_response("decrypt", {"Plaintext": b"x" * 10, "KeyId": KEY}, {"CiphertextBlob": b"sealed", "KeyId": KEY, "EncryptionContext": ctx})
    box = aws.KmsSealer(KEY)
    assert box.open(box.seal(b"x" * 10, ctx), ctx) == b"x" * 10
    assert ctx == {"purpose": "gptoss-reasoning", "route": "gpt-oss-20b", "item": "rs_1", "part": "0/1"}


@pytest.mark.parametrize("code, error", [("InvalidCiphertextException", sealed.SealBroken), ("IncorrectKeyException", sealed.SealBroken),
                                         ("KMSInternalException", sealed.SealUnavailable), ("ThrottlingException", sealed.SealUnavailable)])
def test_fails_when_kms_refuses_to_decrypt(kms, code, error):
    kms.add_client_error("decrypt", service_error_code=code, http_status_code=400)
    with pytest.raises(error):
        aws.KmsSealer(KEY).open(b"sealed", sealed.context("m", "rs_1", 0, 1))


def test_a_part_never_exceeds_the_kms_plaintext_limit():
    """KMS Encrypt takes at most 4,096 bytes of plaintext (botocore kms model, PlaintextType max)."""
    import botocore.session

    limit = botocore.session.get_session().get_service_model("kms").shape_for("PlaintextType").metadata["max"]
    assert sealed.MAX_PART_BYTES == limit
    sizes = []
    box = local_sealer()
    recording = sealed.Sealer(seal=lambda p, c: (sizes.append(len(p)), box.seal(p, c))[1], open=box.open)
    text = "".join(f"{i:x}" * 3 for i in range(20_000))  # poorly compressible: several parts
    token = sealed.seal_reasoning(recording, text, "m", "rs_1")
    assert len(sizes) > 1 and max(sizes) <= limit
    assert sealed.open_reasoning(box, token, "m") == text


def test_fails_when_parts_are_reordered():
    box = local_sealer()
    text = "".join(f"{i:x}" * 3 for i in range(20_000))
    import base64
    import json

    frame = json.loads(base64.b64decode(sealed.seal_reasoning(box, text, "m", "rs_1")))
    frame["parts"].reverse()
    with pytest.raises(sealed.SealBroken):
        sealed.open_reasoning(box, base64.b64encode(json.dumps(frame).encode()).decode(), "m")


def test_fails_under_another_key():
    token = sealed.seal_reasoning(local_sealer(), "thought", "m", "rs_1")
    with pytest.raises(sealed.SealBroken):
        sealed.open_reasoning(local_sealer(), token, "m")


def test_the_lambda_builds_the_kms_sealer_and_never_the_local_one():
    from gptoss_proxy.wiring import build_service

    env = {"GPTOSS_ROUTES": '{"m": {"backend": "bedrock", "model_id": "openai.gpt-oss-20b-1:0"}}', "GPTOSS_REASONING_KEY_ID": KEY}
    service = build_service(env, log=lambda r: None)
    assert service.sealer.seal.__self__.__class__ is aws.KmsSealer and service.sealer.seal.__self__.key_id == KEY
    assert build_service({"GPTOSS_ROUTES": env["GPTOSS_ROUTES"]}, log=lambda r: None).sealer is None
    import pathlib

    asset = pathlib.Path(aws.__file__).resolve().parents[2]
    imports = [line for p in asset.rglob("*.py") for line in p.read_text().splitlines() if line.strip().startswith(("import ", "from "))]
    assert imports and not [line for line in imports if "emulators" in line or "cryptography" in line]
