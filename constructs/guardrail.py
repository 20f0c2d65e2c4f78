"""ModelGuardrail: a Bedrock guardrail with a published version, built from a reviewed policy."""

from __future__ import annotations

from aws_cdk import Duration, Fn, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from gptoss_constructs._defaults import new_key
from gptoss_constructs._grants import ManagedPolicyGrantee
from gptoss_constructs._validation import require_name
from gptoss_constructs.guardrail_policy import GuardrailPolicy, load_policy

#: the system-defined guardrail profile (STANDARD tier) per region geography ("us-gov-west-1" → "us-gov")
_PROFILE_GEOGRAPHY = {"us": "us", "us-gov": "us-gov", "ca": "us", "eu": "eu", "ap": "apac"}

#: source region → destination regions of its guardrail profile. Bedrock user guide, "Supported Regions for
#: cross-Region guardrail inference" (https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-cross-region-support.html):
#: the US and GovCloud tables. Regions not listed here get the profile ARN in every region of the account
#: (UNCONFIRMED(manual:guardrail-profile-destinations) destinations; still scoped to the profile id).
GUARDRAIL_PROFILE_DESTINATIONS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-1", "us-east-2", "us-west-2"),
    "us-east-2": ("us-east-1", "us-east-2", "us-west-2"),
    "us-west-1": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "us-west-2": ("us-east-1", "us-east-2", "us-west-2"),
    "us-gov-east-1": ("us-gov-east-1", "us-gov-west-1"),
    "us-gov-west-1": ("us-gov-east-1", "us-gov-west-1"),
}


#: Bedrock's guardrail-name rule (botocore ``bedrock`` service model, shape ``GuardrailName``: 1 to 50 characters of
#: ``[0-9a-zA-Z-_]+``)
GUARDRAIL_NAME_PATTERN = r"[0-9a-zA-Z_-]+"
GUARDRAIL_NAME_MAX_LENGTH = 50


def validate_guardrail_name(guardrail_name: str) -> str:
    """A Bedrock guardrail name: 1 to 50 letters, digits, hyphens and underscores (tokens are left to Bedrock)."""
    return require_name(
        "guardrail_name", guardrail_name, pattern=GUARDRAIL_NAME_PATTERN, max_length=GUARDRAIL_NAME_MAX_LENGTH,
        allowed="letters, digits, hyphens and underscores (Bedrock GuardrailName)",
    )


def _geography(region: str) -> str | None:
    if not isinstance(region, str) or Token.is_unresolved(region):
        return None
    parts = region.split("-")
    return _PROFILE_GEOGRAPHY.get("-".join(parts[:2]) if parts[1:2] == ["gov"] else parts[0])


def guardrail_profile_id(region: str) -> str:
    """The system-defined guardrail profile id (``us.guardrail.v1:0``) the STANDARD tier uses in ``region``."""
    geography = _geography(region)
    if geography is None:
        raise ValueError(f"tier STANDARD needs a guardrail profile; none is known for region {region!r}")
    return f"{geography}.guardrail.v1:0"


def guardrail_profile_arn(stack: Stack) -> str:
    """The cross-Region guardrail profile the STANDARD tier needs in ``stack``'s region."""
    return f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:guardrail-profile/{guardrail_profile_id(stack.region)}"


def guardrail_profile_arns(stack: Stack, profile_id: str) -> list[str]:
    """The guardrail-profile ARNs ``bedrock:ApplyGuardrail`` needs: the profile in every destination region of
    ``stack``'s region (Bedrock user guide, "Permissions for using cross-Region inference with Amazon Bedrock
    Guardrails": the policy lists the guardrail and ``guardrail-profile/us.guardrail.v1:0`` in us-east-1,
    us-east-2 and us-west-2)."""
    destinations = GUARDRAIL_PROFILE_DESTINATIONS.get(stack.region)
    regions = destinations or ("*",)
    return [f"arn:{stack.partition}:bedrock:{r}:{stack.account}:guardrail-profile/{profile_id}" for r in regions]


class _GuardrailBase(Construct):
    """What a guardrail made here and one imported with ``from_guardrail_attributes`` have in common."""

    guardrail_arn: str
    guardrail_id: str
    guardrail_version: str
    encryption_key: kms.IKey | None
    guardrail_profile_id: str | None

    def grant_apply(self, grantee: iam.IGrantable, *, managed_policy: bool = False) -> iam.Grant:
        """Grants ``bedrock:ApplyGuardrail`` on this guardrail (any version) and, for the STANDARD tier, on its
        guardrail profile in every destination region; plus ``kms:Decrypt`` on its key. Returns ONE grant
        combining all of them (like generative-ai-cdk-constructs ``GuardrailBase.grantApply``).

        :param managed_policy: put the statements in a new customer-managed policy attached to the grantee's role
            instead of its inline default policy (clean under the packs' ``IAMNoInlinePolicy`` without an
            acknowledgment), as ``grant_invoke(..., managed_policy=True)`` of the proxy. Default: - false.
        """
        if managed_policy:
            grantee = ManagedPolicyGrantee.for_grant(
                self, grantee, "ApplyGuardrailPolicy", description="Apply the gpt-oss guardrail (bedrock:ApplyGuardrail, kms:Decrypt on its key)"
            )
        resources = [self.guardrail_arn]
        if self.guardrail_profile_id:
            resources += guardrail_profile_arns(Stack.of(self), self.guardrail_profile_id)
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["bedrock:ApplyGuardrail"], resource_arns=resources)
        if self.encryption_key is not None:
            grant = grant.combine(self.encryption_key.grant_decrypt(grantee))
        return grant

    def metric(self, metric_name: str, **options) -> cloudwatch.Metric:
        """A metric of this guardrail in ``AWS/Bedrock/Guardrails``; every option (namespace, statistic,
        period, dimensions_map, label ...) may be overridden. Default dimensions: GuardrailArn + GuardrailVersion (the
        set aws-cdk's bedrock-alpha ``GuardrailBase.metric`` uses; UNCONFIRMED(manual:guardrail-metric-dimensions) in the Bedrock metrics doc,
        which publishes ``Operation=ApplyGuardrail`` — alarms use that set, see ``metric_apply_guardrail``)."""
        options.setdefault("dimensions_map", {"GuardrailArn": self.guardrail_arn, "GuardrailVersion": self.guardrail_version})
        options.setdefault("statistic", "Sum")
        options.setdefault("period", Duration.minutes(5))
        options.setdefault("namespace", "AWS/Bedrock/Guardrails")  # an override, never a duplicate keyword
        return cloudwatch.Metric(metric_name=metric_name, **options)

    def metric_apply_guardrail(self, metric_name: str, **options) -> cloudwatch.Metric:
        """``metric_name`` in the published ``Operation=ApplyGuardrail`` dimension set (Bedrock user guide,
        "Monitor Amazon Bedrock Guardrails using CloudWatch metrics"): every guardrail of the account and
        region, so an alarm on it cannot stay silent because of an unpublished dimension combination."""
        options.setdefault("dimensions_map", {"Operation": "ApplyGuardrail"})
        return self.metric(metric_name, **options)

    def metric_invocations(self, **options) -> cloudwatch.Metric:
        return self.metric("Invocations", **options)

    def metric_invocations_intervened(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationsIntervened", **options)

    def metric_invocation_latency(self, **options) -> cloudwatch.Metric:
        options.setdefault("statistic", "p99")
        return self.metric("InvocationLatency", **options)

    def metric_invocation_server_errors(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationServerErrors", **options)

    def metric_invocation_throttles(self, **options) -> cloudwatch.Metric:
        return self.metric("InvocationThrottles", **options)

    def metric_text_unit_count(self, **options) -> cloudwatch.Metric:
        return self.metric("TextUnitCount", **options)


class _ImportedGuardrail(_GuardrailBase):
    def __init__(self, scope: Construct, id: str, *, guardrail_arn: str, guardrail_version: str,
                 encryption_key: kms.IKey | None, guardrail_profile_id: str | None) -> None:
        super().__init__(scope, id)
        self.guardrail_arn = guardrail_arn
        self.guardrail_id = Fn.select(1, Fn.split("/", guardrail_arn)) if Token.is_unresolved(guardrail_arn) else guardrail_arn.rsplit("/", 1)[-1]
        self.guardrail_version = guardrail_version
        self.encryption_key = encryption_key
        self.guardrail_profile_id = guardrail_profile_id


class ModelGuardrail(_GuardrailBase):
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
        guardrail_name: str | None = None,
    ) -> None:
        """
        :param policy: a ``GuardrailPolicy``, a preset name (``baseline``, ``strict``, ``pii-redact``) or a
            policy file path. Default: - ``baseline``.
        :param encryption_key: encrypts the guardrail. Default: - a new key with rotation.
        :param removal_policy: for the key and the guardrail. Default: - RETAIN.
        :param guardrail_name: the guardrail's name (1 to 50 of ``[0-9a-zA-Z-_]``, Bedrock's rule; unique in the
            account and region). Default: - a name derived from the construct path.
        """
        super().__init__(scope, id)
        if guardrail_name is not None:
            validate_guardrail_name(guardrail_name)
        self.policy = policy if isinstance(policy, GuardrailPolicy) else load_policy(policy)
        stack = Stack.of(self)
        self.encryption_key = encryption_key or new_key(
            self, "Key", description="gpt-oss-platform: encrypts the Bedrock guardrail", removal_policy=removal_policy
        )
        p = self.policy
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Resource",
            name=guardrail_name or Names.unique_resource_name(self, max_length=GUARDRAIL_NAME_MAX_LENGTH, separator="-"),
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
        self.guardrail_profile_id = guardrail_profile_id(stack.region) if p.tier == "STANDARD" else None

    @classmethod
    def from_guardrail_attributes(
        cls,
        scope: Construct,
        id: str,
        *,
        guardrail_arn: str,
        guardrail_version: str,
        encryption_key: kms.IKey | None = None,
        guardrail_profile_id: str | None = None,
    ) -> _GuardrailBase:
        """A guardrail made elsewhere, with the same surface (``grant_apply``, ``metric_*``, attributes).

        :param guardrail_arn: ``arn:<partition>:bedrock:<region>:<account>:guardrail/<id>``.
        :param guardrail_version: the published version to apply.
        :param encryption_key: its customer-managed key, if any. Default: - no KMS grant.
        :param guardrail_profile_id: the STANDARD tier's profile (e.g. ``us.guardrail.v1:0``).
            Default: - CLASSIC tier, no profile grant.
        """
        return _ImportedGuardrail(scope, id, guardrail_arn=guardrail_arn, guardrail_version=guardrail_version,
                                  encryption_key=encryption_key, guardrail_profile_id=guardrail_profile_id)

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
