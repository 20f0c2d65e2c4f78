"""A platform team adds a third model route to the proxy: a scale-to-zero gpt-oss-120b endpoint for batchy
work, next to gpt-oss-20b on SageMaker and gpt-oss-120b on Bedrock — each with its own caps and fallback.

    .venv/bin/python examples/add_model_route.py      # synthesizes into cdk.out.examples/
"""

from __future__ import annotations

from aws_cdk import App, Environment, Stack

from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
from gptoss_constructs.network import PrivateNetwork


def build(app: App) -> Stack:
    stack = Stack(app, "ThreeRoutes", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Network")
    small = GptOssEndpoint(stack, "Gpt20b", model="gpt-oss-20b", vpc=net.vpc)
    small.add_autoscaling(min_capacity=1, max_capacity=2)
    batch = GptOssEndpoint(stack, "Gpt120bBatch", model="gpt-oss-120b", vpc=net.vpc, instance_type="ml.g6e.12xlarge", scale_to_zero=True)
    batch.add_autoscaling(min_capacity=0, max_capacity=1)
    proxy = InvokeProxy(
        stack,
        "Proxy",
        vpc=net.vpc,
        service_endpoints=net,
        guardrail=ModelGuardrail(stack, "Guardrail", policy="baseline"),
        routes=[
            ProxyRoute.sagemaker("gpt-oss-20b", small, fallback="gpt-oss-120b", max_tokens=8192),
            ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"), max_reasoning_effort="medium"),
            # the third route: big model, no always-on cost, for callers that can wait for a cold start
            ProxyRoute.sagemaker("gpt-oss-120b-batch", batch, fallback="gpt-oss-120b", max_tokens=32768),
        ],
    )
    proxy.add_private_api(vpc_endpoint=net.interface_endpoints["execute-api"])
    return stack


if __name__ == "__main__":
    app = App(outdir="cdk.out.examples")
    build(app)
    app.synth()
