"""The re-check: every pack's own result for every rule x resource of an assembly (``tools/nag_checks.js``,
run on Node with the very JavaScript the Python bindings run, taken from their jsii bundles)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from tools.nag.packs import packs

ROOT = Path(__file__).resolve().parents[2]
CHECKS_JS = ROOT / "tools" / "nag_checks.js"
#: jsii bundles the re-check needs: python module holding ``_jsii/*.jsii.tgz``
JSII_MODULES = ("aws_cdk", "aws_cdk.cloud_assembly_schema", "constructs", "cdk_nag")


def node_modules_dir(cache: Path | None = None) -> Path:
    """Extracts the jsii bundles of aws-cdk-lib, constructs, cdk-nag (and the cloud assembly schema) into
    ``cache/node_modules`` once per installed version set, so node runs the same JS as the Python bindings."""
    tarballs = []
    for module in JSII_MODULES:
        folder = Path(importlib.import_module(f"{module}._jsii").__file__).parent
        tarballs += sorted(folder.glob("*.jsii.tgz"))
    stamp = "\n".join(t.name for t in tarballs)
    cache = cache or ROOT / "build" / "nag-js"
    target = cache / "node_modules"
    if (cache / "stamp").exists() and (cache / "stamp").read_text() == stamp:
        return target
    shutil.rmtree(cache, ignore_errors=True)
    target.mkdir(parents=True)
    for tarball in tarballs:
        with tarfile.open(tarball) as tar:
            name = json.load(tar.extractfile("package/package.json"))["name"]
        dest = target / name
        dest.mkdir(parents=True)
        if shutil.which("tar"):  # much faster than tarfile for aws-cdk-lib's 160 MB
            subprocess.run(["tar", "xzf", str(tarball), "-C", str(dest), "--strip-components=1"], check=True)
        else:  # pragma: no cover
            with tarfile.open(tarball) as tar:
                for member in tar.getmembers():
                    member.name = member.name.split("/", 1)[1] if "/" in member.name else ""
                tar.extractall(dest, members=[m for m in tar.getmembers() if m.name], filter="data")
    (cache / "stamp").write_text(stamp)
    return target


def run_checks(outdir: Path, cache: Path | None = None) -> dict:
    """Every pack's result for every rule x resource of the assembly (see tools/nag_checks.js)."""
    env = dict(os.environ, NODE_PATH=str(node_modules_dir(cache)))
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    proc = subprocess.run(
        ["node", str(CHECKS_JS), str(outdir), *packs().values()], env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nag_checks.js failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)
