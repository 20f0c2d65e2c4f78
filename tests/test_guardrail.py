"""ModelGuardrail: every policy type in the template, tiers, KMS, version-on-change, grants, metrics."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.guardrail_policy import load_policy
from tests.conftest import make_app


def _stack(region: str = "us-east-1") -> Stack:
    return Stack(make_app(), "T", env=Environment(region=region))


@pytest.fixture(scope="module")
def strict():
    stack = _stack()
    g = ModelGuardrail(stack, "Guardrail", policy="strict")
    g.grant_apply(iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    return stack, g, Template.from_stack(stack)


def _guardrail_props(t: Template) -> dict:
    (g,) = t.find_resources("AWS::Bedrock::Guardrail").values()
    return g["Properties"]


class TestPolicies:
    def test_content_filters_with_prompt_attack_input_only(self, strict):
        content = _guardrail_props(strict[2])["ContentPolicyConfig"]
        filters = {f["Type"]: f for f in content["FiltersConfig"]}
        assert set(filters) == {"HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT", "PROMPT_ATTACK"}
        assert filters["PROMPT_ATTACK"] == {
            "Type": "PROMPT_ATTACK", "InputStrength": "HIGH", "OutputStrength": "NONE", "InputAction": "BLOCK",
            "OutputAction": "BLOCK", "InputEnabled": True, "OutputEnabled": False,
        }
        assert filters["HATE"]["OutputStrength"] == "HIGH" and filters["HATE"]["OutputEnabled"] is True
        assert content["ContentFiltersTierConfig"] == {"TierName": "STANDARD"}

    def test_denied_topics_with_definitions_and_examples(self, strict):
        topics = _guardrail_props(strict[2])["TopicPolicyConfig"]
        assert topics["TopicsTierConfig"] == {"TierName": "STANDARD"}
        first = topics["TopicsConfig"][0]
        assert first["Name"] == "Investment advice" and first["Type"] == "DENY"
        assert first["Definition"].startswith("Recommendations about buying")
        assert first["Examples"] == ["Which stocks should I buy this week?", "Should I move my pension into bitcoin?"]

    def test_profanity_list_and_pii_actions(self, strict):
        props = _guardrail_props(strict[2])
        assert props["WordPolicyConfig"] == {"ManagedWordListsConfig": [{"Type": "PROFANITY"}]}
        pii = {e["Type"]: e["Action"] for e in props["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]}
        assert pii["US_SOCIAL_SECURITY_NUMBER"] == "BLOCK" and pii["EMAIL"] == "ANONYMIZE"

    def test_contextual_grounding(self, strict):
        assert _guardrail_props(strict[2])["ContextualGroundingPolicyConfig"] == {
            "FiltersConfig": [{"Type": "GROUNDING", "Threshold": 0.75}, {"Type": "RELEVANCE", "Threshold": 0.75}]
        }

    def test_standard_tier_uses_the_regions_guardrail_profile(self, strict):
        assert _guardrail_props(strict[2])["CrossRegionConfig"] == {
            "GuardrailProfileArn": {"Fn::Join": ["", ["arn:aws:bedrock:us-east-1:", {"Ref": "AWS::AccountId"}, ":guardrail-profile/us.guardrail.v1:0"]]}
        }

    def test_classic_tier_has_no_profile_and_regexes_and_words_render(self):
        stack = _stack("ap-south-1")
        policy = replace(load_policy("pii-redact"), words=("project-zeus",))
        ModelGuardrail(stack, "Guardrail", policy=policy)
        props = _guardrail_props(Template.from_stack(stack))
        assert "CrossRegionConfig" not in props and "TopicPolicyConfig" not in props
        assert props["WordPolicyConfig"] == {"WordsConfig": [{"Text": "project-zeus"}]}
        assert props["SensitiveInformationPolicyConfig"]["RegexesConfig"] == [
            {"Name": "Employee ID", "Pattern": "EMP-[0-9]{6}", "Action": "ANONYMIZE", "Description": "Internal employee identifiers (EMP- followed by six digits)"}
        ]

    def test_standard_tier_in_an_apac_region_uses_the_apac_profile(self):
        stack = _stack("ap-northeast-1")
        ModelGuardrail(stack, "Guardrail", policy="strict")
        arn = _guardrail_props(Template.from_stack(stack))["CrossRegionConfig"]["GuardrailProfileArn"]
        assert arn["Fn::Join"][1][-1] == ":guardrail-profile/apac.guardrail.v1:0"

    def test_messages_and_generated_name(self, strict):
        props = _guardrail_props(strict[2])
        assert props["BlockedInputMessaging"] == "This request is outside what this assistant may help with."
        assert props["BlockedOutputsMessaging"].startswith("This answer was withheld")
        assert props["Name"].startswith("T-Guardrail") and len(props["Name"]) <= 50


class TestKeyVersionAndGrants:
    def test_encrypted_with_a_rotating_customer_managed_key(self, strict):
        stack, g, t = strict
        key = stack.resolve(g.encryption_key.node.default_child.logical_id)
        assert _guardrail_props(t)["KmsKeyArn"] == {"Fn::GetAtt": [key, "Arn"]}
        t.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
        t.has_resource("AWS::Bedrock::Guardrail", {"DeletionPolicy": "Retain"})

    def test_version_is_published_and_retained(self, strict):
        stack, g, t = strict
        t.has_resource(
            "AWS::Bedrock::GuardrailVersion",
            {
                "Properties": {"GuardrailIdentifier": {"Fn::GetAtt": [stack.resolve(g.guardrail.logical_id), "GuardrailId"]}, "Description": f"policy {g.policy_fingerprint}"},
                "DeletionPolicy": "Retain",
            },
        )

    def test_a_policy_change_makes_a_new_version_and_the_same_policy_keeps_it(self):
        ids = []
        for policy in (load_policy("baseline"), replace(load_policy("baseline"), words=("secret-project",)), load_policy("baseline")):
            stack = _stack()
            ModelGuardrail(stack, "Guardrail", policy=policy)
            (vid,) = Template.from_stack(stack).find_resources("AWS::Bedrock::GuardrailVersion")
            ids.append(vid)
        assert ids[0] != ids[1] and ids[0] == ids[2]

    def test_grant_apply_is_scoped_to_this_guardrail_and_its_key(self, strict):
        stack, g, t = strict
        guardrail = stack.resolve(g.guardrail.logical_id)
        key = stack.resolve(g.encryption_key.node.default_child.logical_id)
        (policy,) = t.find_resources("AWS::IAM::Policy").values()
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {"Action": "bedrock:ApplyGuardrail", "Effect": "Allow", "Resource": {"Fn::GetAtt": [guardrail, "GuardrailArn"]}},
            {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key, "Arn"]}},
        ]

    def test_metrics_are_per_guardrail_version(self, strict):
        stack, g, _ = strict
        m = g.metric_invocations_intervened()
        assert (m.namespace, m.metric_name, m.statistic) == ("AWS/Bedrock/Guardrails", "InvocationsIntervened", "Sum")
        dims = stack.resolve(m.dimensions)
        assert set(dims) == {"GuardrailArn", "GuardrailVersion", "Operation"}
        assert g.metric_invocation_latency().statistic == "p99"


def test_fails_when_the_preset_is_unknown():
    with pytest.raises(ValueError, match="unknown guardrail preset 'lenient'; presets: baseline, pii-redact, strict"):
        ModelGuardrail(_stack(), "Guardrail", policy="lenient")
