"""cfn-lint, checkov and cfn-guard over the CloudFormation templates of a cloud assembly (``cdk.out``).

cfn-guard runs AWS's own rule sets (``tools/nag/guard.py``): the Control Tower proactive controls shipped in
``@cdklabs/cdk-validator-cfnguard`` and, when present, the AWS Guard Rules Registry's HIPAA, PCI DSS 3.2.1 and
NIST 800-53 rev4/rev5 rule sets read in place from ``$GUARD_RULES`` or ``../shared/guard-rules``; their skips
are in ``compliance/guard-skips.yaml`` (and the exceptions register).

Both read their settings from the repository's config files (``.cfnlintrc``, ``.checkov.yaml``); skips are
never global: they sit in the Metadata of the one resource they excuse, with a reason
(``gptoss_constructs._compliance.skip_scanner_checks``).

checkov pins dependencies that clash with the app's (boto3, packaging), so it lives in its own virtualenv
``.venv-checkov`` (made by ``make test`` / ``make lint`` from ``requirements-checkov.txt``).

usage: ``python -m tools.lint [cdk.out ...]`` or ``python -m tools.lint --matrix [-- extra cdk synth args]`` (synthesizes
every configuration of ``tools/nag/matrix.py`` into ``build/lint/<configuration>`` and lints them all; ``make lint``)
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


def cfn_guard(*outdirs: Path) -> list:
    """Every cfn-guard finding of the given assemblies with its skip (``tools.nag.guard.Assessed``)."""
    from tools.nag import guard

    return [a for outdir in outdirs for a in guard.assess(Path(outdir))]


def main(argv: list[str]) -> int:
    from tools.nag import guard

    if argv[:1] == ["--matrix"]:
        from tools.nag import matrix

        extra = [a for a in argv[1:] if a != "--"]
        outdirs = []
        for cfg in matrix.CONFIGURATIONS:
            outdir = ROOT / "build" / "lint" / cfg.name
            if matrix.synth(cfg, outdir, extra) != 0:
                print(f"{cfg.name}: synth failed", file=sys.stderr)
                return 1
            outdirs.append(outdir)
    else:
        outdirs = [Path(a) for a in (argv or ["cdk.out"])]
    files = templates(*outdirs)
    lint = cfn_lint(files)
    for f in lint:
        print(f"cfn-lint {f['Rule']['Id']} {f['Level']}: {f['Message']} ({f['Filename']})")
    failed = [c for r in checkov(files) for c in r["results"]["failed_checks"]]
    for c in failed:
        print(f"checkov {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
    if not guard.registry_present():
        print(f"cfn-guard: AWS Guard Rules Registry absent at {guard.registry_dir()} (set GUARD_RULES); running the Control Tower rules only")
    assessed = cfn_guard(*outdirs)
    open_guard = [a for a in assessed if a.skip is None]
    for a in open_guard:
        print(f"cfn-guard {a.finding.rule_set} {a.finding.rule} ({a.finding.control}): {a.path} — {a.finding.message}")
    print(f"{len(files)} templates: cfn-lint {len(lint)} findings, checkov {len(failed)} failed checks, "
          f"cfn-guard {len(open_guard)} open findings ({len(assessed) - len(open_guard)} skipped, compliance/guard-skips.yaml)")
    return 1 if lint or failed or open_guard else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
