"""The fourth scanner: AWS-authored cfn-guard rules over the synthesized templates.

* **Control Tower proactive controls**: the rules and the cfn-guard binary shipped in the npm package
  ``@cdklabs/cdk-validator-cfnguard`` (``package.json`` devDependencies; its ``rules/control-tower/cfn-guard``
  and ``bin/<os>/<arch>/cfn-guard``, the same paths the package's own plugin uses, ``lib/plugin.js``); each
  rule's control id and framework mappings come from its ``rules/control-tower/metadata`` file.
* **AWS Guard Rules Registry** rule sets for HIPAA Security, PCI DSS 3.2.1 and NIST 800-53 rev4/rev5, read IN
  PLACE from ``$GUARD_RULES`` (``make lint GUARD_RULES=/path``) or ``../shared/guard-rules`` beside the
  checkout (never copied into the project). When absent, one line says so and the rest goes on.

Findings are matched against ``compliance/guard-skips.yaml`` (rule + resource + reason; the register lists
every one); a finding no skip covers is open and fails ``make lint`` / ``make nag``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"
CT_RULES = PACKAGE / "rules" / "control-tower" / "cfn-guard"
CT_METADATA = PACKAGE / "rules" / "control-tower" / "metadata"
SKIPS_FILE = ROOT / "compliance" / "guard-skips.yaml"
#: the registry's rule sets we run: rule-set name -> mapping file (upstream ``mappings/``)
REGISTRY_SETS = {
    "hipaa-security": "rule_set_hipaa_security.json",
    "PCI-DSS-3-2-1": "rule_set_pci_dss_3_2_1.json",
    "NIST800-53Rev4": "rule_set_nist800_53rev4.json",
    "NIST800-53Rev5": "rule_set_nist800_53rev5.json",
}
CONTROL_TOWER = "control-tower"


def registry_dir() -> Path:
    """``$GUARD_RULES``, else ``../shared/guard-rules`` next to the checkout."""
    return Path(os.environ.get("GUARD_RULES") or ROOT.parent / "shared" / "guard-rules")


def registry_present() -> bool:
    return (registry_dir() / "mappings").is_dir() and (registry_dir() / "rules").is_dir()


def registry_version() -> str:
    if not registry_present():
        return f"absent ({registry_dir()})"
    readme = registry_dir() / "README.md"
    match = re.search(r"commit\s+`([0-9a-f]{7,40})`", readme.read_text()) if readme.exists() else None
    return f"commit {match.group(1)[:12]}" if match else f"unversioned copy at {registry_dir()}"


def binary() -> Path:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system(), platform.system().lower())
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    return PACKAGE / "bin" / system / machine / "cfn-guard"


@dataclass(frozen=True)
class GuardRule:
    rule_set: str  # control-tower | hipaa-security | PCI-DSS-3-2-1 | NIST800-53Rev4 | NIST800-53Rev5
    name: str  # the rule's name as cfn-guard reports it
    control: str  # CT.KMS.PR.3 for Control Tower; the rule name for the registry
    file: Path
    controls: tuple[str, ...] = ()  # the framework ids the rule set maps it to


@lru_cache(maxsize=1)
def control_tower_rules() -> tuple[GuardRule, ...]:
    rules = []
    for f in sorted(CT_RULES.rglob("*.guard")):
        match = re.search(r"^rule\s+(\w+)\s+when", f.read_text(), re.M)
        meta_file = CT_METADATA / f.parent.name / f"{f.stem}.metadata.json"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        mapped = tuple(f"{m['ComplianceFramework']}: {', '.join(m['Ids'])}" for m in meta.get("ComplianceFrameworkMappings", []))
        if match:
            rules.append(GuardRule(CONTROL_TOWER, match.group(1), meta.get("Id", f.stem), f, mapped))
    return tuple(rules)


@lru_cache(maxsize=4)
def registry_rules(path: str | None = None) -> tuple[GuardRule, ...]:
    base = Path(path) if path else registry_dir()
    rules = []
    for rule_set, mapping in REGISTRY_SETS.items():
        data = json.loads((base / "mappings" / mapping).read_text())
        for entry in data["mappings"]:
            f = base / entry["guardFilePath"]
            if not f.exists():
                continue
            for name in re.findall(r"^rule\s+(\w+)", f.read_text(), re.M):
                rules.append(GuardRule(rule_set, name, name, f, tuple(entry.get("controls", ()))))
    return tuple(rules)


def all_rules() -> tuple[GuardRule, ...]:
    return control_tower_rules() + (registry_rules(str(registry_dir())) if registry_present() else ())


@dataclass(frozen=True)
class GuardFinding:
    rule_set: str
    rule: str
    control: str
    template: str  # template file name
    logical_id: str
    message: str


def _resources(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path" and isinstance(value, str) and value.startswith("/Resources/"):
                found.add(value.split("/")[2])
            else:
                _resources(value, found)
    elif isinstance(node, list):
        for item in node:
            _resources(item, found)


def _message(node) -> str:
    text = json.dumps(node)
    match = re.search(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]: ([^\\]+)", text) or re.search(r"Violation: ([^\\]+)", text)
    return (match.group(match.lastindex) if match else "").strip()


#: findings of earlier runs in this process, by (registry dir, (template file name, content digest)...)
_RUNS: dict[tuple, list[GuardFinding]] = {}


def run(templates: list[Path]) -> list[GuardFinding]:
    """Every rule of every rule set present, once over all ``templates`` (one cfn-guard run per rule source).
    The same templates (by file name and content) and rules give the same findings, so a process that asks again
    (``make nag`` and the test session assess one assembly for several reports) reuses the first run."""
    if not templates:
        return []
    key = (str(registry_dir()) if registry_present() else None,
           tuple((t.name, hashlib.sha256(t.read_bytes()).hexdigest()) for t in templates))
    if key not in _RUNS:
        _RUNS[key] = _run(templates)
    return list(_RUNS[key])


def _run(templates: list[Path]) -> list[GuardFinding]:
    if not binary().exists():
        raise RuntimeError(f"{binary()} is missing: run `npm ci` (package.json devDependencies: @cdklabs/cdk-validator-cfnguard)")
    sources = [(CONTROL_TOWER, [CT_RULES])]
    if registry_present():
        sources.append(("registry", sorted({r.file for r in registry_rules(str(registry_dir()))})))
    by_name: dict[tuple[str, str], list[GuardRule]] = {}
    for r in all_rules():
        by_name.setdefault((CONTROL_TOWER if r.rule_set == CONTROL_TOWER else "registry", r.name), []).append(r)
    findings = []
    for source, rule_paths in sources:
        cmd = [str(binary()), "validate", *[a for p in rule_paths for a in ("--rules", str(p))],
               *[a for t in templates for a in ("--data", str(t))], "--output-format", "json", "--show-summary", "none", "--structured"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode not in (0, 19) or not proc.stdout.strip().startswith("["):
            raise RuntimeError(f"cfn-guard did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        for result in json.loads(proc.stdout):
            template = Path(result["name"]).name
            for check in result.get("not_compliant", []):
                name = check["Rule"]["name"]
                ids: set[str] = set()
                _resources(check, ids)
                for rule in by_name.get((source, name), []):
                    for lid in sorted(ids) or [""]:
                        findings.append(GuardFinding(rule.rule_set, name, rule.control, template, lid, _message(check)))
    return sorted(set(findings), key=lambda f: (f.template, f.logical_id, f.rule_set, f.rule))


def passed_rules(templates: list[Path], findings: list[GuardFinding]) -> dict[str, int]:
    """rule set -> number of its rules (that exist) with no finding on these templates."""
    failing = {(f.rule_set, f.rule) for f in findings}
    out: dict[str, int] = {}
    for r in all_rules():
        out.setdefault(r.rule_set, 0)
        out[r.rule_set] += (r.rule_set, r.name) not in failing
    return out


# ---- skips (compliance/guard-skips.yaml) --------------------------------------------------------------------

@dataclass(frozen=True)
class GuardSkip:
    rule: str  # the rule name cfn-guard reports
    resource: str  # construct path glob, <region> for the region
    reason: str
    rule_sets: tuple[str, ...]  # the rule sets it applies to (empty: all that carry the rule)
    false_positive: bool
    controls: str = ""


@lru_cache(maxsize=1)
def skips() -> tuple[GuardSkip, ...]:
    data = yaml.safe_load(SKIPS_FILE.read_text()) or {}
    return tuple(
        GuardSkip(s["rule"], s["resource"], s["reason"].strip(), tuple(s.get("rule_sets", ())), bool(s.get("false_positive")))
        for s in data.get("skips", [])
    )


def skip_for(rule_set: str, rule: str, path: str, region: str) -> GuardSkip | None:
    generic = path.replace(f"-{region}/", "-<region>/").replace(f"-{region}", "-<region>")
    for s in skips():
        if s.rule == rule and (not s.rule_sets or rule_set in s.rule_sets) and fnmatch.fnmatchcase(generic, s.resource):
            return s
    return None


def controls_for(rule_set: str, name: str) -> dict[str, list[str]]:
    """framework (hipaa | nist | pci_321) -> ids that ``rule_set`` maps rule ``name`` to."""
    out: dict[str, list[str]] = {"hipaa": [], "nist": [], "pci_321": []}
    for r in all_rules():
        if r.rule_set != rule_set or r.name != name:
            continue
        if rule_set == CONTROL_TOWER:
            for text in r.controls:
                framework, _, ids = text.partition(": ")
                key = "nist" if "NIST" in framework and "Rev 5" in framework else "pci_321" if "PCI" in framework and "3.2.1" in framework else ""
                if key:
                    out[key] += [i.strip() for i in ids.split(",")]
        else:
            key = {"hipaa-security": "hipaa", "NIST800-53Rev5": "nist", "PCI-DSS-3-2-1": "pci_321"}.get(rule_set)
            if key:
                out[key] += list(r.controls)
    return out


@dataclass(frozen=True)
class Assessed:
    finding: GuardFinding
    stack: str
    region: str
    path: str  # construct path; /<stack>/(template) for a finding on no one resource
    skip: GuardSkip | None


def assess(outdir: Path) -> list[Assessed]:
    """Every cfn-guard finding on the assembly at ``outdir``, with its resource's construct path and its skip."""
    from tools.nag import assembly  # late: assembly imports packs, which imports the app's stacks

    artifacts = assembly.stacks_of(outdir)
    files = assembly.template_files(outdir)
    by_file = {f.name: name for name, f in files.items()}
    paths = {name: assembly.logical_id_paths(outdir, a) for name, a in artifacts.items()}
    out = []
    for f in run(sorted(files.values())):
        stack = by_file[f.template]
        region = assembly.region_of(artifacts[stack])
        path = paths[stack].get(f.logical_id) or f"/{stack}/" + (f.logical_id or "(template)")
        out.append(Assessed(f, stack, region, path, skip_for(f.rule_set, f.rule, path, region)))
    return out
