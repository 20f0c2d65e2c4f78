"""PlatformMonitoring: one dashboard, sensible alarms and an encrypted alarm topic for a region."""

from __future__ import annotations

from typing import Protocol, Sequence

from aws_cdk import Acknowledgment, Annotations, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from gptoss_constructs._defaults import new_key
from gptoss_constructs._validation import require_email_addresses, require_range

#: the namespace of the proxy's embedded-metric-format token metrics (lambda/invoke_proxy/gptoss_proxy/wiring.py)
TOKEN_NAMESPACE = "GptOssPlatform"
#: an endpoint is "saturated" when its concurrency per model copy stays at this multiple of its scaling target
#: (target tracking holds it near the target unless the fleet is at its maximum)
SATURATION_FACTOR = 2
#: the target ``GptOssEndpoint.add_autoscaling`` uses when not told (``concurrent_requests_per_model``)
DEFAULT_CONCURRENCY_TARGET = 8


def scaling_concurrency_target(endpoint) -> float | None:
    """The target value of ``endpoint``'s concurrency target-tracking policy (``add_autoscaling``'s
    ``concurrent_requests_per_model``), or None when it has no autoscaling (yet)."""
    target = getattr(endpoint, "scalable_target", None)
    policy = target.node.try_find_child("ConcurrencyTracking") if target is not None else None
    if policy is None:
        return None
    return policy.node.default_child.target_tracking_scaling_policy_configuration.target_value


def allow_cloudwatch_alarms(key: kms.IKey) -> bool:
    """Lets CloudWatch alarms of ``key``'s account and region use it to publish to a topic it encrypts; False when
    the key policy cannot be changed here (an imported key).

    CloudWatch alarms publish to an encrypted topic only if the key lets CloudWatch use it (SNS developer guide,
    "Enable compatibility between event sources from AWS services and encrypted topics"). Explicit actions, and
    confused-deputy conditions: only alarms of this account and region."""
    stack = Stack.of(key)
    return key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"},
            },
        )
    ).statement_added


class MonitoredEndpoint(Protocol):
    endpoint_name: str

    def metric_invocations(self, **o) -> cw.Metric: ...
    def metric_model_latency(self, **o) -> cw.Metric: ...
    def metric_invocation4xx_errors(self, **o) -> cw.Metric: ...
    def metric_invocation5xx_errors(self, **o) -> cw.Metric: ...
    def metric_concurrent_requests(self, **o) -> cw.Metric: ...
    def metric_gpu_utilization(self, **o) -> cw.Metric: ...
    def metric_gpu_memory_utilization(self, **o) -> cw.Metric: ...


class PlatformMonitoring(Construct):
    """A CloudWatch dashboard for the region (endpoints, proxy, front door, guardrail, token usage) and alarms
    that notify an encrypted SNS topic.

    Alarms (thresholds are props): endpoint 5xx, endpoint model latency p99, endpoint saturated (concurrency per
    model above twice the scaling target for 15 minutes: scaling is at its maximum), proxy errors, proxy
    throttles, front-door 5xx, guardrail server errors; security alarms: guardrail intervention spikes, the
    proxy's 403s, the private API's 4xx (``AuditTrail`` adds CloudTrail configuration changes on the same topic).

    Example::

        PlatformMonitoring(self, "Monitoring", endpoints=[ep], proxy=proxy, guardrail=guardrail,
                           alarm_emails=["oncall@example.com"])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoints: Sequence[MonitoredEndpoint] = (),
        proxy=None,
        front_door=None,
        guardrail=None,
        alarm_emails: Sequence[str] = (),
        endpoint_5xx_threshold: int = 5,
        endpoint_latency_p99: Duration | None = None,
        endpoint_saturation_concurrency: int | None = None,
        proxy_error_threshold: int = 5,
        proxy_throttle_threshold: int = 1,
        guardrail_error_threshold: int = 1,
        guardrail_block_threshold: int = 50,
        forbidden_threshold: int = 10,
        api_client_error_threshold: int = 50,
        encryption_key: kms.IKey | None = None,
        dashboard_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param endpoints: SageMaker endpoints (``GptOssEndpoint``). Default: - none.
        :param proxy: the ``InvokeProxy``. Default: - none.
        :param front_door: the ``PrivateApiFrontDoor``. Default: - the proxy's first private API, if any.
        :param guardrail: the ``ModelGuardrail``. Default: - none.
        :param alarm_emails: e-mail subscriptions of the alarm topic. Default: - none (subscribe later).
        :param endpoint_5xx_threshold: model errors per 5 minutes. Default: - 5.
        :param endpoint_latency_p99: Default: - 60 seconds (reasoning answers are long).
        :param endpoint_saturation_concurrency: concurrent requests per model copy that mean "at capacity", for
            every endpoint. Default: - per endpoint, twice its concurrency scaling target (``add_autoscaling``'s
            ``concurrent_requests_per_model``, so call it before building the monitoring), or twice the default
            target (8), 16, for an endpoint without autoscaling.
        :param proxy_error_threshold: function errors per 5 minutes. Default: - 5.
        :param proxy_throttle_threshold: throttled invocations per 5 minutes. Default: - 1.
        :param guardrail_error_threshold: ApplyGuardrail server errors per 5 minutes. Default: - 1.
        :param guardrail_block_threshold: security alarm: guardrail interventions (blocked or masked inputs and
            outputs) per 5 minutes, a spike of prompt-injection or data-exfiltration attempts. Default: - 50.
        :param forbidden_threshold: security alarm: 403 responses of the proxy (e.g. refused escalations) per 5
            minutes. Default: - 10.
        :param api_client_error_threshold: security alarm: 4xx responses of the private API (403s of IAM and the
            resource policy among them) per 5 minutes. Default: - 50.
        :param encryption_key: the key of the topic this construct creates. Default: - a new key with rotation
            (not allowed with ``alarm_topic``).
        :param alarm_topic: the SNS topic every alarm notifies (yours; ``alarm_emails`` still subscribe to it).
            If it is a ``Topic`` of this app encrypted with a key of this app, the key gets the statement letting
            CloudWatch alarms publish; otherwise a warning annotation names what its key policy needs.
            Default: - a new topic encrypted with ``encryption_key``.
        :param dashboard_name: the dashboard's name (account-wide, no region in its ARN), e.g. with a prefix a role's
            ``cloudwatch:GetDashboard`` can be scoped to. Default: - a name CloudFormation generates.
        """
        super().__init__(scope, id)
        if alarm_topic is not None and encryption_key is not None:
            raise ValueError(
                "encryption_key is the key of the topic this construct creates and cannot apply to alarm_topic; "
                "pass one of them, got both"
            )
        for name, value in (
            ("endpoint_5xx_threshold", endpoint_5xx_threshold),
            ("endpoint_saturation_concurrency", 1 if endpoint_saturation_concurrency is None else endpoint_saturation_concurrency),
            ("proxy_error_threshold", proxy_error_threshold),
            ("proxy_throttle_threshold", proxy_throttle_threshold),
            ("guardrail_error_threshold", guardrail_error_threshold),
            ("guardrail_block_threshold", guardrail_block_threshold),
            ("forbidden_threshold", forbidden_threshold),
            ("api_client_error_threshold", api_client_error_threshold),
        ):
            require_range(name, value, 1, 100000)
        require_email_addresses("alarm_emails", alarm_emails)
        latency = endpoint_latency_p99 or Duration.seconds(60)
        if front_door is None and proxy is not None:
            front_door = next((d for d in getattr(proxy, "front_doors", []) if hasattr(d, "metric_server_error")), None)

        if alarm_topic is None:
            self.encryption_key = encryption_key or new_key(
                self, "Key", description="gpt-oss-platform: alarm topic", removal_policy=removal_policy
            )
            allow_cloudwatch_alarms(self.encryption_key)
            topic = sns.Topic(self, "AlarmTopic", master_key=self.encryption_key, enforce_ssl=True, display_name="gpt-oss platform alarms")
            # enforce_ssl writes an AWS::SNS::TopicPolicy, which replaces the topic's default policy: without this
            # statement nothing lets CloudWatch publish and every alarm action fails with "not authorized to perform:
            # SNS:Publish" (aws-solutions/automated-security-response-on-aws#43). Same confused-deputy scope as the key.
            stack = Stack.of(self)
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToPublish",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"},
                    },
                )
            )
            self.topic: sns.ITopic = topic
        else:
            self.topic = alarm_topic
            self.encryption_key = alarm_topic.master_key
            self._let_alarms_publish_to(alarm_topic)
        self.alarms: dict[str, cw.Alarm] = {}
        self.dead_letter_queue: sqs.Queue | None = None
        if alarm_emails:
            self.dead_letter_queue = self._dead_letter_queue(removal_policy)
        for email in alarm_emails:
            self.topic.add_subscription(subs.EmailSubscription(email, dead_letter_queue=self.dead_letter_queue))
        if self.dead_letter_queue is not None:
            self._alarm(
                "undelivered-notifications",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
                1,
                "alarm topic: notifications that could not be e-mailed (dead-letter queue not empty)",
            )

        for ep in endpoints:
            name = ep.endpoint_name
            self._alarm(f"{name}-5xx", ep.metric_invocation5xx_errors(), endpoint_5xx_threshold, f"{name}: model errors (5xx)")
            self._alarm(f"{name}-latency", ep.metric_model_latency(statistic="p99"), latency.to_seconds() * 1_000_000, f"{name}: model latency p99 above {latency.to_seconds()} s", periods=3)
            saturation = endpoint_saturation_concurrency or SATURATION_FACTOR * (scaling_concurrency_target(ep) or DEFAULT_CONCURRENCY_TARGET)
            self._alarm(f"{name}-saturated", ep.metric_concurrent_requests(statistic="Average"), saturation, f"{name}: saturated at its maximum capacity", periods=3)
        if proxy is not None:
            self._alarm("proxy-errors", proxy.metric_errors(statistic="Sum"), proxy_error_threshold, "invoke proxy: function errors")
            self._alarm("proxy-throttles", proxy.metric_throttles(statistic="Sum"), proxy_throttle_threshold, "invoke proxy: throttled invocations")
            # security: the proxy's own 403s (embedded metric Requests by Status, lambda/invoke_proxy/gptoss_proxy/wiring.py)
            self._alarm(
                "proxy-forbidden",
                cw.Metric(namespace=TOKEN_NAMESPACE, metric_name="Requests", dimensions_map={"Status": "403"}, statistic="Sum", period=Duration.minutes(5)),
                forbidden_threshold,
                "security: the proxy refused requests (403)",
            )
        if front_door is not None:
            self._alarm("api-5xx", front_door.metric_server_error(statistic="Sum", period=Duration.minutes(5)), proxy_error_threshold, "private API: 5xx responses")
            self._alarm("api-4xx", front_door.metric_client_error(statistic="Sum", period=Duration.minutes(5)), api_client_error_threshold, "security: private API 4xx responses (IAM and resource-policy denials are 403s)")
        if guardrail is not None:
            # the published Operation=ApplyGuardrail dimension set (Bedrock guardrails CloudWatch metrics doc)
            self._alarm("guardrail-errors", guardrail.metric_apply_guardrail("InvocationServerErrors"), guardrail_error_threshold, "guardrail: ApplyGuardrail server errors (all guardrails of the region)")
            self._alarm("guardrail-blocks", guardrail.metric_apply_guardrail("InvocationsIntervened"), guardrail_block_threshold, "security: guardrail interventions spiked (all guardrails of the region)")

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.hours(3))
        self._widgets(endpoints, proxy, front_door, guardrail)

    def _let_alarms_publish_to(self, topic: sns.ITopic) -> None:
        key = topic.master_key
        if key is not None and allow_cloudwatch_alarms(key):
            return
        if key is None and isinstance(topic, sns.Topic):
            return  # a topic of this app without a customer-managed key: nothing to open
        Annotations.of(self).add_warning_v2(
            "gptoss:alarm-topic-key",
            f"alarm_topic: if {topic.node.path} is encrypted with a customer-managed KMS key, that key's policy must allow "
            "principal cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey (conditions aws:SourceAccount = this "
            "account, aws:SourceArn like arn:<partition>:cloudwatch:<region>:<account>:alarm:*); this construct cannot "
            "add it, and without it alarm notifications are dropped; if the topic has a resource policy, it must also allow "
            "cloudwatch.amazonaws.com sns:Publish under the same conditions",
        )

    def _dead_letter_queue(self, removal_policy: RemovalPolicy) -> sqs.Queue:
        """Where SNS puts an alarm notification it could not e-mail (SNS developer guide, "Amazon SNS dead-letter
        queues": SMTP endpoints are retried 50 times over 6 hours, then the message is discarded unless the
        subscription has a DLQ). The queue is SSE-KMS with its own key: SNS must be allowed to use it (SQS developer
        guide, "Configure KMS permissions for AWS services": kms:GenerateDataKey and kms:Decrypt), limited to this
        topic by aws:SourceArn as aws-cdk-lib does for SQS subscriptions (aws/aws-cdk#20339, PR #20521). A key of
        its own because the alarm topic's key cannot name the topic it encrypts (a dependency cycle). The queue
        policy (sqs:SendMessage for sns.amazonaws.com, ArnEquals aws:SourceArn = this topic) is what
        ``Subscription`` adds for a ``dead_letter_queue``. An alarm on the queue's depth shows lost notifications."""
        key = new_key(self, "DeadLetterKey", description="gpt-oss-platform: undelivered alarm notifications", removal_policy=removal_policy)
        # UNCONFIRMED(manual:sns-dlq-source-arn) offline: that SNS's redrive into a DLQ puts aws:SourceArn (the topic) in its KMS request context
        # as its SQS-subscription deliveries do (the case aws-cdk's feature flag restrictSqsDescryption covers);
        # verify: an undeliverable test notification arrives in the queue
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisTopicsUndeliveredNotifications",
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"ArnEquals": {"aws:SourceArn": self.topic.topic_arn}},
            )
        )
        queue = sqs.Queue(
            self,
            "AlarmDeliveryDeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),  # the SNS guide's recommendation for DLQs (the SQS maximum)
            removal_policy=removal_policy,
        )
        reason = (
            "this queue is itself the dead-letter queue of the alarm topic's e-mail subscriptions (the SNS "
            "subscription's RedrivePolicy points here, which the rule does not read); it has no consumer to fail, so a "
            "redrive target of its own would stay empty; messages are kept 14 days and an alarm fires when one arrives"
        )
        for rule in ("AwsSolutions::AwsSolutions-SQS3", "Serverless::Serverless-SQSRedrivePolicy"):
            Validations.of(queue).acknowledge(Acknowledgment(id=rule, reason=reason))
        return queue

    def _alarm(self, key: str, metric: cw.Metric, threshold: float, description: str, periods: int = 1) -> cw.Alarm:
        construct_id = "".join(part.capitalize() for part in key.replace("_", "-").split("-")) + "Alarm"
        alarm = cw.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        self.alarms[key] = alarm
        return alarm

    def _widgets(self, endpoints, proxy, front_door, guardrail) -> None:
        d = self.dashboard
        d.add_widgets(cw.TextWidget(markdown="# gpt-oss platform\nEndpoints, invoke proxy, guardrail and token usage. Alarms notify the platform alarm topic.", width=24, height=2))
        for ep in endpoints:
            d.add_widgets(
                cw.GraphWidget(title=f"{ep.endpoint_name}: invocations and errors", left=[ep.metric_invocations(), ep.metric_invocation4xx_errors(), ep.metric_invocation5xx_errors()], width=8),
                cw.GraphWidget(title=f"{ep.endpoint_name}: model latency (µs)", left=[ep.metric_model_latency(statistic=s, label=s) for s in ("p50", "p90", "p99")], width=8),
                cw.GraphWidget(title=f"{ep.endpoint_name}: concurrency and GPU", left=[ep.metric_concurrent_requests()], right=[ep.metric_gpu_utilization(), ep.metric_gpu_memory_utilization()], width=8),
            )
        if proxy is not None:
            d.add_widgets(
                cw.GraphWidget(title="proxy: invocations, errors, throttles", left=[proxy.metric_invocations(statistic="Sum"), proxy.metric_errors(statistic="Sum"), proxy.metric_throttles(statistic="Sum")], width=8),
                cw.GraphWidget(title="proxy: duration", left=[proxy.metric_duration(statistic=s, label=s) for s in ("p50", "p99")], width=8),
                cw.GraphWidget(
                    title="tokens per model",
                    left=[cw.Metric(namespace=TOKEN_NAMESPACE, metric_name=m, dimensions_map={"Model": route.model}, statistic="Sum", label=f"{route.model} {m}") for route in proxy.routes for m in ("PromptTokens", "CompletionTokens", "ReasoningTokens")],
                    width=8,
                ),
            )
            d.add_widgets(
                cw.GraphWidget(
                    title="completion tokens per consumer",
                    left=[cw.MathExpression(expression=f"SEARCH('{{{TOKEN_NAMESPACE},Model,Consumer}} MetricName=\"CompletionTokens\"', 'Sum', 300)", label="")],
                    width=12,
                ),
                cw.GraphWidget(title="guardrail calls made by the proxy", left=[cw.MathExpression(expression=f"SEARCH('{{{TOKEN_NAMESPACE},Model}} MetricName=\"GuardrailCalls\"', 'Sum', 300)", label="")], width=12),
            )
            d.add_widgets(
                cw.GraphWidget(title="proxy: responses by status", left=[cw.MathExpression(expression=f"SEARCH('{{{TOKEN_NAMESPACE},Status}} MetricName=\"Requests\"', 'Sum', 300)", label="")], width=12),
                cw.GraphWidget(title="proxy: cold starts", left=[cw.Metric(namespace=TOKEN_NAMESPACE, metric_name="ColdStart", statistic="Sum", dimensions_map={})], width=12),
            )
        if front_door is not None:
            d.add_widgets(
                cw.GraphWidget(title="private API: requests and errors", left=[front_door.metric_count(), front_door.metric_client_error(), front_door.metric_server_error()], width=12),
                cw.GraphWidget(title="private API: latency", left=[front_door.metric_latency(statistic=s, label=s) for s in ("p50", "p99")], width=12),
            )
        if guardrail is not None:
            # the published Operation=ApplyGuardrail set (all guardrails of the region); the per-policy-type
            # breakdown comes from the published GuardrailPolicyType dimension
            g = guardrail.metric_apply_guardrail
            d.add_widgets(
                cw.GraphWidget(
                    title="guardrail: invocations and interventions (by policy type)",
                    left=[g("Invocations"), g("InvocationsIntervened")],
                    right=[cw.MathExpression(expression="SEARCH('{AWS/Bedrock/Guardrails,GuardrailPolicyType,Operation} MetricName=\"InvocationsIntervened\"', 'Sum', 300)", label="")],
                    width=8,
                ),
                cw.GraphWidget(title="guardrail: latency p99", left=[g("InvocationLatency", statistic="p99")], width=8),
                cw.GraphWidget(title="guardrail: errors and throttles", left=[g("InvocationServerErrors"), g("InvocationThrottles")], right=[g("TextUnitCount")], width=8),
            )
