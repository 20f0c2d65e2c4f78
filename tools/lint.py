"""cfn-lint and checkov over the CloudFormation templates of a cloud assembly (``cdk.out``).

Both read their settings from the repository's config files (``.cfnlintrc``, ``.checkov.yaml``); skips are
never global: they sit in the Metadata of the one resource they excuse, with a reason
(``gptoss_constructs._compliance.skip_scanner_checks``).

checkov pins dependencies that clash with the app's (boto3, packaging), so it lives in its own virtualenv
``.venv-checkov`` (made by ``make test`` / ``make lint`` from ``requirements-checkov.txt``).

usage: ``python -m tools.lint [cdk.out ...]``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))


def templates(*outdirs: Path) -> list[Path]:
    """Every stack template of the given assemblies (from their manifests, so nested dirs are not guessed),
    including nested assemblies: the deploy pipeline's stages (``-c pipeline=...``) are ``cdk:cloud-assembly``
    artifacts."""
    found = []
    for outdir in outdirs:
        manifest = json.loads((Path(outdir) / "manifest.json").read_text())
        for artifact in manifest["artifacts"].values():
            if artifact["type"] == "aws:cloudformation:stack":
                found.append(Path(outdir) / artifact["properties"]["templateFile"])
            elif artifact["type"] == "cdk:cloud-assembly":
                found += templates(Path(outdir) / artifact["properties"]["directoryName"])
    return sorted(found)


def cfn_lint(files: list[Path]) -> list[dict]:
    """cfn-lint findings (errors, warnings and informational) as dicts; empty when clean."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or not proc.stdout.strip().startswith("["):
        raise RuntimeError(f"cfn-lint did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def checkov(files: list[Path]) -> list[dict]:
    """checkov results, one dict per report (``results.failed_checks`` / ``skipped_checks``, ``summary``)."""
    if not CHECKOV.exists():
        raise RuntimeError(f"{CHECKOV} is missing: run `make test` (or `make lint`), which creates .venv-checkov")
    args = [str(CHECKOV), "--config-file", str(ROOT / ".checkov.yaml")]
    for f in files:
        args += ["-f", str(f)]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"checkov did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}") from None
    return data if isinstance(data, list) else [data]


def main(argv: list[str]) -> int:
    files = templates(*(Path(a) for a in (argv or ["cdk.out"])))
    lint = cfn_lint(files)
    for f in lint:
        print(f"cfn-lint {f['Rule']['Id']} {f['Level']}: {f['Message']} ({f['Filename']})")
    failed = [c for r in checkov(files) for c in r["results"]["failed_checks"]]
    for c in failed:
        print(f"checkov {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
    print(f"{len(files)} templates: cfn-lint {len(lint)} findings, checkov {len(failed)} failed checks")
    return 1 if lint or failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
