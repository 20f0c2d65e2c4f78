"""Every construct example in examples/ synthesizes with all five nag packs and builds what it says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from aws_cdk.assertions import Template

from stacks.compliance import attach_compliance
from tests.conftest import make_app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _build(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = make_app()
    attach_compliance(app)
    stack = module.build(app)
    app.synth()  # raises on any unacknowledged nag error
    return Template.from_stack(stack)


def test_add_model_route_has_three_routes_on_two_backends():
    t = _build("add_model_route")
    t.resource_count_is("AWS::SageMaker::Endpoint", 2)
    t.resource_count_is("AWS::SageMaker::InferenceComponent", 1)
    (fn,) = [r for r in t.find_resources("AWS::Lambda::Function").values() if r["Properties"].get("Runtime") == "python3.14"]
    routes = json.loads(fn["Properties"]["Environment"]["Variables"]["GPTOSS_ROUTES"])
    assert set(routes) == {"gpt-oss-20b", "gpt-oss-120b", "gpt-oss-120b-batch"}
    batch = routes["gpt-oss-120b-batch"]
    assert batch["backend"] == "sagemaker" and batch["inference_component"] == batch["endpoint_name"] + "-ic"
    assert batch["fallback"] == "gpt-oss-120b" and batch["max_tokens"] == 32768
    assert routes["gpt-oss-120b"] == {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0", "max_reasoning_effort": "medium"}


def test_guardrail_only():
    t = _build("guardrail_only")
    t.resource_count_is("AWS::Bedrock::Guardrail", 1)
    t.resource_count_is("AWS::EC2::VPC", 0)
    t.has_resource_properties("AWS::Bedrock::Guardrail", {"TopicPolicyConfig": {"TopicsConfig": [{"Name": "Competitor pricing", "Definition": "Statements about the prices of competitors' products.", "Type": "DENY"}]}})


def test_endpoint_in_an_existing_vpc():
    t = _build("endpoint_existing_vpc")
    t.resource_count_is("AWS::EC2::VPC", 0)
    t.has_resource_properties("AWS::SageMaker::Model", {"VpcConfig": {"Subnets": ["subnet-0aaa1111", "subnet-0bbb2222"]}})
    t.has_resource_properties("AWS::SageMaker::EndpointConfig", {"ProductionVariants": [{"InstanceType": "ml.g6e.2xlarge"}]})
