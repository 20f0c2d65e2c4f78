"""tools/preflight.py: every check against botocore's Stubber (no network), PASS and FAIL paths.

The API shapes are botocore's own service models (the Stubber rejects a request or response that does not
match them), so these tests also pin the exact operations and parameters preflight sends.
"""

from __future__ import annotations

import dataclasses
import datetime
import json

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import project_context
from tools import jumpstart, preflight

REGION = "us-east-1"


def settings(**context):
    from stacks.config import load_config

    return load_config(project_context(**context).get, None)


class Clients:
    """A client factory whose clients are stubbed; ``add(service, op, response | error_code, params)``."""

    def __init__(self) -> None:
        self.session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name=REGION)
        self.stubs: dict[tuple[str, str], tuple] = {}

    def _get(self, service: str, region: str):
        key = (service, region)
        if key not in self.stubs:
            client = self.session.client(service, region_name=region)
            stub = Stubber(client)
            stub.activate()
            self.stubs[key] = (client, stub)
        return self.stubs[key]

    def add(self, service: str, op: str, response, params=None, region: str = REGION) -> None:
        _, stub = self._get(service, region)
        if isinstance(response, str):
            stub.add_client_error(op, service_error_code=response, expected_params=params)
        else:
            stub.add_response(op, response, params)

    def __call__(self, service: str, region: str):
        return self._get(service, region)[0]

    def assert_all_used(self) -> None:
        for _, stub in self.stubs.values():
            stub.assert_no_pending_responses()


def run(check, config, clients) -> list[preflight.Result]:
    ctx = preflight.RegionContext(region=config.regions[0], account="123456789012", config=config, clients=clients)
    results = list(check(ctx))
    clients.assert_all_used()
    return results


@pytest.fixture(scope="module")
def default():
    return settings(regions=REGION)


# ---- bootstrap ------------------------------------------------------------------------------------------


def test_bootstrap_pass_and_fail(default):
    """CDK templates read the bootstrap version from SSM ``/cdk-bootstrap/hnb659fds/version`` and assert >= 6
    (aws-cdk-lib synthesized ``CheckBootstrapVersion`` rule; cloud_assembly_schema.AssetManifestOptions
    ``bootstrapStackVersionSsmParameter``)."""
    config = default
    c = Clients()
    c.add("ssm", "get_parameter", {"Parameter": {"Name": preflight.BOOTSTRAP_PARAMETER, "Value": "30"}}, {"Name": "/cdk-bootstrap/hnb659fds/version"})
    assert [r.status for r in run(preflight.check_bootstrap, config, c)] == ["PASS"]
    c = Clients()
    c.add("ssm", "get_parameter", "ParameterNotFound", {"Name": "/cdk-bootstrap/hnb659fds/version"})
    (r,) = run(preflight.check_bootstrap, config, c)
    assert r.status == "FAIL" and r.fix == f"npx cdk bootstrap aws://123456789012/{REGION}"
    c = Clients()
    c.add("ssm", "get_parameter", "AccessDeniedException", {"Name": "/cdk-bootstrap/hnb659fds/version"})
    (r,) = run(preflight.check_bootstrap, config, c)
    assert r.status == "WARN" and "ssm:GetParameter" in r.fix


# ---- endpoint quotas ------------------------------------------------------------------------------------


def _quota(value: float) -> dict:
    return {"Quotas": [
        {"ServiceCode": "sagemaker", "QuotaName": "ml.g6e.xlarge for endpoint usage", "QuotaCode": "L-TEST1234", "Value": value},
        {"ServiceCode": "sagemaker", "QuotaName": "ml.p5.48xlarge for endpoint usage", "QuotaCode": "L-TEST5678", "Value": 0.0},
    ]}


@pytest.mark.parametrize("value,status", [(4.0, "PASS"), (2.0, "WARN"), (1.0, "FAIL")])
def test_endpoint_quota_needs_twice_the_max_for_blue_green(default, value, status):
    """SageMaker's per-type quotas are named "<instance type> for endpoint usage" (Service Quotas, service
    code ``sagemaker``); a blue/green update runs both fleets, so 2 x autoscaling_max_capacity (2) = 4."""
    config = default
    c = Clients()
    c.add("service-quotas", "list_service_quotas", _quota(value), {"ServiceCode": "sagemaker"})
    (r,) = run(preflight.check_endpoint_quotas, config, c)
    assert r.status == status, r
    if status != "PASS":
        assert "--quota-code L-TEST1234 --desired-value 4" in r.fix


# ---- lambda concurrency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("unreserved,status", [(1000, "PASS"), (120, "FAIL")])
def test_lambda_reserved_concurrency_leaves_the_minimum(default, unreserved, status):
    """Lambda developer guide, "Configuring reserved concurrency": you can reserve up to the unreserved account
    concurrency minus 100 (CREATE fails with "decreases account's UnreservedConcurrentExecution below its
    minimum value")."""
    config = default
    config = dataclasses.replace(config, reserved_concurrent_executions=50)
    c = Clients()
    c.add("lambda", "get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": unreserved}}, {})
    (r,) = run(preflight.check_lambda_concurrency, config, c)
    assert r.status == status
    if status == "FAIL":
        assert "reserved_concurrent_executions" in r.fix and "<= 20" in r.fix


@pytest.mark.parametrize("total,status", [(1000, "PASS"), (10, "WARN")])
def test_lambda_without_a_reservation_reports_a_small_account_limit(default, total, status):
    """New accounts often have a concurrency limit of 10 (issue 13 item 1); without a reservation the proxy shares it."""
    config = dataclasses.replace(default, reserved_concurrent_executions=None)
    c = Clients()
    c.add("lambda", "get_account_settings", {"AccountLimit": {"ConcurrentExecutions": total, "UnreservedConcurrentExecutions": total}}, {})
    (r,) = run(preflight.check_lambda_concurrency, config, c)
    assert r.status == status


# ---- bedrock models -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bedrock_region():
    return settings(regions="us-west-2")


def _fm(model_id: str) -> dict:
    return {"modelDetails": {"modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{model_id}", "modelId": model_id,
                             "modelLifecycle": {"status": "ACTIVE"}}}


def test_bedrock_models_pass_when_active_and_authorized(bedrock_region):
    """bedrock:GetFoundationModel (modelLifecycle.status ACTIVE|LEGACY) and GetFoundationModelAvailability
    (authorizationStatus / entitlementAvailability / regionAvailability): botocore service model ``bedrock``."""
    config = bedrock_region
    c = Clients()
    for model in config.for_region("us-west-2").bedrock_models:
        mid = {"gpt-oss-20b": "openai.gpt-oss-20b-1:0", "gpt-oss-120b": "openai.gpt-oss-120b-1:0"}[model]
        c.add("bedrock", "get_foundation_model", _fm(mid), {"modelIdentifier": mid}, region="us-west-2")
        c.add("bedrock", "get_foundation_model_availability", {"modelId": mid, "agreementAvailability": {"status": "AVAILABLE"},
              "authorizationStatus": "AUTHORIZED", "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"},
              {"modelId": mid}, region="us-west-2")
    results = run(preflight.check_bedrock_models, config, c)
    assert [r.status for r in results] == ["PASS"] * len(config.for_region("us-west-2").bedrock_models)


def test_bedrock_model_fails_when_not_authorized_or_missing(bedrock_region):
    config = bedrock_region
    models = config.for_region("us-west-2").bedrock_models
    c = Clients()
    first = {"gpt-oss-20b": "openai.gpt-oss-20b-1:0", "gpt-oss-120b": "openai.gpt-oss-120b-1:0"}[models[0]]
    c.add("bedrock", "get_foundation_model", _fm(first), {"modelIdentifier": first}, region="us-west-2")
    c.add("bedrock", "get_foundation_model_availability", {"modelId": first, "agreementAvailability": {"status": "AVAILABLE"},
          "authorizationStatus": "NOT_AUTHORIZED", "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}, region="us-west-2")
    for model in models[1:]:
        c.add("bedrock", "get_foundation_model", "ResourceNotFoundException", region="us-west-2")
    results = run(preflight.check_bedrock_models, config, c)
    assert [r.status for r in results] == ["FAIL"] * len(models)
    assert "authorizationStatus=NOT_AUTHORIZED" in results[0].message and "Model access" in results[0].fix


# ---- guardrail profile ----------------------------------------------------------------------------------


def test_strict_guardrail_profile_is_reported_unconfirmed():
    config = settings(regions=REGION, guardrail_policy="strict")
    (r,) = run(preflight.check_guardrail_profile, config, Clients())
    assert r.status == "WARN" and "UNCONFIRMED" in r.message and "us.guardrail.v1:0" in r.message


# ---- JumpStart hub --------------------------------------------------------------------------------------


def _hub(doc: dict) -> dict:
    now = datetime.datetime(2026, 11, 1)
    return {
        "HubContentName": "openai-reasoning-gpt-oss-20b", "HubContentArn": "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/openai-reasoning-gpt-oss-20b/1.1.0",
        "HubContentVersion": "1.1.0", "HubContentType": "Model", "DocumentSchemaVersion": "2.3.0", "HubName": "SageMakerPublicHub",
        "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub", "HubContentDocument": json.dumps(doc),
        "HubContentStatus": "Available", "CreationTime": now,
    }


def _catalog_doc() -> dict:
    from gptoss_constructs import catalog

    spec = catalog.hosting("gpt-oss-20b")
    return {
        "HostingEcrUri": spec.image_uri(REGION),
        "HostingPrepackedArtifactUri": spec.model_data_s3_uri(REGION),
        "DefaultInferenceInstanceType": spec.default_instance_type,
        "SupportedInferenceInstanceTypes": list(spec.supported_instance_types),
        "InferenceEnvironmentVariables": [{"Name": k, "Type": "text", "Default": v, "Scope": "container"} for k, v in spec.environment.items()],
    }


HUB_PARAMS = {"HubName": "SageMakerPublicHub", "HubContentType": "Model", "HubContentName": "openai-reasoning-gpt-oss-20b"}


def test_hub_content_matching_the_catalog_passes(default):
    """sagemaker:DescribeHubContent on SageMakerPublicHub / Model; document keys from aws/sagemaker-python-sdk
    src/sagemaker/jumpstart/hub/interfaces.py (HubModelDocument: HostingEcrUri, HostingPrepackedArtifactUri,
    HostingEulaUri, SupportedInferenceInstanceTypes, InferenceEnvironmentVariables)."""
    config = default
    c = Clients()
    c.add("sagemaker", "describe_hub_content", _hub(_catalog_doc()), HUB_PARAMS)
    assert [r.status for r in run(preflight.check_jumpstart_hub, config, c)] == ["PASS"]


def test_hub_content_drift_prints_the_exact_override(default):
    config = default
    doc = _catalog_doc()
    doc["HostingEcrUri"] = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.40.0-lmi31.0.0-cu130"
    doc["HostingPrepackedArtifactUri"] = "s3://jumpstart-cache-prod-us-east-1/openai-reasoning/gpt-oss-20b/artifacts/inference-prepack/v2.0.0/"
    doc["InferenceEnvironmentVariables"].append({"Name": "TIKTOKEN_ENCODINGS_BASE", "Type": "text", "Default": "/opt/ml/model/tok", "Scope": "container"})
    doc["HostingEulaUri"] = "s3://jumpstart-cache-prod-us-east-1/eula.txt"
    c = Clients()
    c.add("sagemaker", "describe_hub_content", _hub(doc), HUB_PARAMS)
    by_field = {r.message.split(":")[0]: r for r in run(preflight.check_jumpstart_hub, config, c)}
    assert by_field["image"].status == "FAIL" and "'djl-inference:0.40.0-lmi31.0.0-cu130'" in by_field["image"].fix
    assert by_field["weights"].status == "FAIL"
    assert "models.gpt-oss-20b.artifact_key" in by_field["weights"].fix and "'openai-reasoning/gpt-oss-20b/artifacts/inference-prepack/v2.0.0/'" in by_field["weights"].fix
    assert by_field["environment"].status == "WARN" and '"TIKTOKEN_ENCODINGS_BASE": "/opt/ml/model/tok"' in by_field["environment"].fix
    assert by_field["eula"].status == "FAIL"


def test_hub_content_unreadable_fails(default):
    config = default
    c = Clients()
    c.add("sagemaker", "describe_hub_content", "ResourceNotFound", HUB_PARAMS)
    (r,) = run(preflight.check_jumpstart_hub, config, c)
    assert r.status == "FAIL" and "ResourceNotFound" in r.message


def test_refresh_catalog_and_preflight_share_one_reader():
    from tools import refresh_catalog

    assert refresh_catalog.latest_spec_key is jumpstart.latest_spec_key
    assert refresh_catalog.facts_from_spec is jumpstart.facts_from_spec


# ---- VPC endpoint services ------------------------------------------------------------------------------


def _services(config, azs_by_service: dict[str, list[str]]) -> dict:
    return {"ServiceDetails": [{"ServiceName": s, "AvailabilityZones": azs} for s, azs in azs_by_service.items()]}


@pytest.mark.parametrize("offered,status", [(["us-east-1a", "us-east-1b"], "PASS"), (["us-east-1a", "us-east-1c"], "FAIL")])
def test_endpoint_services_in_the_chosen_azs(offered, status):
    """ec2:DescribeVpcEndpointServices ServiceDetails[].AvailabilityZones (botocore service model ``ec2``),
    judged by constructs/network.py's missing_endpoint_azs / azs_offering_all."""
    from gptoss_constructs.network import endpoint_service_name
    from stacks.network_stack import platform_interface_endpoints

    config = settings(regions=REGION, availability_zones="us-east-1a,us-east-1b")
    names = [endpoint_service_name(s, REGION) for s in platform_interface_endpoints(config.for_region(REGION))]
    c = Clients()
    c.add("ec2", "describe_vpc_endpoint_services", _services(config, {n: offered for n in names}), {"ServiceNames": names})
    results = run(preflight.check_endpoint_services, config, c)
    assert {r.status for r in results} == {status}
    if status == "FAIL":
        assert "not offered in us-east-1b" in results[0].message
        assert results[0].fix == "choose AZs that offer every service, e.g. -c availability_zones=us-east-1a,us-east-1c"


def test_unpinned_azs_get_a_suggestion():
    from gptoss_constructs.network import endpoint_service_name
    from stacks.network_stack import platform_interface_endpoints

    config = settings(regions=REGION)
    names = [endpoint_service_name(s, REGION) for s in platform_interface_endpoints(config.for_region(REGION))]
    c = Clients()
    c.add("ec2", "describe_vpc_endpoint_services", _services(config, {n: ["us-east-1a", "us-east-1b", "us-east-1c"] for n in names}), {"ServiceNames": names})
    (r,) = run(preflight.check_endpoint_services, config, c)
    assert r.status == "WARN" and r.fix == "pin them: -c availability_zones=us-east-1a,us-east-1b"


# ---- API Gateway account role ---------------------------------------------------------------------------


@pytest.mark.parametrize("role,status", [("arn:aws:iam::123456789012:role/existing", "WARN"), (None, "PASS")])
def test_apigateway_account_role(default, role, status):
    """apigateway:GetAccount ``cloudwatchRoleArn``: account-wide, one per region; our stack would replace it."""
    config = default
    c = Clients()
    c.add("apigateway", "get_account", {"cloudwatchRoleArn": role} if role else {}, {})
    (r,) = run(preflight.check_apigateway_account, config, c)
    assert r.status == status
    if role:
        assert role in r.message and "configure_account_logging_role=false" in r.fix


# ---- the command ----------------------------------------------------------------------------------------


def test_without_credentials_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    for key in list(__import__("os").environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert preflight.main(["-c", f"regions={REGION}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no AWS credentials" in err[0] and "AWS_ACCESS_KEY_ID" in err[0]


def test_context_args_override_cdk_json():
    ctx = preflight.context_from_args(["-c", "regions=us-west-2", "--context", "max_azs=3"])
    assert ctx["regions"] == "us-west-2" and ctx["max_azs"] == "3" and ctx["guardrail_policy"] == "baseline"


class Session:
    """A boto3-Session stand-in whose clients are stubbed (credentials present)."""

    def __init__(self, clients):
        self.clients = clients

    def get_credentials(self):
        return object()

    def client(self, service, region_name=None):
        return self.clients(service, region_name or REGION)


def _identity(c: Clients) -> None:
    c.add("sts", "get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x", "UserId": "x"})


def test_config_error_is_one_line_and_exit_2(capsys):
    c = Clients()
    _identity(c)
    assert preflight.main(["-c", "regions=mars-east-1"], session=Session(c)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "context key 'regions': 'mars-east-1'" in err


def test_rejected_credentials_are_one_line_and_exit_2(capsys):
    c = Clients()
    c.add("sts", "get_caller_identity", "InvalidClientTokenId")
    assert preflight.main(["-c", f"regions={REGION}"], session=Session(c)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rejected by sts:GetCallerIdentity (InvalidClientTokenId)" in err


def test_a_failing_check_makes_the_command_exit_1(capsys):
    c = Clients()
    _identity(c)
    c.add("ssm", "get_parameter", "ParameterNotFound")
    preflight_checks = preflight.CHECKS
    try:
        preflight.CHECKS = [preflight.check_bootstrap]
        code = preflight.main(["-c", f"regions={REGION}"], session=Session(c))
    finally:
        preflight.CHECKS = preflight_checks
    out = capsys.readouterr().out
    assert code == 1 and "FAIL  us-east-1" in out and "fix: npx cdk bootstrap aws://123456789012/us-east-1" in out


# ---- inference profiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("regions,status", [(["us-east-1", "us-east-2", "us-west-2"], "WARN"), ("error", "FAIL")])
def test_inference_profile_is_checked_and_its_destinations_printed(regions, status):
    """bedrock:GetInferenceProfile returns ``models[].modelArn`` — one foundation-model ARN per destination
    region — and ``status`` (botocore service model ``bedrock``)."""
    config = settings(regions="us-east-1", bedrock_models="gpt-oss-120b", bedrock_inference_profiles="gpt-oss-120b")
    c = Clients()
    params = {"inferenceProfileIdentifier": "us.openai.gpt-oss-120b-1:0"}
    if regions == "error":
        c.add("bedrock", "get_inference_profile", "ValidationException", params)
    else:
        now = datetime.datetime(2026, 11, 1)
        c.add("bedrock", "get_inference_profile", {
            "inferenceProfileName": "US gpt-oss-120b", "inferenceProfileArn": "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.openai.gpt-oss-120b-1:0",
            "inferenceProfileId": "us.openai.gpt-oss-120b-1:0", "status": "ACTIVE", "type": "SYSTEM_DEFINED", "createdAt": now, "updatedAt": now,
            "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/openai.gpt-oss-120b-1:0"} for r in regions],
        }, params)
    (r,) = run(preflight.check_inference_profiles, config, c)
    assert r.status == status
    if status == "WARN":
        assert "us-east-1, us-east-2, us-west-2" in r.message and '"destination_regions": ["us-east-1", "us-east-2", "us-west-2"]' in r.fix


# ---- tokenizer and Web Adapter layer ---------------------------------------------------------------------


@pytest.mark.parametrize("env,status", [({"TIKTOKEN_ENCODINGS_BASE": "/opt/ml/model/tokenizer"}, "PASS"), ({}, "WARN")])
def test_tokenizer_encodings_come_from_the_hub_or_are_reported(default, env, status):
    """vLLM / openai-harmony read o200k_base.tiktoken from $TIKTOKEN_ENCODINGS_BASE or download it
    (vllm-project/vllm#22525, openai/harmony#46 and #95); the hub content's container environment says which."""
    config = default
    doc = _catalog_doc()
    doc["InferenceEnvironmentVariables"] += [{"Name": k, "Type": "text", "Default": v, "Scope": "container"} for k, v in env.items()]
    c = Clients()
    c.add("sagemaker", "describe_hub_content", _hub(doc), HUB_PARAMS)
    results = run(preflight.check_tokenizer_encodings, config, c)
    assert [r.status for r in results] == [status]
    if status == "WARN":
        assert "UNCONFIRMED" in results[0].message and "tiktoken_encodings_base" in results[0].fix


def test_hub_content_is_read_once_for_both_hub_checks(default):
    config = default
    c = Clients()
    c.add("sagemaker", "describe_hub_content", _hub(_catalog_doc()), HUB_PARAMS)  # one response for two checks
    results = run(lambda ctx: [*preflight.check_jumpstart_hub(ctx), *preflight.check_tokenizer_encodings(ctx)], config, c)
    assert [r.check for r in results] == ["jumpstart:gpt-oss-20b", "tokenizer:gpt-oss-20b"]


@pytest.mark.parametrize("region,error,status", [("us-east-1", None, "PASS"), ("us-gov-west-1", "AccessDeniedException", "FAIL")])
def test_web_adapter_layer_exists_in_the_region(region, error, status):
    """lambda:GetLayerVersionByArn on the adapter layer the proxy attaches (InvokeProxy: account 753240598075,
    LambdaAdapterLayerArm64, LWA_LAYER_VERSION); GovCloud ARNs use the aws-us-gov partition."""
    from gptoss_constructs.invoke_proxy import LWA_LAYER_VERSION

    context = {"regions": region} if region == "us-east-1" else {"regions": region, "sagemaker_models": "", "bedrock_models": "gpt-oss-120b"}
    config = settings(**context)
    partition = "aws-us-gov" if region.startswith("us-gov") else "aws"
    arn = f"arn:{partition}:lambda:{region}:753240598075:layer:LambdaAdapterLayerArm64:{LWA_LAYER_VERSION}"
    c = Clients()
    if error:
        c.add("lambda", "get_layer_version_by_arn", error, {"Arn": arn}, region=region)
    else:
        c.add("lambda", "get_layer_version_by_arn", {"LayerVersionArn": arn, "Version": LWA_LAYER_VERSION}, {"Arn": arn}, region=region)
    (r,) = run(preflight.check_web_adapter_layer, config, c)
    assert r.status == status and arn in r.message


def test_credentials_from_env_without_a_default_region_use_the_checked_regions(monkeypatch, capsys, tmp_path):
    """Issue 21 item 8: credentials in environment variables and no default region made preflight stop with
    "could not use the AWS credentials (NoRegionError)". botocore raises NoRegionError for a regional client
    created without a region (botocore/regions.py: no region and no ``partitionEndpoint`` -> NoRegionError; checked
    below against the real SDK). botocore 1.44 still falls back to STS's partition endpoint (aws-global), but
    preflight no longer relies on that: every client it creates names a region (STS the first region it checks,
    each check its own), and the session below refuses any client without one. It is a real boto3 Session (env
    credentials, no config file) whose clients are stubbed with botocore's Stubber: nothing leaves the machine."""
    import botocore.exceptions

    for key in list(__import__("os").environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(botocore.exceptions.NoRegionError):
        boto3.Session().client("ssm")  # the SDK's behaviour without a default region

    regions_used: list[tuple[str, str | None]] = []

    class StubbedSession(boto3.Session):
        def client(self, service, region_name=None, **kwargs):
            regions_used.append((service, region_name))
            if region_name is None:  # as botocore does for every regional service (and STS where it is regional)
                raise botocore.exceptions.NoRegionError()
            client = super().client(service, region_name=region_name, **kwargs)
            stub = Stubber(client)
            if service == "sts":
                stub.add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x", "UserId": "x"})
            else:
                stub.add_response("get_parameter", {"Parameter": {"Name": preflight.BOOTSTRAP_PARAMETER, "Value": "30"}})
            stub.activate()
            return client

    monkeypatch.setattr(preflight, "CHECKS", [preflight.check_bootstrap])
    code = preflight.main(["-c", "regions=us-west-2,us-east-1"], session=StubbedSession())
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "NoRegionError" not in captured.err and "PASS  us-west-2" in captured.out and "PASS  us-east-1" in captured.out
    assert regions_used == [("sts", "us-west-2"), ("ssm", "us-west-2"), ("ssm", "us-east-1")]


@pytest.mark.parametrize(("config", "status", "needle"), [
    ({}, "PASS", "off"),
    ({"cloudWatchConfig": {"logGroupName": "bedrock-invocations", "roleArn": "arn:aws:iam::123456789012:role/x"}, "textDataDeliveryEnabled": True}, "WARN", "bedrock-invocations"),
    ({"s3Config": {"bucketName": "logs"}, "textDataDeliveryEnabled": False}, "PASS", "without text"),
    ("AccessDeniedException", "WARN", "unknown"),
])
def test_bedrock_model_invocation_logging_is_reported(bedrock_region, config, status, needle):
    """Issue 22 (Medium): Bedrock model-invocation logging stores prompt and completion text when on. Shapes from
    botocore's bedrock service model (the Stubber validates them): GetModelInvocationLoggingConfiguration returns
    ``loggingConfig`` with ``textDataDeliveryEnabled``, ``cloudWatchConfig.logGroupName``, ``s3Config.bucketName``."""
    c = Clients()
    c.add("bedrock", "get_model_invocation_logging_configuration", config if isinstance(config, str) else ({"loggingConfig": config} if config else {}), region="us-west-2")
    (result,) = run(preflight.check_model_invocation_logging, bedrock_region, c)
    assert result.status == status and needle in result.message
    if status == "WARN" and config != "AccessDeniedException":
        assert "delete-model-invocation-logging-configuration --region us-west-2" in result.fix


def test_invocation_logging_is_not_read_without_a_bedrock_route():
    c = Clients()
    (result,) = run(preflight.check_model_invocation_logging, settings(regions="us-east-1"), c)  # SageMaker only
    assert result.status == "PASS" and "no Bedrock route" in result.message


# ---- S3 prefix list -------------------------------------------------------------------------------------


def _prefix_lists(c: Clients, *lists: tuple[str, str]) -> None:
    wanted = f"com.amazonaws.{REGION}.s3"
    c.add("ec2", "describe_managed_prefix_lists",
          {"PrefixLists": [{"PrefixListId": pl, "PrefixListName": name, "OwnerId": "AWS", "AddressFamily": "IPv4"} for pl, name in lists]},
          {"Filters": [{"Name": "prefix-list-name", "Values": [wanted]}]})


@pytest.mark.parametrize("regions", [REGION, f"{REGION},us-west-2"])
def test_unset_s3_prefix_list_prints_a_fix_that_synth_accepts(regions):
    """ec2:DescribeManagedPrefixLists with the ``prefix-list-name`` filter (botocore's EC2 service model, which the
    Stubber validates the call against) names the region's ``com.amazonaws.<region>.s3`` list; the printed
    ``-c`` fix (the plain key for one region, a region override when ids must differ per region), fed back
    through the config loader, makes the same check PASS."""
    c = Clients()
    _prefix_lists(c, ("pl-63a5400a", f"com.amazonaws.{REGION}.s3"))
    (r,) = run(preflight.check_s3_prefix_list, settings(regions=regions), c)
    assert r.status == "WARN" and "0.0.0.0/0" in r.message and "pl-63a5400a" in r.fix
    key, value = r.fix.split("-c ", 1)[1].split("=", 1)
    assert key == ("s3_prefix_list_id" if regions == REGION else "region_overrides")
    fixed = settings(regions=regions, **{key: value.strip("'")})
    assert fixed.for_region(REGION).s3_prefix_list_id == "pl-63a5400a"
    c = Clients()
    _prefix_lists(c, ("pl-63a5400a", f"com.amazonaws.{REGION}.s3"))
    (r,) = run(preflight.check_s3_prefix_list, fixed, c)
    assert r.status == "PASS"


def test_a_wrong_s3_prefix_list_fails():
    """A prefix list id from another region (ids differ per region) would send the egress rule nowhere useful."""
    c = Clients()
    _prefix_lists(c, ("pl-63a5400a", f"com.amazonaws.{REGION}.s3"))
    (r,) = run(preflight.check_s3_prefix_list, settings(regions=REGION, s3_prefix_list_id="pl-68a54001"), c)
    assert r.status == "FAIL" and "pl-68a54001" in r.message and "pl-63a5400a" in r.fix
