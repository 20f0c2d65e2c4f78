"""The full platform as deployed per region: who calls what and outputs. (The per-region security projection
that replaced whole-template snapshots is tests/test_security_projection.py.)"""

from __future__ import annotations

import json

import pytest


def _function_policy(template: dict) -> list[dict]:
    (fn,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Runtime") == "python3.14"]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_us_east_1_routes_sagemaker_20b_and_us_west_2_is_bedrock_only(platform_app):
    assert "GptOss-Models-us-east-1" in platform_app.stacks() and "GptOss-Models-us-west-2" not in platform_app.stacks()
    east = {a for s in _function_policy(platform_app.template("GptOss-Proxy-us-east-1")) for a in _actions(s)}
    west = {a for s in _function_policy(platform_app.template("GptOss-Proxy-us-west-2")) for a in _actions(s)}
    assert {"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream", "bedrock:ApplyGuardrail"} <= east
    assert not {a for a in east if a.startswith("bedrock:Invoke")}
    assert {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:ApplyGuardrail"} <= west
    assert not {a for a in west if a.startswith("sagemaker:")}


def test_proxy_invokes_exactly_the_models_stack_endpoint(platform_app):
    models = platform_app.template("GptOss-Models-us-east-1")
    (endpoint,) = [r for r in models["Resources"].values() if r["Type"] == "AWS::SageMaker::Endpoint"]
    name = endpoint["Properties"]["EndpointName"]
    (invoke,) = [s for s in _function_policy(platform_app.template("GptOss-Proxy-us-east-1")) if "sagemaker:InvokeEndpoint" in _actions(s)]
    assert invoke["Resource"] == {"Fn::Join": ["", ["arn:aws:sagemaker:us-east-1:", {"Ref": "AWS::AccountId"}, f":endpoint/{name}"]]}


def test_no_wildcard_action_anywhere(platform_app):
    for stack in platform_app.stacks():
        for r in platform_app.template(stack)["Resources"].values():
            docs = []
            if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                docs.append(r["Properties"]["PolicyDocument"])
            for doc in docs:
                for s in doc["Statement"]:
                    assert not any(a == "*" or a.endswith(":*") for a in _actions(s)), (stack, s)


def test_proxy_routes_and_guardrail_version_reach_the_function(platform_app):
    (fn,) = [r for r in platform_app.template("GptOss-Proxy-us-west-2")["Resources"].values() if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Runtime") == "python3.14"]
    env = fn["Properties"]["Environment"]["Variables"]
    assert json.loads(env["GPTOSS_ROUTES"]) == {
        "gpt-oss-20b": {"backend": "bedrock", "model_id": "openai.gpt-oss-20b-1:0", "handoff": "gpt-oss-120b"},  # seed 002 default
        "gpt-oss-120b": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
    }
    assert "Fn::GetStackOutput" in json.dumps(env["GPTOSS_GUARDRAIL_VERSION"]) or "Fn::ImportValue" in json.dumps(env["GPTOSS_GUARDRAIL_VERSION"])


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_outputs_a_consumer_needs(platform_app, region):
    outputs = platform_app.template(f"GptOss-Proxy-{region}")["Outputs"]
    assert {"Url", "OpenAIBaseUrl", "Models", "GuardrailVersion", "HowToCall"} <= set(outputs)
    assert outputs["OpenAIBaseUrl"]["Value"]["Fn::Join"][1][-1] == "/v1"
    guardrail = platform_app.template(f"GptOss-Guardrail-{region}")["Outputs"]
    assert {"GuardrailId", "GuardrailVersion", "GuardrailPolicy"} <= set(guardrail)


def test_function_url_front_door_from_config():
    from aws_cdk.assertions import Template

    from stacks.config import load_config
    from stacks.platform import build_region
    from tests.conftest import make_app, project_context

    ctx = project_context(regions="us-west-2", front_door="function-url")
    app = make_app(**ctx)
    stacks = build_region(app, load_config(ctx.get), "us-west-2")
    t = Template.from_stack(stacks.proxy)
    t.resource_count_is("AWS::ApiGateway::RestApi", 0)
    t.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"})
    outputs = t.to_json()["Outputs"]
    assert "aws:amz:us-west-2:lambda" in outputs["HowToCall"]["Value"]["Fn::Join"][1][0]


def test_the_proxy_asset_is_the_lambda_folder_ready_for_the_web_adapter(platform_app):
    import os

    assets = json.loads((platform_app.outdir / "GptOss-Proxy-us-east-1.assets.json").read_text())["files"]
    folders = [platform_app.outdir / a["source"]["path"] for a in assets.values() if a["source"].get("packaging") == "zip"]
    (folder,) = [f for f in folders if (f / "handler.py").exists()]
    assert os.access(folder / "run.sh", os.X_OK)  # the Web Adapter starts it as the handler
    assert (folder / "gptoss_proxy" / "core" / "service.py").exists()
    leftovers = [p for p in folder.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc" or "tests" in p.parts]
    assert leftovers == []
