"""ONE reader of JumpStart hosting facts, shared by ``tools/refresh_catalog.py`` and ``tools/preflight.py``.

Two sources carry the same facts:

* the public JumpStart spec files in ``s3://jumpstart-cache-prod-<region>/`` (``models_manifest.json`` +
  one JSON spec per model version, snake_case keys: ``hosting_instance_type_variants``,
  ``hosting_prepacked_artifact_key`` ...), read by ``refresh_catalog`` with plain HTTPS;
* the SageMaker public hub: ``sagemaker:DescribeHubContent`` with ``HubName=SageMakerPublicHub`` and
  ``HubContentType=Model`` returns ``HubContentDocument``, a JSON string with PascalCase keys
  (``HostingEcrUri``, ``HostingPrepackedArtifactUri``, ``HostingArtifactUri``, ``HostingEulaUri``,
  ``DefaultInferenceInstanceType``, ``SupportedInferenceInstanceTypes``, ``InferenceEnvironmentVariables``),
  read by ``preflight`` with the caller's credentials. Field names: aws/sagemaker-python-sdk
  ``src/sagemaker/jumpstart/hub/interfaces.py`` (``HubModelDocument.from_json``).

Both are turned into one ``HostingFacts``; ``drift()`` compares it with the catalog and says, per field, the
exact edit or construct prop that makes our templates match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

PUBLIC_HUB = "SageMakerPublicHub"


@dataclass(frozen=True)
class HostingFacts:
    """What JumpStart says about hosting one model in one region (None: the source did not say)."""

    source: str
    version: str | None = None
    image_uri: str | None = None
    artifact_uri: str | None = None  # s3://bucket/key/
    default_instance_type: str | None = None
    supported_instance_types: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    eula_uri: str | None = None


@dataclass(frozen=True)
class Drift:
    """One difference between the catalog and JumpStart, with the fix that removes it."""

    field: str
    ours: Any
    theirs: Any
    fix: str
    blocking: bool  # True: the deploy would fail (wrong image/weights/EULA/instance type)


# ---- spec files (S3) ----------------------------------------------------------------------------------


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def latest_spec_key(manifest: list[dict], model_id: str) -> str:
    entries = [e for e in manifest if e.get("model_id") == model_id]
    if not entries:
        raise ValueError(f"{model_id} is not in the JumpStart manifest")
    return max(entries, key=lambda e: _version_key(e["version"]))["spec_key"]


def _variant_image(variants: Mapping | None, region: str, props_key: str = "regional_properties") -> str | None:
    variants = variants or {}
    aliases = (variants.get("regional_aliases") or {}).get(region) or {}
    for variant in (variants.get("variants") or {}).values():
        uri = (variant.get(props_key) or {}).get("image_uri") or ""
        if uri.startswith("$"):
            uri = aliases.get(uri[1:], "")
        if uri:
            return uri
    return None


def image_uri(spec: dict, region: str) -> str | None:
    return _variant_image(spec.get("hosting_instance_type_variants"), region)


def facts_from_spec(spec: dict, region: str, source: str) -> HostingFacts:
    """A JumpStart spec file (snake_case) → ``HostingFacts``."""
    key = spec.get("hosting_prepacked_artifact_key") or spec.get("hosting_artifact_key")
    env = {
        v["name"]: str(v["default"])
        for v in spec.get("inference_environment_variables") or []
        if v.get("scope", "container") == "container"
    }
    return HostingFacts(
        source=source,
        version=spec.get("version"),
        image_uri=image_uri(spec, region),
        artifact_uri=f"s3://jumpstart-cache-prod-{region}/{key}" if key else None,
        default_instance_type=spec.get("default_inference_instance_type"),
        supported_instance_types=tuple(sorted(spec.get("supported_inference_instance_types") or [])),
        environment=env,
        eula_uri=spec.get("hosting_eula_key"),
    )


# ---- the public hub (DescribeHubContent) --------------------------------------------------------------


def describe_public_model(sagemaker_client, model_id: str) -> dict:
    """``DescribeHubContent`` of ``model_id`` in the SageMaker public hub (raises the client's errors)."""
    return sagemaker_client.describe_hub_content(HubName=PUBLIC_HUB, HubContentType="Model", HubContentName=model_id)


def facts_from_hub(response: Mapping, region: str) -> HostingFacts:
    """A ``DescribeHubContent`` response → ``HostingFacts`` (the document is a JSON string, PascalCase keys)."""
    doc = json.loads(response["HubContentDocument"]) if isinstance(response.get("HubContentDocument"), str) else dict(response.get("HubContentDocument") or {})
    env = {
        v.get("Name"): str(v.get("Default"))
        for v in doc.get("InferenceEnvironmentVariables") or []
        if v.get("Scope", "container") == "container" and v.get("Name")
    }
    image = doc.get("HostingEcrUri")
    if not image:
        image = _variant_image(_snake_variants(doc.get("HostingInstanceTypeVariants")), region)
    return HostingFacts(
        source=f"DescribeHubContent {PUBLIC_HUB}/{response.get('HubContentName')} version {response.get('HubContentVersion')} ({region})",
        version=response.get("HubContentVersion"),
        image_uri=image,
        artifact_uri=doc.get("HostingPrepackedArtifactUri") or doc.get("HostingArtifactUri"),
        default_instance_type=doc.get("DefaultInferenceInstanceType"),
        supported_instance_types=tuple(sorted(doc.get("SupportedInferenceInstanceTypes") or [])),
        environment=env,
        eula_uri=doc.get("HostingEulaUri"),
    )


def _snake_variants(variants: Mapping | None) -> Mapping | None:
    """Hub documents spell the variant keys in PascalCase (``Variants``/``RegionalAliases``/``ImageUri``)."""
    if not variants:
        return None
    out = {"regional_aliases": variants.get("RegionalAliases") or {}, "variants": {}}
    for name, v in (variants.get("Variants") or {}).items():
        props = v.get("RegionalProperties") or v.get("Properties") or {}
        out["variants"][name] = {"regional_properties": {"image_uri": props.get("ImageUri")}}
    return out


# ---- comparison with the catalog ----------------------------------------------------------------------


def _norm_s3(uri: str | None) -> str | None:
    return uri.rstrip("/") + "/" if uri else uri


def drift(model: str, region: str, hosting, instance_type: str, facts: HostingFacts) -> list[Drift]:
    """Compares the catalog's ``HostingSpec`` (and the chosen instance type) with JumpStart's facts."""
    out: list[Drift] = []
    catalog_file = "constructs/catalog/gpt_oss.json"
    ours_image = hosting.image_uri(region)
    if facts.image_uri and facts.image_uri != ours_image:
        repo_tag = facts.image_uri.split("/", 1)[-1]
        out.append(Drift(
            "image", ours_image, facts.image_uri,
            f"set containers.lmi.repository/tag in {catalog_file} to {repo_tag!r} "
            f"(or GptOssEndpoint(image_uri={facts.image_uri!r}); or run tools/refresh_catalog.py)",
            blocking=True,
        ))
    ours_weights = hosting.model_data_s3_uri(region)
    if facts.artifact_uri and _norm_s3(facts.artifact_uri) != _norm_s3(ours_weights):
        key = facts.artifact_uri.split("/", 3)[-1] if facts.artifact_uri.startswith("s3://") else facts.artifact_uri
        out.append(Drift(
            "weights", ours_weights, facts.artifact_uri,
            f"set models.{model}.artifact_key in {catalog_file} to {_norm_s3(key)!r} "
            f"(or GptOssEndpoint(model_data_url={_norm_s3(facts.artifact_uri)!r}))",
            blocking=True,
        ))
    missing = {k: v for k, v in facts.environment.items() if hosting.environment.get(k) != v}
    if missing:
        out.append(Drift(
            "environment", {k: hosting.environment.get(k) for k in missing}, missing,
            f"merge {json.dumps(missing, sort_keys=True)} into models.{model}.environment in {catalog_file} "
            "(or GptOssEndpoint(environment={...}))",
            blocking=False,
        ))
    if facts.eula_uri:
        out.append(Drift(
            "eula", "none (catalog: ungated)", facts.eula_uri,
            f"read {facts.eula_uri}; the model needs ModelAccessConfig AcceptEula=true on its S3 data source, which "
            "this platform does not set: do not deploy until the catalog records the EULA",
            blocking=True,
        ))
    if facts.supported_instance_types and instance_type not in facts.supported_instance_types:
        out.append(Drift(
            "instance_type", instance_type, list(facts.supported_instance_types),
            f"choose one of {', '.join(facts.supported_instance_types)} with -c instance_types='{{\"{model}\": \"...\"}}'",
            blocking=True,
        ))
    return out
