"""The reviewed catalog: internally consistent, every value sourced; and its refresh from JumpStart specs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gptoss_constructs import catalog
from tools import refresh_catalog

FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
RAW = json.loads(refresh_catalog.CATALOG.read_text())


@pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
def test_every_model_is_consistent_and_sourced(model):
    spec = catalog.hosting(model)
    assert spec.default_instance_type in spec.supported_instance_types
    for t in spec.supported_instance_types:
        info = catalog.instance_info(t)
        assert info is not None, t
        assert info.gpu_memory_gib >= RAW["models"][model]["min_gpu_memory_gib"], t
    for region in catalog.models()[model].jumpstart_regions:
        assert spec.image_uri(region).startswith(f"763104351884.dkr.ecr.{region}.amazonaws.com/")
        assert spec.model_data_s3_uri(region).startswith(f"s3://jumpstart-cache-prod-{region}/") and spec.model_data_s3_uri(region).endswith("/")
    sources = RAW["models"][model]["sources"]
    assert {"jumpstart_regions", "bedrock_regions", "artifact_key", "instance_types", "environment"} <= set(sources)
    assert all(isinstance(v, str) and len(v) > 20 for v in sources.values())


def test_unconfirmed_values_say_so():
    assert RAW["containers"]["lmi"]["confirmed"] is False and "refresh_catalog" in RAW["containers"]["lmi"]["note"]
    assert RAW["models"]["gpt-oss-20b"]["sources"]["artifact_key"].startswith("unconfirmed")


def _fetch(key: str):
    return json.loads((FIXTURES / key).read_text())


def test_refresh_takes_the_newest_spec_and_marks_values_confirmed():
    updated, changes = refresh_catalog.refresh(copy.deepcopy(RAW), _fetch, "us-east-1")
    m20 = updated["models"]["gpt-oss-20b"]
    assert m20["artifact_key"].endswith("/v1.1.0/")  # 1.1.0 beats 1.0.0 in the manifest
    assert m20["default_instance_type"] == "ml.g6e.2xlarge"
    assert m20["environment"] == {"OPTION_MAX_MODEL_LEN": "131072"}  # script-scoped variables are not container env
    assert m20["sources"]["artifact_key"] == "JumpStart spec s3://jumpstart-cache-prod-us-east-1/community_models/specs/openai-reasoning-gpt-oss-20b/specs_v1.1.0.json (confirmed)"
    container = updated["containers"]["lmi"]
    assert (container["repository"], container["tag"], container["confirmed"]) == ("djl-inference", "0.33.0-lmi15.0.0-cu128", True)
    # CUDA 12.8 needs a host of at least 12.8: of the catalog's AMIs only the CUDA 13.0 one covers g6e/p5
    assert container["inference_ami_version"] == "al2023-ami-sagemaker-inference-gpu-4-1"
    assert any(c.startswith("gpt-oss-20b.image:") for c in changes)
    again, more = refresh_catalog.refresh(copy.deepcopy(updated), _fetch, "us-east-1")
    assert more == [] and again == updated


def test_check_mode_exits_1_on_drift_and_writes_nothing(capsys):
    before = refresh_catalog.CATALOG.read_text()
    assert refresh_catalog.main(["--specs", str(FIXTURES), "--check"]) == 1
    assert refresh_catalog.CATALOG.read_text() == before
    assert "gpt-oss-20b.default_instance_type: 'ml.g6e.xlarge' -> 'ml.g6e.2xlarge'" in capsys.readouterr().out


def test_fails_when_the_manifest_lacks_the_model():
    with pytest.raises(ValueError, match="openai-reasoning-gpt-oss-20b is not in the JumpStart manifest"):
        refresh_catalog.latest_spec_key([{"model_id": "other", "version": "1.0.0", "spec_key": "x"}], "openai-reasoning-gpt-oss-20b")


# ---- Bedrock regions, default routing and geographic inference profiles (issue 13 item 18) ------------


def _settings(**context):
    from stacks.config import load_config
    from tests.conftest import project_context

    return load_config(project_context(**context).get)


def test_bedrock_regions_are_refreshed_with_sources():
    """GovCloud serves gpt-oss 120B and 20B on Bedrock (AWS ML blog "Run NVIDIA Nemotron and OpenAI GPT OSS
    models on Amazon Bedrock in AWS GovCloud (US)"; BerriAI/litellm release notes list bedrock/us-gov-east-1
    and bedrock/us-gov-west-1 openai.gpt-oss-*-1:0); us-west-2 was the launch region (seed 000)."""
    for model in ("gpt-oss-20b", "gpt-oss-120b"):
        assert set(catalog.models()[model].bedrock_regions) == {"us-west-2", "us-gov-west-1", "us-gov-east-1"}
        source = RAW["models"][model]["sources"]["bedrock_regions"]
        assert "GovCloud" in source and "UNCONFIRMED" in source and "model-card-openai-gpt-oss-120b" in source
    assert {"us-gov-west-1", "us-gov-east-1"} <= set(catalog.supported_regions())


def test_govcloud_region_is_valid_and_synthesizes_aws_us_gov_arns():
    """GovCloud ARNs use the ``aws-us-gov`` partition (Bedrock user guide, guardrail profile ARN
    ``arn:aws-us-gov:bedrock:source-region:account-id:guardrail-profile/us-gov.guardrail.v1:0``)."""
    from aws_cdk import Environment, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from gptoss_constructs.bedrock_model import BedrockFoundationModel
    from tests.conftest import make_app

    config = _settings(regions="us-gov-west-1", sagemaker_models="", bedrock_models="gpt-oss-120b")
    assert config.for_region("us-gov-west-1").bedrock_models == ("gpt-oss-120b",)
    stack = Stack(make_app(), "T", env=Environment(region="us-gov-west-1"))
    BedrockFoundationModel("gpt-oss-120b").grant_invoke(iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == "arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/openai.gpt-oss-120b-1:0"


def test_where_a_region_has_both_20b_goes_to_sagemaker_with_120b_on_bedrock_as_fallback(monkeypatch):
    from dataclasses import replace

    from stacks.proxy_config import default_fallbacks, route_names

    models = dict(catalog.models())
    models["gpt-oss-120b"] = replace(models["gpt-oss-120b"], bedrock_regions=models["gpt-oss-120b"].bedrock_regions + ("us-east-1",))
    monkeypatch.setattr(catalog, "models", lambda: models)
    rc = _settings(regions="us-east-1").for_region("us-east-1")
    assert (rc.sagemaker_models, rc.bedrock_models) == (("gpt-oss-20b",), ("gpt-oss-120b",))
    assert route_names(rc) == {"gpt-oss-20b": ("sagemaker", "gpt-oss-20b"), "gpt-oss-120b": ("bedrock", "gpt-oss-120b")}
    assert default_fallbacks(rc) == {"gpt-oss-20b": "gpt-oss-120b"}
    # an explicit empty list still means no Bedrock route
    assert _settings(regions="us-east-1", bedrock_models="").for_region("us-east-1").bedrock_models == ()


def test_without_in_region_bedrock_the_default_is_sagemaker_only():
    rc = _settings(regions="us-east-1").for_region("us-east-1")
    assert (rc.sagemaker_models, rc.bedrock_models) == (("gpt-oss-20b",), ())


def test_geographic_inference_profile_is_an_opt_in_route_target():
    rc = _settings(regions="us-east-1", bedrock_models="gpt-oss-120b", bedrock_inference_profiles="gpt-oss-120b").for_region("us-east-1")
    assert rc.bedrock_models == ("gpt-oss-120b",) and rc.bedrock_inference_profiles == ("gpt-oss-120b",)


@pytest.mark.parametrize(("context", "message"), [
    ({"regions": "us-east-1", "bedrock_models": "gpt-oss-120b"},
     "context key 'bedrock_models': gpt-oss-120b is not offered by Amazon Bedrock in us-east-1"),
    ({"regions": "us-east-1", "bedrock_models": "", "bedrock_inference_profiles": "gpt-oss-120b"},
     "context key 'bedrock_inference_profiles': gpt-oss-120b is not in bedrock_models for us-east-1; allowed: (none: bedrock_models is empty)"),
    ({"regions": "ap-south-1", "sagemaker_models": "gpt-oss-20b", "bedrock_inference_profiles": "gpt-oss-120b"},
     "context key 'bedrock_inference_profiles': the catalog has no cross-Region inference profile of gpt-oss-120b callable from ap-south-1; "
     "profiles are callable from: us-east-1, us-east-2, us-west-2"),
])
def test_fails_when_a_bedrock_route_is_not_offered(context, message):
    from stacks.config import ConfigError

    with pytest.raises(ConfigError) as err:
        _settings(**context)
    assert message in str(err.value)


def test_inference_profile_grant_names_the_profile_and_fences_the_model_arns():
    """Bedrock user guide, "Prerequisites for inference profiles"
    (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html): invoking through a
    profile needs InvokeModel on the ``inference-profile/...`` ARN and on ``arn:aws:bedrock:*::foundation-model/...``
    (the model in the destination regions). The model statement is fenced by ``bedrock:InferenceProfileArn`` so
    it allows nothing but calls through that profile."""
    from aws_cdk import Environment, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from gptoss_constructs.bedrock_model import BedrockFoundationModel
    from tests.conftest import make_app

    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    model = BedrockFoundationModel("gpt-oss-120b", inference_profile="us")
    assert model.model_id == "us.openai.gpt-oss-120b-1:0"
    model.grant_invoke(iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    profile = {"Fn::Join": ["", ["arn:aws:bedrock:us-east-1:", {"Ref": "AWS::AccountId"}, ":inference-profile/us.openai.gpt-oss-120b-1:0"]]}
    actions = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": actions, "Effect": "Allow", "Resource": profile},
        {"Action": actions, "Effect": "Allow", "Resource": "arn:aws:bedrock:*::foundation-model/openai.gpt-oss-120b-1:0",
         "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}}},
    ]


def test_fails_when_the_inference_profile_geography_is_unknown():
    from gptoss_constructs.bedrock_model import BedrockFoundationModel

    with pytest.raises(ValueError, match="inference_profile"):
        BedrockFoundationModel("gpt-oss-120b", inference_profile="mars")


def test_refresh_from_the_public_hub_uses_the_reader_preflight_uses():
    """sagemaker:DescribeHubContent (HubName SageMakerPublicHub, HubContentType Model) — document keys as read by
    aws/sagemaker-python-sdk src/sagemaker/jumpstart/hub/interfaces.py; stubbed with botocore's Stubber."""
    import datetime

    import boto3
    from botocore.stub import Stubber

    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    for name in ("gpt-oss-20b", "gpt-oss-120b"):
        mid = RAW["models"][name]["jumpstart_model_id"]
        doc = {"HostingEcrUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.40.0-lmi31.0.0-cu130",
               "HostingPrepackedArtifactUri": f"s3://jumpstart-cache-prod-us-east-1/openai-reasoning/{mid}/artifacts/inference-prepack/v2.0.0/",
               "InferenceEnvironmentVariables": [{"Name": "OPTION_MAX_MODEL_LEN", "Default": "131072", "Scope": "container"}]}
        stub.add_response("describe_hub_content", {
            "HubContentName": mid, "HubContentArn": f"arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/{mid}/2.0.0",
            "HubContentVersion": "2.0.0", "HubContentType": "Model", "DocumentSchemaVersion": "2.3.0", "HubName": "SageMakerPublicHub",
            "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub", "HubContentDocument": json.dumps(doc),
            "HubContentStatus": "Available", "CreationTime": datetime.datetime(2026, 11, 1),
        }, {"HubName": "SageMakerPublicHub", "HubContentType": "Model", "HubContentName": mid})
    with stub:
        updated, changes = refresh_catalog.refresh_from_hub(copy.deepcopy(RAW), client, "us-east-1")
    assert updated["models"]["gpt-oss-20b"]["artifact_key"] == "openai-reasoning/openai-reasoning-gpt-oss-20b/artifacts/inference-prepack/v2.0.0/"
    assert updated["containers"]["lmi"]["tag"] == "0.40.0-lmi31.0.0-cu130"
    assert updated["models"]["gpt-oss-20b"]["sources"]["artifact_key"].startswith("DescribeHubContent SageMakerPublicHub/openai-reasoning-gpt-oss-20b version 2.0.0")
    assert "gpt-oss-20b.environment: " in "\n".join(changes)


@pytest.mark.parametrize(("tag", "ami", "note"), [
    ("0.40.0-lmi31.0.0-cu130", "al2023-ami-sagemaker-inference-gpu-4-1", None),
    ("0.30.0-lmi12.0.0-cu122", "al2-ami-sagemaker-inference-gpu-2", "'al2023-ami-sagemaker-inference-gpu-4-1' -> 'al2-ami-sagemaker-inference-gpu-2' (image CUDA 12.2)"),
    ("0.50.0-lmi40.0.0-cu140", "al2023-ami-sagemaker-inference-gpu-4-1", "no inference AMI in the catalog runs CUDA 14.0"),
])
def test_refresh_keeps_the_host_ami_able_to_run_a_new_image(tag, ami, note):
    """A container built for a newer CUDA than the host's driver crashes before it logs (aws/sagemaker-python-sdk
    #6281): a new image tag re-checks the AMI against the catalog's inference_amis table."""
    raw = copy.deepcopy(RAW)
    raw["models"] = {"gpt-oss-20b": raw["models"]["gpt-oss-20b"]}
    raw["models"]["gpt-oss-20b"]["supported_instance_types"] = ["ml.g5.12xlarge", "ml.g6.12xlarge"]
    facts = refresh_catalog.HostingFacts(source="test", image_uri=f"763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:{tag}")
    changes = refresh_catalog.apply_facts(raw, "gpt-oss-20b", facts, "us-east-1")
    assert raw["containers"]["lmi"]["inference_ami_version"] == ami
    notes = [c for c in changes if "inference_ami_version" in c]
    assert (notes == []) if note is None else (len(notes) == 1 and note in notes[0])
