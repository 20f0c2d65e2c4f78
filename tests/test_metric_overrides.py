"""Every ``metric*`` of every construct takes any ``cloudwatch.Metric`` option as an override of its defaults
(``setdefault``, never a duplicate keyword: issue 24 item 7, ``ModelGuardrail.metric(namespace=...)`` raised a
TypeError), like aws-cdk-lib's own ``metric(name, props)``."""

from __future__ import annotations

import inspect

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_lambda as lambda_

from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
from gptoss_constructs.network import PrivateNetwork
from tests.conftest import make_app

OVERRIDES = dict(namespace="Team/Custom", statistic="Minimum", period=Duration.minutes(1), dimensions_map={"Team": "a"}, label="mine")


@pytest.fixture(scope="module")
def constructs():
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Net", flow_logs=False)
    ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc)
    guardrail = ModelGuardrail(stack, "Guardrail")
    imported = ModelGuardrail.from_guardrail_attributes(stack, "Imported", guardrail_arn="arn:aws:bedrock:us-east-1:111122223333:guardrail/abc", guardrail_version="1")
    proxy = InvokeProxy(stack, "Proxy", vpc=net.vpc, service_endpoints=net, code=lambda_.Code.from_inline("x=1"),
                        routes=[ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"))])
    door = proxy.add_private_api(vpc_endpoint=net.interface_endpoints["execute-api"])
    return stack, {"endpoint": ep, "guardrail": guardrail, "imported guardrail": imported, "proxy": proxy, "front door": door}


def _metric_methods(obj):
    for name, method in inspect.getmembers(obj, inspect.ismethod):
        if name.startswith("metric"):
            yield name, method


def test_the_guardrail_metric_takes_a_namespace_override(constructs):
    stack, built = constructs
    m = built["guardrail"].metric("Invocations", namespace="Team/Guardrails")
    assert (m.namespace, m.metric_name, m.statistic) == ("Team/Guardrails", "Invocations", "Sum")
    assert built["guardrail"].metric("Invocations").namespace == "AWS/Bedrock/Guardrails"


@pytest.mark.parametrize(
    ("which", "namespace"),
    [
        ("endpoint", "Team/Custom"),
        ("guardrail", "Team/Custom"),
        ("imported guardrail", "Team/Custom"),
        # these delegate to aws-cdk-lib's Function / RestApi metrics, whose options (``MetricOptions``) have no
        # namespace, as in aws-cdk-lib itself; every other option overrides
        ("proxy", None),
        ("front door", None),
    ],
)
def test_every_metric_method_takes_every_override(constructs, which, namespace):
    stack, built = constructs
    methods = dict(_metric_methods(built[which]))
    assert methods, which
    overrides = dict(OVERRIDES) if namespace else {k: v for k, v in OVERRIDES.items() if k != "namespace"}
    for name, method in methods.items():
        args = ("Invocations",) if "metric_name" in inspect.signature(method).parameters else ()
        m = method(*args, **overrides)  # a duplicate keyword would raise TypeError here
        assert (m.statistic, m.period.to_seconds(), m.label) == ("Minimum", 60, "mine"), name
        assert m.namespace == namespace if namespace else m.namespace in ("AWS/Lambda", "AWS/ApiGateway"), name
        assert stack.resolve(m.dimensions) == {"Team": "a"}, name
