"""ModelGuardrail: a Bedrock guardrail with a published version, built from a reviewed policy."""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from gptoss_constructs._defaults import new_key
from gptoss_constructs.guardrail_policy import GuardrailPolicy, load_policy

#: the system-defined guardrail profile (STANDARD tier) per region geography
_PROFILE_GEOGRAPHY = {"us": "us", "ca": "us", "eu": "eu", "ap": "apac"}


def guardrail_profile_id(region: str) -> str:
    """The system-defined guardrail profile id (``us.guardrail.v1:0``) the STANDARD tier uses in ``region``."""
    geography = _PROFILE_GEOGRAPHY.get(region.split("-")[0]) if isinstance(region, str) else None
    if geography is None:
        raise ValueError(f"tier STANDARD needs a guardrail profile; none is known for region {region!r}")
    return f"{geography}.guardrail.v1:0"


def guardrail_profile_arn(stack: Stack) -> str:
    """The cross-Region guardrail profile the STANDARD tier needs in ``stack``'s region."""
    return f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:guardrail-profile/{guardrail_profile_id(stack.region)}"


class ModelGuardrail(Construct):
    """A Bedrock guardrail enforcing a ``GuardrailPolicy`` on model input and output, with a version.

    Every policy the service offers can be expressed (content filters, denied topics, word and profanity
    filters, PII entities and regexes, contextual grounding, CLASSIC/STANDARD tier). The guardrail is
    encrypted with a customer-managed key. A new published version is created whenever the policy changes
    (its construct id and description carry the policy's fingerprint), and old versions are retained, so
    consumers can pin ``guardrail_version``.

    Example::

        guardrail = ModelGuardrail(self, "Guardrail", policy="baseline")     # preset, file path or policy object
        guardrail.grant_apply(proxy_function)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        policy: GuardrailPolicy | str = "baseline",
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param policy: a ``GuardrailPolicy``, a preset name (``baseline``, ``strict``, ``pii-redact``) or a
            policy file path. Default: - ``baseline``.
        :param encryption_key: encrypts the guardrail. Default: - a new key with rotation.
        :param removal_policy: for the key and the guardrail. Default: - RETAIN.
        """
        super().__init__(scope, id)
        self.policy = policy if isinstance(policy, GuardrailPolicy) else load_policy(policy)
        stack = Stack.of(self)
        self.encryption_key = encryption_key or new_key(
            self, "Key", description="gpt-oss-platform: encrypts the Bedrock guardrail", removal_policy=removal_policy
        )
        p = self.policy
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Resource",
            name=Names.unique_resource_name(self, max_length=50, separator="-"),
            description=p.description or None,
            blocked_input_messaging=p.blocked_input_message,
            blocked_outputs_messaging=p.blocked_output_message,
            kms_key_arn=self.encryption_key.key_arn,
            content_policy_config=self._content(p),
            topic_policy_config=self._topics(p),
            word_policy_config=self._words(p),
            sensitive_information_policy_config=self._sensitive(p),
            contextual_grounding_policy_config=self._grounding(p),
            cross_region_config=bedrock.CfnGuardrail.GuardrailCrossRegionConfigProperty(guardrail_profile_arn=guardrail_profile_arn(stack))
            if p.tier == "STANDARD"
            else None,
        )
        self.guardrail.apply_removal_policy(removal_policy)
        fingerprint = p.fingerprint()
        self.version = bedrock.CfnGuardrailVersion(
            self,
            f"Version{fingerprint}",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"policy {fingerprint}",
        )
        # Keep superseded versions: consumers pinned to them keep working until they move on.
        self.version.apply_removal_policy(RemovalPolicy.RETAIN)
        self.guardrail_id = self.guardrail.attr_guardrail_id
        self.guardrail_arn = self.guardrail.attr_guardrail_arn
        self.guardrail_version = self.version.attr_version
        self.policy_fingerprint = fingerprint

    # ---- policy → CloudFormation ------------------------------------------------------------------------

    @staticmethod
    def _content(p: GuardrailPolicy):
        if not p.content_filters:
            return None
        return bedrock.CfnGuardrail.ContentPolicyConfigProperty(
            filters_config=[
                bedrock.CfnGuardrail.ContentFilterConfigProperty(
                    type=f.type,
                    input_strength=f.input_strength,
                    output_strength=f.output_strength,
                    input_action=f.input_action,
                    output_action=f.output_action,
                    input_enabled=f.input_strength != "NONE",
                    output_enabled=f.output_strength != "NONE",
                )
                for f in p.content_filters
            ],
            content_filters_tier_config=bedrock.CfnGuardrail.ContentFiltersTierConfigProperty(tier_name=p.tier),
        )

    @staticmethod
    def _topics(p: GuardrailPolicy):
        if not p.denied_topics:
            return None
        return bedrock.CfnGuardrail.TopicPolicyConfigProperty(
            topics_config=[
                bedrock.CfnGuardrail.TopicConfigProperty(
                    name=t.name, definition=t.definition, examples=list(t.examples) or None, type="DENY"
                )
                for t in p.denied_topics
            ],
            topics_tier_config=bedrock.CfnGuardrail.TopicsTierConfigProperty(tier_name=p.tier),
        )

    @staticmethod
    def _words(p: GuardrailPolicy):
        if not (p.words or p.profanity_filter):
            return None
        return bedrock.CfnGuardrail.WordPolicyConfigProperty(
            words_config=[bedrock.CfnGuardrail.WordConfigProperty(text=w) for w in p.words] or None,
            managed_word_lists_config=[bedrock.CfnGuardrail.ManagedWordsConfigProperty(type="PROFANITY")]
            if p.profanity_filter
            else None,
        )

    @staticmethod
    def _sensitive(p: GuardrailPolicy):
        if not (p.pii_entities or p.regexes):
            return None
        return bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
            pii_entities_config=[
                bedrock.CfnGuardrail.PiiEntityConfigProperty(
                    type=e.type, action=e.action, input_action=e.input_action, output_action=e.output_action
                )
                for e in p.pii_entities
            ]
            or None,
            regexes_config=[
                bedrock.CfnGuardrail.RegexConfigProperty(name=r.name, pattern=r.pattern, action=r.action, description=r.description)
                for r in p.regexes
            ]
            or None,
        )

    @staticmethod
    def _grounding(p: GuardrailPolicy):
        filters = [
            bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(type=kind, threshold=value)
            for kind, value in (("GROUNDING", p.grounding_threshold), ("RELEVANCE", p.relevance_threshold))
            if value is not None
        ]
        return bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty(filters_config=filters) if filters else None

    # ---- grants and metrics -----------------------------------------------------------------------------

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants bedrock:ApplyGuardrail on this guardrail (any version) and kms:Decrypt on its key."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["bedrock:ApplyGuardrail"], resource_arns=[self.guardrail_arn])
        self.encryption_key.grant_decrypt(grantee)
        return grant

    def metric(self, metric_name: str, *, statistic: str = "Sum", period: Duration | None = None, **options) -> cloudwatch.Metric:
        """A metric of this guardrail version in ``AWS/Bedrock/Guardrails`` (ApplyGuardrail operation)."""
        return cloudwatch.Metric(
            namespace="AWS/Bedrock/Guardrails",
            metric_name=metric_name,
            dimensions_map={"GuardrailArn": self.guardrail_arn, "GuardrailVersion": self.guardrail_version, "Operation": "ApplyGuardrail"},
            statistic=statistic,
            period=period or Duration.minutes(5),
            **options,
        )

    def metric_invocations(self, **options) -> cloudwatch.Metric:
        return self.metric("Invocations", **options)

    def metric_invocations_intervened(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationsIntervened", **options)

    def metric_invocation_latency(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationLatency", statistic="p99", **options)

    def metric_invocation_server_errors(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationServerErrors", **options)

    def metric_invocation_throttles(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationThrottles", **options)

    def metric_text_unit_count(self, **options) -> cloudwatch.Metric:
        return self.metric("TextUnitCount", **options)
