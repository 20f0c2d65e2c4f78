"""Refreshes the hosting values of constructs/catalog/gpt_oss.json from the JumpStart spec files.

With network access (anonymous HTTPS to the public JumpStart bucket of a region)::

    .venv/bin/python -m tools.refresh_catalog --region us-east-1            # rewrite the catalog
    .venv/bin/python -m tools.refresh_catalog --region us-east-1 --check    # only show what would change

With AWS credentials, from the SageMaker public hub (the same reader ``make preflight`` uses)::

    .venv/bin/python -m tools.refresh_catalog --region us-east-1 --hub --check

Offline, against saved spec files (the tests do this)::

    .venv/bin/python -m tools.refresh_catalog --specs tests/fixtures/jumpstart --check

JumpStart publishes ``models_manifest.json`` at the root of ``jumpstart-cache-prod-<region>``: a list of
``{model_id, version, min_version, spec_key}``; each ``spec_key`` is a JSON spec with the hosting values
read here (``hosting_ecr_specs`` / ``hosting_instance_type_variants`` for the image,
``hosting_prepacked_artifact_key`` or ``hosting_artifact_key`` for the weights,
``default_inference_instance_type``, ``supported_inference_instance_types`` and
``inference_environment_variables``). Every value written carries the spec key it came from, marked confirmed.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Callable

from tools.jumpstart import HostingFacts, describe_public_model, facts_from_hub, facts_from_spec, latest_spec_key

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "constructs" / "catalog" / "gpt_oss.json"
BUCKET_URL = "https://jumpstart-cache-prod-{region}.s3.{region}.amazonaws.com/{key}"


def apply_facts(catalog: dict, name: str, facts: HostingFacts, region: str) -> list[str]:
    """Writes one model's JumpStart facts (from either source) into the catalog; returns the changes."""
    model = catalog["models"][name]
    changes = []
    prefix = f"s3://{model['artifact_bucket_pattern'].format(region=region)}/"
    values = {
        "artifact_key": facts.artifact_uri[len(prefix):] if facts.artifact_uri and facts.artifact_uri.startswith(prefix) else None,
        "default_instance_type": facts.default_instance_type,
        "supported_instance_types": list(facts.supported_instance_types) or None,
        "environment": dict(facts.environment) or None,
    }
    if facts.artifact_uri and values["artifact_key"] is None:
        changes.append(f"{name}.artifact: {facts.artifact_uri} is outside {prefix}; set model_data_url on the endpoint")
    for field, value in values.items():
        if value is not None and value != model.get(field):
            changes.append(f"{name}.{field}: {model.get(field)!r} -> {value!r}")
            model[field] = value
            model["sources"][field] = facts.source + " (confirmed)"
    for t in values["supported_instance_types"] or []:
        if t not in catalog["instance_types"]:
            changes.append(f"{name}: instance type {t} has no GPU facts in the catalog's instance_types; add them")
    if facts.image_uri:
        repository, _, tag = facts.image_uri.split("/", 1)[1].partition(":")
        container = catalog["containers"][model["container"]]
        if (container["repository"], container["tag"]) != (repository, tag):
            changes.append(f"{name}.image: {container['repository']}:{container['tag']} -> {repository}:{tag}")
            container.update(repository=repository, tag=tag, confirmed=True, source=facts.source)
            changes += _match_ami(catalog, name, container, facts.image_uri)
    if facts.eula_uri:
        changes.append(f"{name}: JumpStart now requires accepting a EULA ({facts.eula_uri}); the platform does not set AcceptEula")
    return changes


def _match_ami(catalog: dict, name: str, container: dict, image_uri: str) -> list[str]:
    """Keeps the container's host AMI able to run a new image: the AMI's CUDA must be at least the image's (a newer
    image crashes before it logs on an older driver). Prefers an AMI of the image's CUDA major that covers the
    model's instance families; reports when none does."""
    from gptoss_constructs.catalog import image_cuda_version, instance_family

    cuda = image_cuda_version(image_uri)
    if cuda is None:
        return [f"{name}.inference_ami_version: the new image's tag names no CUDA version; check {container.get('inference_ami_version')!r} by hand"]
    version = tuple(int(x) for x in cuda.split("."))
    families = {instance_family(t) for t in catalog["models"][name]["supported_instance_types"]}
    amis = {k: v for k, v in catalog["inference_amis"].items() if not k.startswith("_")}
    fits = [(tuple(int(x) for x in a["cuda_version"].split(".")), k) for k, a in amis.items()
            if tuple(int(x) for x in a["cuda_version"].split(".")) >= version and families <= set(a["instance_families"])]
    same_major = sorted(f for f in fits if f[0][0] == version[0])
    chosen = (same_major or sorted(fits) or [(None, None)])[0][1]
    current = container.get("inference_ami_version")
    if chosen is None:
        return [f"{name}.inference_ami_version: no inference AMI in the catalog runs CUDA {cuda} on {', '.join(sorted(families))}; "
                f"keeping {current!r}, which cannot start the image: add the AMI to inference_amis with its source"]
    if chosen != current:
        container["inference_ami_version"] = chosen
        return [f"{name}.inference_ami_version: {current!r} -> {chosen!r} (image CUDA {cuda})"]
    return []


def refresh(catalog: dict, fetch: Callable[[str], dict | list], region: str) -> tuple[dict, list[str]]:
    """From the public spec files (``fetch(key)`` reads the bucket): the updated catalog and the changes."""
    manifest = fetch("models_manifest.json")
    changes = []
    for name, model in catalog["models"].items():
        key = latest_spec_key(manifest, model["jumpstart_model_id"])
        facts = facts_from_spec(fetch(key), region, source=f"JumpStart spec s3://jumpstart-cache-prod-{region}/{key}")
        changes += apply_facts(catalog, name, facts, region)
    return catalog, changes


def refresh_from_hub(catalog: dict, sagemaker_client, region: str) -> tuple[dict, list[str]]:
    """From the SageMaker public hub (``DescribeHubContent``, the reader preflight uses): catalog and changes."""
    changes = []
    for name, model in catalog["models"].items():
        facts = facts_from_hub(describe_public_model(sagemaker_client, model["jumpstart_model_id"]), region)
        changes += apply_facts(catalog, name, facts, region)
    return catalog, changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--specs", type=Path, help="read models_manifest.json and spec files from this folder instead of S3")
    parser.add_argument("--hub", action="store_true", help="read sagemaker:DescribeHubContent (SageMakerPublicHub) with your AWS credentials")
    parser.add_argument("--check", action="store_true", help="print the changes and exit 1 if there are any; write nothing")
    args = parser.parse_args(argv)

    def fetch(key: str):
        if args.specs:
            return json.loads((args.specs / key).read_text())
        with urllib.request.urlopen(BUCKET_URL.format(region=args.region, key=key), timeout=30) as r:
            return json.loads(r.read())

    if args.hub:
        import boto3

        catalog, changes = refresh_from_hub(json.loads(CATALOG.read_text()), boto3.client("sagemaker", region_name=args.region), args.region)
    else:
        catalog, changes = refresh(json.loads(CATALOG.read_text()), fetch, args.region)
    for change in changes:
        print(change)
    if args.check:
        return 1 if changes else 0
    CATALOG.write_text(json.dumps(catalog, indent=2) + "\n")
    print(f"{len(changes)} change(s) written to {CATALOG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
