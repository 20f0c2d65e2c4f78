"""The full platform as deployed per region: who calls what and outputs. (The per-region security projection
that replaced whole-template snapshots is tests/test_security_projection.py.)"""

from __future__ import annotations

import json

import pytest

import re

_FINGERPRINT = re.compile(r"ProducerFingerprint[0-9a-f]{16}")


def _function_policy(template: dict) -> list[dict]:
    (fn,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Runtime") == "python3.14"]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    # what the proxy role is allowed: the Allow statements of its customer-managed policies (its own grants; the
    # model-access policy and the ENI statement add Denies)
    policies = [r for r in template["Resources"].values() if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": role} in r["Properties"].get("Roles", [])]
    return [s for policy in policies for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]


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


def test_the_public_function_url_front_door_is_gone():
    """Lambda developer guide, "Lambda function URLs": function URLs are reachable only over the public internet
    (PrivateLink does not cover them), so the old ``front_door=function-url`` is refused with what to use."""
    from stacks.config import ConfigError, load_config
    from tests.conftest import project_context

    ctx = project_context(regions="us-west-2", front_door="function-url")
    with pytest.raises(ConfigError, match="context key 'front_door': 'function-url' was removed: Lambda function URLs are reachable only over the public internet.*use 'private-api'"):
        load_config(ctx.get)


def test_the_proxy_asset_is_the_lambda_folder_ready_for_the_web_adapter(platform_app):
    import os

    assets = json.loads((platform_app.outdir / "GptOss-Proxy-us-east-1.assets.json").read_text())["files"]
    folders = [platform_app.outdir / a["source"]["path"] for a in assets.values() if a["source"].get("packaging") == "zip"]
    (folder,) = [f for f in folders if (f / "handler.py").exists()]
    assert os.access(folder / "run.sh", os.X_OK)  # the Web Adapter starts it as the handler
    assert (folder / "gptoss_proxy" / "core" / "service.py").exists()
    leftovers = [p for p in folder.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc" or "tests" in p.parts]
    assert leftovers == []


# ---- cross-stack wiring (issue 13 item 12) ---------------------------------------------------------------


def _manifest(platform_app) -> dict:
    return json.loads((platform_app.outdir / "manifest.json").read_text())["artifacts"]


def test_consumers_depend_on_their_producers_and_on_models(platform_app):
    """The cloud assembly's ``dependencies`` order ``cdk deploy --all``: Proxy and Monitoring use the Models
    stack's endpoint names as plain strings (no reference), so only an explicit dependency stops a targeted
    deploy from routing to an endpoint that does not exist yet."""
    artifacts = _manifest(platform_app)
    deps = lambda name: {d for d in artifacts[name].get("dependencies", []) if not d.endswith(".assets")}  # noqa: E731
    assert deps("GptOss-Models-us-east-1") == {"GptOss-Network-us-east-1"}
    assert deps("GptOss-Proxy-us-east-1") == {"GptOss-Network-us-east-1", "GptOss-Guardrail-us-east-1", "GptOss-Models-us-east-1"}
    assert deps("GptOss-Monitoring-us-east-1") == {"GptOss-Proxy-us-east-1", "GptOss-Guardrail-us-east-1", "GptOss-Models-us-east-1"}
    assert deps("GptOss-Proxy-us-west-2") == {"GptOss-Network-us-west-2", "GptOss-Guardrail-us-west-2"}  # no Models stack there


def _values(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _values(v)
    elif isinstance(node, list):
        for v in node:
            yield from _values(v)


def test_references_are_weak_and_every_consumer_refreshes_on_producer_change(platform_app):
    """CloudFormation template reference, "Fn::GetStackOutput": the value "is resolved at stack create or
    update time"; a consumer "is not automatically updated" when the producer's output changes. Our consumers
    read producers with Fn::GetStackOutput (no export locks) and carry a WaitConditionHandle whose logical id
    is the producers' fingerprint, so a producer change always changes (and so updates) every consumer."""
    for consumer, producers in (
        ("GptOss-Proxy-us-east-1", {"GptOss-Network-us-east-1", "GptOss-Guardrail-us-east-1"}),
        ("GptOss-Monitoring-us-east-1", {"GptOss-Proxy-us-east-1"}),  # guardrail metrics use the published Operation set
        ("GptOss-Models-us-east-1", {"GptOss-Network-us-east-1"}),
    ):
        template = platform_app.template(consumer)
        refs = [n["Fn::GetStackOutput"] for n in _values(template) if "Fn::GetStackOutput" in n]
        assert refs and {r["StackName"] for r in refs} == producers, consumer
        assert not [n for n in _values(template) if "Fn::ImportValue" in n]
        handles = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudFormation::WaitConditionHandle"]
        assert len(handles) == 1 and _FINGERPRINT.fullmatch(handles[0]), consumer
    fingerprints = {_FINGERPRINT.search(json.dumps(platform_app.template(s)))[0] for s in ("GptOss-Proxy-us-east-1", "GptOss-Monitoring-us-east-1")}
    assert len(fingerprints) == 1


def test_fingerprint_changes_with_what_decides_producer_resources():
    from stacks.config import load_config
    from stacks.platform import region_fingerprint
    from tests.conftest import project_context

    base = region_fingerprint(load_config(project_context().get), "us-east-1")
    assert base == region_fingerprint(load_config(project_context().get), "us-east-1")  # deterministic
    with_duration = lambda: region_fingerprint(load_config(project_context(timeout=120).get), "us-east-1")  # noqa: E731
    assert with_duration() == with_duration()  # jsii values (Duration) are fingerprinted by value, not identity
    for change in ({"guardrail_policy": "strict"}, {"availability_zones": "us-east-1a,us-east-1c"}, {"instance_types": '{"gpt-oss-20b": "ml.g6e.2xlarge"}'}, {"max_azs": 3}, {"memory_size": 2048}):
        assert region_fingerprint(load_config(project_context(**change).get), "us-east-1") != base, change


def test_inference_profile_route_synthesizes_nag_clean_and_calls_the_profile(tmp_path):
    """Opt-in geographic profile: the proxy's route sends the profile id as modelId (Bedrock user guide, "Use
    an inference profile in model invocation": specify the profile in place of the model) and the app stays
    free of open nag findings (the region wildcard is acknowledged with its condition)."""
    from tests.conftest import run_app

    result = run_app(tmp_path, regions="us-east-1", bedrock_models="gpt-oss-120b", bedrock_inference_profiles="gpt-oss-120b")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not [v for p in result.validation_report()["pluginReports"] for v in p.get("violations", [])]
    template = json.dumps(result.template("GptOss-Proxy-us-east-1"))
    assert '\\"model_id\\":\\"us.openai.gpt-oss-120b-1:0\\"' in template
    assert "arn:aws:bedrock:*::foundation-model/openai.gpt-oss-120b-1:0" in template


def test_key_policies_name_explicit_kms_actions_for_services(platform_app):
    """Key-policy statements for AWS service principals (CloudWatch Logs, CloudTrail, CloudWatch, SNS...) list
    explicit KMS actions, never ``kms:Encrypt*``-style wildcards (issue 16). Except CloudWatch Logs: its statements
    take the form the CloudWatch Logs user guide documents ("Encrypt log data in CloudWatch Logs using AWS KMS":
    ``kms:Encrypt*``, ``Decrypt*``, ``ReEncrypt*``, ``GenerateDataKey*``, ``Describe*``; issue 21 item 7), tested in
    tests/test_endpoint.py. The account-root statement aws-cdk-lib writes (``kms:*`` for the account) is the key's
    administration path and is not a service grant."""
    offenders = []
    for stack in platform_app.stacks():
        for name, resource in platform_app.template(stack).get("Resources", {}).items():
            if resource["Type"] != "AWS::KMS::Key":
                continue
            for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
                if "Service" not in (statement.get("Principal") or {}):
                    continue
                if str(statement["Principal"]["Service"]).startswith("logs."):
                    continue
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                offenders += [(stack, name, a) for a in actions if a.endswith("*")]
    assert offenders == []
