"""Refreshes the hosting values of constructs/catalog/gpt_oss.json from the JumpStart spec files.

With network access (anonymous HTTPS to the public JumpStart bucket of a region)::

    .venv/bin/python -m tools.refresh_catalog --region us-east-1            # rewrite the catalog
    .venv/bin/python -m tools.refresh_catalog --region us-east-1 --check    # only show what would change

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

from tools.jumpstart import facts_from_spec, latest_spec_key

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "constructs" / "catalog" / "gpt_oss.json"
BUCKET_URL = "https://jumpstart-cache-prod-{region}.s3.{region}.amazonaws.com/{key}"


def hosting_values(spec: dict, region: str) -> dict:
    """The catalog fields a spec determines (read by the shared ``tools.jumpstart`` reader)."""
    facts = facts_from_spec(spec, region, source="spec")
    out = {
        "artifact_key": facts.artifact_uri.split("/", 3)[-1] if facts.artifact_uri else None,
        "default_instance_type": facts.default_instance_type,
        "supported_instance_types": list(facts.supported_instance_types),
        "environment": dict(facts.environment),
        "version": facts.version,
        "image_uri": facts.image_uri,
    }
    return {k: v for k, v in out.items() if v}


def refresh(catalog: dict, fetch: Callable[[str], dict | list], region: str) -> tuple[dict, list[str]]:
    """Returns the updated catalog and a list of human-readable changes."""
    manifest = fetch("models_manifest.json")
    changes = []
    for name, model in catalog["models"].items():
        key = latest_spec_key(manifest, model["jumpstart_model_id"])
        values = hosting_values(fetch(key), region)
        source = f"JumpStart spec s3://jumpstart-cache-prod-{region}/{key}"
        for field in ("artifact_key", "default_instance_type", "supported_instance_types", "environment"):
            if field in values and values[field] != model.get(field):
                changes.append(f"{name}.{field}: {model.get(field)!r} -> {values[field]!r}")
                model[field] = values[field]
                model["sources"][field] = source + " (confirmed)"
        unknown = [t for t in values.get("supported_instance_types", []) if t not in catalog["instance_types"]]
        for t in unknown:
            changes.append(f"{name}: instance type {t} has no GPU facts in the catalog's instance_types; add them")
        if "image_uri" in values:
            repo_tag = values["image_uri"].split("/", 1)[1]
            repository, _, tag = repo_tag.partition(":")
            container = catalog["containers"][model["container"]]
            if (container["repository"], container["tag"]) != (repository, tag):
                changes.append(f"{name}.image: {container['repository']}:{container['tag']} -> {repository}:{tag}")
                container.update(repository=repository, tag=tag, confirmed=True, source=source)
    return catalog, changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--specs", type=Path, help="read models_manifest.json and spec files from this folder instead of S3")
    parser.add_argument("--check", action="store_true", help="print the changes and exit 1 if there are any; write nothing")
    args = parser.parse_args(argv)

    def fetch(key: str):
        if args.specs:
            return json.loads((args.specs / key).read_text())
        with urllib.request.urlopen(BUCKET_URL.format(region=args.region, key=key), timeout=30) as r:
            return json.loads(r.read())

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
