"""PlatformMonitoring: one dashboard, sensible alarms and an encrypted alarm topic for a region."""

from __future__ import annotations

from typing import Protocol, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from gptoss_constructs._defaults import new_key
from gptoss_constructs._validation import require_email_addresses, require_range

#: the namespace of the proxy's embedded-metric-format token metrics (lambda/invoke_proxy/gptoss_proxy/wiring.py)
TOKEN_NAMESPACE = "GptOssPlatform"


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
    throttles, front-door 5xx, guardrail server errors.

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
        endpoint_saturation_concurrency: int = 16,
        proxy_error_threshold: int = 5,
        proxy_throttle_threshold: int = 1,
        guardrail_error_threshold: int = 1,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param endpoints: SageMaker endpoints (``GptOssEndpoint``). Default: - none.
        :param proxy: the ``InvokeProxy``. Default: - none.
        :param front_door: the ``PrivateApiFrontDoor``. Default: - the proxy's first private API, if any.
        :param guardrail: the ``ModelGuardrail``. Default: - none.
        :param alarm_emails: e-mail subscriptions of the alarm topic. Default: - none (subscribe later).
        :param endpoint_5xx_threshold: model errors per 5 minutes. Default: - 5.
        :param endpoint_latency_p99: Default: - 60 seconds (reasoning answers are long).
        :param endpoint_saturation_concurrency: concurrent requests per model copy that mean "at capacity".
            Default: - 16 (twice the scaling target of 8).
        :param proxy_error_threshold: function errors per 5 minutes. Default: - 5.
        :param proxy_throttle_threshold: throttled invocations per 5 minutes. Default: - 1.
        :param guardrail_error_threshold: ApplyGuardrail server errors per 5 minutes. Default: - 1.
        :param encryption_key: the topic's key. Default: - a new key with rotation.
        """
        super().__init__(scope, id)
        for name, value in (
            ("endpoint_5xx_threshold", endpoint_5xx_threshold),
            ("endpoint_saturation_concurrency", endpoint_saturation_concurrency),
            ("proxy_error_threshold", proxy_error_threshold),
            ("proxy_throttle_threshold", proxy_throttle_threshold),
            ("guardrail_error_threshold", guardrail_error_threshold),
        ):
            require_range(name, value, 1, 100000)
        require_email_addresses("alarm_emails", alarm_emails)
        latency = endpoint_latency_p99 or Duration.seconds(60)
        if front_door is None and proxy is not None:
            front_door = next((d for d in getattr(proxy, "front_doors", []) if hasattr(d, "metric_server_error")), None)

        self.encryption_key = encryption_key or new_key(
            self, "Key", description="gpt-oss-platform: alarm topic", removal_policy=removal_policy
        )
        # CloudWatch alarms publish to an encrypted topic only if the key lets CloudWatch use it (SNS developer
        # guide, "Enable compatibility between event sources from AWS services and encrypted topics"). Explicit
        # actions, and confused-deputy conditions: only alarms of this account and region.
        stack = Stack.of(self)
        self.encryption_key.add_to_resource_policy(
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
        )
        self.topic = sns.Topic(self, "AlarmTopic", master_key=self.encryption_key, enforce_ssl=True, display_name="gpt-oss platform alarms")
        for email in alarm_emails:
            self.topic.add_subscription(subs.EmailSubscription(email))
        self.alarms: dict[str, cw.Alarm] = {}

        for ep in endpoints:
            name = ep.endpoint_name
            self._alarm(f"{name}-5xx", ep.metric_invocation5xx_errors(), endpoint_5xx_threshold, f"{name}: model errors (5xx)")
            self._alarm(f"{name}-latency", ep.metric_model_latency(statistic="p99"), latency.to_seconds() * 1_000_000, f"{name}: model latency p99 above {latency.to_seconds()} s", periods=3)
            self._alarm(f"{name}-saturated", ep.metric_concurrent_requests(statistic="Average"), endpoint_saturation_concurrency, f"{name}: saturated at its maximum capacity", periods=3)
        if proxy is not None:
            self._alarm("proxy-errors", proxy.metric_errors(statistic="Sum"), proxy_error_threshold, "invoke proxy: function errors")
            self._alarm("proxy-throttles", proxy.metric_throttles(statistic="Sum"), proxy_throttle_threshold, "invoke proxy: throttled invocations")
        if front_door is not None:
            self._alarm("api-5xx", front_door.metric_server_error(statistic="Sum", period=Duration.minutes(5)), proxy_error_threshold, "private API: 5xx responses")
        if guardrail is not None:
            # the published Operation=ApplyGuardrail dimension set (Bedrock guardrails CloudWatch metrics doc)
            self._alarm("guardrail-errors", guardrail.metric_apply_guardrail("InvocationServerErrors"), guardrail_error_threshold, "guardrail: ApplyGuardrail server errors (all guardrails of the region)")

        self.dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self._widgets(endpoints, proxy, front_door, guardrail)

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
