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

    def test_strict_has_no_contextual_grounding(self, strict):
        """ApplyGuardrail evaluates grounding only against content qualified ``grounding_source`` and ``query``
        (botocore bedrock-runtime ``apply_guardrail``: qualifiers 'grounding_source'|'query'|'guard_content');
        the proxy sends neither, so the preset must not promise a check that never runs."""
        assert "ContextualGroundingPolicyConfig" not in _guardrail_props(strict[2])

    def test_grounding_still_renders_from_a_policy_file(self):
        stack = _stack()
        ModelGuardrail(stack, "Guardrail", policy=replace(load_policy("baseline"), grounding_threshold=0.7, relevance_threshold=0.6))
        assert _guardrail_props(Template.from_stack(stack))["ContextualGroundingPolicyConfig"] == {
            "FiltersConfig": [{"Type": "GROUNDING", "Threshold": 0.7}, {"Type": "RELEVANCE", "Threshold": 0.6}]
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

    def test_grant_apply_covers_the_guardrail_profile_in_every_destination_region(self, strict):
        """Bedrock user guide, "Permissions for using cross-Region inference with Amazon Bedrock Guardrails"
        (https://docs.aws.amazon.com/bedrock/latest/userguide/guardrail-profiles-permissions.html): ApplyGuardrail
        on the guardrail plus ``guardrail-profile/us.guardrail.v1:0`` in us-east-1, us-east-2 and us-west-2 (the
        destinations of us-east-1 in "Supported Regions for cross-Region guardrail inference")."""
        stack, g, t = strict
        guardrail = stack.resolve(g.guardrail.logical_id)
        key = stack.resolve(g.encryption_key.node.default_child.logical_id)
        (policy,) = t.find_resources("AWS::IAM::Policy").values()
        profile = lambda r: {"Fn::Join": ["", [f"arn:aws:bedrock:{r}:", {"Ref": "AWS::AccountId"}, ":guardrail-profile/us.guardrail.v1:0"]]}  # noqa: E731
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {"Action": "bedrock:ApplyGuardrail", "Effect": "Allow",
             "Resource": [{"Fn::GetAtt": [guardrail, "GuardrailArn"]}, profile("us-east-1"), profile("us-east-2"), profile("us-west-2")]},
            {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key, "Arn"]}},
        ]

    def test_classic_tier_grants_only_the_guardrail(self):
        stack = _stack()
        g = ModelGuardrail(stack, "Guardrail", policy="baseline")
        g.grant_apply(iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
        (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == {"Fn::GetAtt": [stack.resolve(g.guardrail.logical_id), "GuardrailArn"]}

    def test_govcloud_uses_the_us_gov_profile_and_partition(self):
        """GovCloud sources use ``us-gov.guardrail.v1:0`` with ``arn:aws-us-gov`` ARNs and route to
        us-gov-east-1 and us-gov-west-1 (Bedrock user guide, "Supported Regions for cross-Region guardrail inference")."""
        stack = _stack("us-gov-west-1")
        g = ModelGuardrail(stack, "Guardrail", policy="strict")
        g.grant_apply(iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
        t = Template.from_stack(stack)
        assert _guardrail_props(t)["CrossRegionConfig"]["GuardrailProfileArn"]["Fn::Join"][1][0] == "arn:aws-us-gov:bedrock:us-gov-west-1:"
        (policy,) = t.find_resources("AWS::IAM::Policy").values()
        resources = policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"][1:]
        assert [r["Fn::Join"][1][0] for r in resources] == ["arn:aws-us-gov:bedrock:us-gov-east-1:", "arn:aws-us-gov:bedrock:us-gov-west-1:"]
        assert all(r["Fn::Join"][1][-1] == ":guardrail-profile/us-gov.guardrail.v1:0" for r in resources)

    def test_unlisted_region_grants_the_profile_in_any_region_of_the_account(self):
        stack = _stack("eu-west-1")
        g = ModelGuardrail(stack, "Guardrail", policy="strict")
        g.grant_apply(iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
        (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        (profile,) = policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"][1:]
        assert profile == {"Fn::Join": ["", ["arn:aws:bedrock:*:", {"Ref": "AWS::AccountId"}, ":guardrail-profile/eu.guardrail.v1:0"]]}

    def test_grant_apply_returns_one_grant_including_the_key(self):
        stack = _stack()
        g = ModelGuardrail(stack, "Guardrail", policy="baseline")
        role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        grant = g.grant_apply(role)
        statements = [stack.resolve(s.to_statement_json()) for s in grant.principal_statements]
        assert {s["Action"] for s in statements} == {"bedrock:ApplyGuardrail", "kms:Decrypt"}
        assert grant.success

    def test_imported_guardrail_has_the_same_surface(self):
        stack = _stack()
        key = __import__("aws_cdk.aws_kms", fromlist=["Key"]).Key.from_key_arn(stack, "K", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        g = ModelGuardrail.from_guardrail_attributes(
            stack, "Imported", guardrail_arn="arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123xyz", guardrail_version="3",
            encryption_key=key, guardrail_profile_id="us.guardrail.v1:0",
        )
        assert g.guardrail_id == "abc123xyz" and g.guardrail_version == "3"
        g.grant_apply(iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
        (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statements[0]["Resource"][0] == "arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123xyz" and len(statements[0]["Resource"]) == 4
        assert statements[1] == {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
        assert stack.resolve(g.metric_invocations().dimensions) == {"GuardrailArn": "arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123xyz", "GuardrailVersion": "3"}

    def test_metrics_accept_overrides_without_a_duplicate_keyword(self, strict):
        stack, g, _ = strict
        m = g.metric_invocation_latency(statistic="p50", dimensions_map={"Operation": "ApplyGuardrail"}, label="x")
        assert (m.statistic, m.label, stack.resolve(m.dimensions)) == ("p50", "x", {"Operation": "ApplyGuardrail"})
        assert g.metric_invocation_latency().statistic == "p99"

    def test_metric_apply_guardrail_uses_the_published_dimension_set(self, strict):
        """Bedrock user guide, "Monitor Amazon Bedrock Guardrails using CloudWatch metrics"
        (https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-guardrails-cw-metrics.html): dimension
        ``Operation`` = ``ApplyGuardrail`` is published for Invocations, InvocationLatency, InvocationClientErrors,
        InvocationServerErrors, InvocationThrottles, InvocationsIntervened and TextUnitCount. The old alarm's
        GuardrailArn + GuardrailVersion + Operation combination is not in that table."""
        stack, g, _ = strict
        m = g.metric_apply_guardrail("InvocationServerErrors")
        assert (m.namespace, m.metric_name, m.statistic) == ("AWS/Bedrock/Guardrails", "InvocationServerErrors", "Sum")
        assert stack.resolve(m.dimensions) == {"Operation": "ApplyGuardrail"}
        assert set(stack.resolve(g.metric_invocations().dimensions)) == {"GuardrailArn", "GuardrailVersion"}


def test_fails_when_the_preset_is_unknown():
    with pytest.raises(ValueError, match="unknown guardrail preset 'lenient'; presets: baseline, pii-redact, strict"):
        ModelGuardrail(_stack(), "Guardrail", policy="lenient")


class TestGuardrailName:
    def test_the_guardrail_has_your_name(self):
        stack = _stack()
        ModelGuardrail(stack, "Guardrail", guardrail_name="team-support_bot-1")
        assert _guardrail_props(Template.from_stack(stack))["Name"] == "team-support_bot-1"

    def test_the_rule_is_bedrocks(self):
        """botocore's Bedrock service model: CreateGuardrail's ``name`` is shape ``GuardrailName``, 1 to 50
        characters of ``[0-9a-zA-Z-_]+``."""
        import botocore.session

        from gptoss_constructs.guardrail import GUARDRAIL_NAME_MAX_LENGTH

        model = botocore.session.get_session().get_service_model("bedrock")
        shape = model.operation_model("CreateGuardrail").input_shape.members["name"]
        assert (shape.name, shape.metadata["min"], shape.metadata["max"], shape.metadata["pattern"]) == ("GuardrailName", 1, GUARDRAIL_NAME_MAX_LENGTH, "[0-9a-zA-Z-_]+")

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("g" * 51, "guardrail_name must be at most 50 characters, got 51"),
            ("support bot", "guardrail_name must be letters, digits, hyphens and underscores (Bedrock GuardrailName), got 'support bot'"),
            ("", "guardrail_name must be a non-empty string, got ''"),
        ],
    )
    def test_fails_when_guardrail_name_breaks_bedrocks_rule(self, name, message):
        with pytest.raises(ValueError) as err:
            ModelGuardrail(_stack(), "Guardrail", guardrail_name=name)
        assert message in str(err.value)


def test_grant_apply_can_write_a_managed_policy():
    """``managed_policy=True``: ApplyGuardrail and the key's Decrypt land in one customer-managed policy on the
    grantee's role, nothing inline (the packs' IAMNoInlinePolicy), as the proxy's ``grant_invoke`` does."""
    stack = _stack()
    g = ModelGuardrail(stack, "Guardrail")
    role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    g.grant_apply(role, managed_policy=True)
    t = Template.from_stack(stack)
    ref = {"Ref": stack.resolve(role.node.default_child.logical_id)}
    assert not t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [ref]}})
    (policy,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [ref]}}).values()
    actions = sorted(a for st in policy["Properties"]["PolicyDocument"]["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]))
    assert actions == ["bedrock:ApplyGuardrail", "kms:Decrypt"]
