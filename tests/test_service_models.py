"""Values CloudFormation passes through to service APIs, checked against AWS's own service models.

CloudFormation hands these strings to the service API unchanged (CreateEndpointConfig, CreateGuardrail,
CreateFunction); a value the API does not know fails only at deploy. botocore ships each service's model
(``botocore/data/<service>/<version>/service-2.json``), whose enums are the API's allowed values: every value the
catalog, the guardrail policy files and the proxy function use must be one of them.
"""

from __future__ import annotations

import functools

import botocore
import botocore.loaders
import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from gptoss_constructs import catalog
from gptoss_constructs.guardrail_policy import CONTENT_FILTER_TYPES, PII_ENTITY_TYPES, load_policy, preset_names
from tests.conftest import make_app


@functools.cache
def _enum(service: str, shape: str) -> frozenset[str]:
    model = botocore.loaders.Loader().load_service_model(service, "service-2")
    return frozenset(model["shapes"][shape]["enum"])


def test_botocore_is_new_enough_to_know_our_values():
    """The enums below are only as current as botocore; 1.44 is the first that knows al2023-ami-sagemaker-inference-gpu-4-1
    here (pinned via boto3 in requirements-dev.txt)."""
    assert tuple(int(x) for x in botocore.__version__.split(".")[:2]) >= (1, 44)


# ---- SageMaker: CreateEndpointConfig ProductionVariant ------------------------------------------------------------


def test_catalog_instance_types_are_production_variant_instance_types():
    """sagemaker service-2.json, enum ``ProductionVariantInstanceType`` (ProductionVariant.InstanceType)."""
    allowed = _enum("sagemaker", "ProductionVariantInstanceType")
    raw = catalog._raw()
    types = {t for t in raw["instance_types"] if not t.startswith("_")}
    for model in catalog.model_names():
        spec = catalog.hosting(model)
        types |= set(spec.supported_instance_types) | {spec.default_instance_type}
    assert sorted(types - allowed) == []
    assert len(types) >= 10


def test_catalog_inference_amis_are_production_variant_ami_versions():
    """sagemaker service-2.json, enum ``ProductionVariantInferenceAmiVersion`` (ProductionVariant.InferenceAmiVersion)."""
    allowed = _enum("sagemaker", "ProductionVariantInferenceAmiVersion")
    amis = set(catalog.inference_amis()) | {catalog.hosting(m).inference_ami_version for m in catalog.model_names()}
    assert sorted(amis - allowed) == []
    assert "al2023-ami-sagemaker-inference-gpu-4-1" in amis


@pytest.mark.parametrize("shape", ["instance", "scale-to-zero"])
def test_synthesized_production_variants_use_known_values(shape):
    from gptoss_constructs.endpoint import GptOssEndpoint
    from gptoss_constructs.network import PrivateNetwork

    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
    props = {"model": "gpt-oss-120b", "instance_type": "ml.g6e.12xlarge", "scale_to_zero": True} if shape == "scale-to-zero" else {"model": "gpt-oss-20b"}
    GptOssEndpoint(stack, "Ep", vpc=net.vpc, **props)
    (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["InstanceType"] in _enum("sagemaker", "ProductionVariantInstanceType")
    assert variant["InferenceAmiVersion"] in _enum("sagemaker", "ProductionVariantInferenceAmiVersion")


# ---- Bedrock: CreateGuardrail -------------------------------------------------------------------------------------


def test_policy_schema_choices_are_the_bedrock_enums():
    """bedrock service-2.json: ``GuardrailContentFilterType``, ``GuardrailPiiEntityType``: the policy-file schema
    offers exactly what CreateGuardrail accepts."""
    assert set(CONTENT_FILTER_TYPES) == _enum("bedrock", "GuardrailContentFilterType")
    assert set(PII_ENTITY_TYPES) <= _enum("bedrock", "GuardrailPiiEntityType")


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_policy_uses_known_filter_and_pii_values(preset):
    """bedrock service-2.json: ``GuardrailContentFilterType``, ``GuardrailFilterStrength``,
    ``GuardrailPiiEntityType``, ``GuardrailSensitiveInformationAction``, read from the synthesized
    AWS::Bedrock::Guardrail (what CloudFormation passes to CreateGuardrail)."""
    from gptoss_constructs.guardrail import ModelGuardrail

    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    ModelGuardrail(stack, "Guardrail", policy=preset)
    (guardrail,) = Template.from_stack(stack).find_resources("AWS::Bedrock::Guardrail").values()
    props = guardrail["Properties"]
    filters = props["ContentPolicyConfig"]["FiltersConfig"]
    assert filters and {f["Type"] for f in filters} <= _enum("bedrock", "GuardrailContentFilterType")
    strengths = {f[k] for f in filters for k in ("InputStrength", "OutputStrength")}
    assert strengths <= _enum("bedrock", "GuardrailFilterStrength")
    pii = (props.get("SensitiveInformationPolicyConfig") or {}).get("PiiEntitiesConfig", [])
    assert {p["Type"] for p in pii} <= _enum("bedrock", "GuardrailPiiEntityType")
    assert {p["Action"] for p in pii} <= _enum("bedrock", "GuardrailSensitiveInformationAction")
    assert len(pii) == len(load_policy(preset).pii_entities)


# ---- Lambda: CreateFunction -----------------------------------------------------------------------------------------


def test_proxy_function_runtime_and_architecture_are_lambda_enums():
    """lambda service-2.json: enums ``Runtime`` and ``Architecture``, read from the synthesized proxy function (the
    default arm64 and the x86_64 alternative)."""
    from tests.test_invoke_proxy import _build

    for architecture in (None, lambda_.Architecture.X86_64):
        stack, _, proxy = _build(**({"architecture": architecture} if architecture else {}))
        fn = Template.from_stack(stack).to_json()["Resources"][stack.resolve(proxy.function.node.default_child.logical_id)]["Properties"]
        assert fn["Runtime"] in _enum("lambda", "Runtime")
        assert fn["Architectures"] and set(fn["Architectures"]) <= _enum("lambda", "Architecture")
