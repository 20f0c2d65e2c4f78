"""The ApplyGuardrail adapter against botocore's own model of the API (Stubber validates the request and the
response shapes against the bedrock-runtime service model shipped with botocore).

Source of the shapes: docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html
(request ``guardrailIdentifier``, ``guardrailVersion``, ``source``, ``content`` of text blocks; response
``action``, ``outputs``, ``assessments``, ``usage``), API_runtime_GuardrailUsage.html (the usage members).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from gptoss_proxy.adapters import aws

USAGE = {"topicPolicyUnits": 0, "contentPolicyUnits": 2, "wordPolicyUnits": 0, "sensitiveInformationPolicyUnits": 2,
         "sensitiveInformationPolicyFreeUnits": 0, "contextualGroundingPolicyUnits": 0}


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(aws, "client", lambda *a, **k: client)
    with Stubber(client) as stub:
        yield stub


def _expect(stub, response, texts, source="OUTPUT"):
    stub.add_response("apply_guardrail", {"usage": USAGE, "assessments": [], **response},
                      {"guardrailIdentifier": "gr1", "guardrailVersion": "3", "source": source, "content": [{"text": {"text": t}} for t in texts]})


def test_one_call_sends_every_text_as_its_own_block_and_maps_masks_back(stubbed):
    _expect(stubbed, {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "a {EMAIL}"}, {"text": "b"}],
                      "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "match": "x@y.z", "action": "ANONYMIZED"}], "regexes": []}}]}, ["a x@y.z", "b"])
    verdict = aws.BedrockGuardrail("gr1", "3")("OUTPUT", ["a x@y.z", "b"])
    assert verdict.masked and not verdict.blocked and verdict.texts == ("a {EMAIL}", "b")


def test_a_blocked_finding_blocks_with_the_guardrails_message(stubbed):
    _expect(stubbed, {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "Withheld."}],
                      "assessments": [{"wordPolicy": {"customWords": [{"match": "bad", "action": "BLOCKED"}], "managedWordLists": []}}]}, ["bad", "ok"], "INPUT")
    verdict = aws.BedrockGuardrail("gr1", "3")("INPUT", ["bad", "ok"])
    assert verdict.blocked and verdict.message == "Withheld."


def test_masks_that_cannot_be_mapped_to_their_blocks_refuse_without_echoing_them(stubbed):
    """UNCONFIRMED: one output per block when masking; if AWS merges them, the adapter fails closed."""
    _expect(stubbed, {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "a {EMAIL} b"}],
                      "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "match": "x@y.z", "action": "ANONYMIZED"}], "regexes": []}}]}, ["a x@y.z", "b"])
    verdict = aws.BedrockGuardrail("gr1", "3")("OUTPUT", ["a x@y.z", "b"])
    assert verdict.blocked and verdict.message == ""


def test_none_passes_the_texts_unchanged(stubbed):
    _expect(stubbed, {"action": "NONE", "outputs": []}, ["hello"])
    verdict = aws.BedrockGuardrail("gr1", "3")("OUTPUT", ["hello"])
    assert not verdict.blocked and not verdict.masked and verdict.texts == ("hello",)
