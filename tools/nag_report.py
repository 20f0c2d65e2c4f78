"""cdk-nag review reports: every rule checked on every resource, per configuration and region, as Markdown and
CSV, plus the matrix index and one exceptions register (``reports/nag/``).

Sources (all inside one cloud assembly per configuration):

* ``validation-report.json`` — what cdk-nag reported at synth (only rules WITH open violations); the authority
  for what failed.
* ``<Stack>.metadata.json`` — every acknowledgment (``aws:cdk:acknowledged-rules``: finding id -> reason) and
  the logical id -> construct path map; the templates' Metadata holds the checkov / cfn-lint skips.
* the templates + ``tree.json`` — cdk-nag 3 no longer writes its v2 per-pack ``NagReport`` CSVs, so
  ``tools/nag_checks.js`` re-runs the very same packs over the templates rebuilt in their construct tree and
  records each rule's own result (the passes) and its ``info`` text (the controls it maps to). The re-check is
  cross-checked against ``validation-report.json``; differences are listed ("Reconciliation notes").

The jobs live in ``tools/nag/`` (packs, recheck, assembly, model, render, matrix); this module is the CLI.

usage::

    python -m tools.nag_report --matrix [--configurations default,audit-trail] [-- extra cdk synth args]
    python -m tools.nag_report --cdk-out cdk.out --out reports/nag/mine      # one existing assembly
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from tools.nag import matrix, register
from tools.nag.assembly import acknowledgments, open_violations, stacks_of  # noqa: F401  (re-exported)
from tools.nag.model import CSV_FIELDS, RESULTS, RegionReport, Row, build_reports  # noqa: F401
from tools.nag.packs import SEVERITIES, packs  # noqa: F401
from tools.nag.recheck import node_modules_dir, run_checks  # noqa: F401
from tools.nag.render import register_rows, render_csv, render_index, render_markdown, render_register

ROOT = Path(__file__).resolve().parent.parent


def write_reports(reports: dict[str, RegionReport], out: Path, provenance: dict | None = None, description: str = "") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for region, report in reports.items():
        for suffix, text in (("md", render_markdown(report, provenance, description)), ("csv", render_csv(report, provenance))):
            path = out / f"{region}.{suffix}"
            path.write_text(text)
            written.append(path)
    return written


def split_regions(args: list[str]) -> tuple[list[str], list[str]]:
    """Pulls ``-c regions=...`` / ``--context regions=...`` out of cdk args: (regions, remaining args)."""
    regions, rest, i = [], [], 0
    while i < len(args):
        arg = args[i]
        value = None
        if arg in ("-c", "--context") and i + 1 < len(args) and args[i + 1].startswith("regions="):
            value, i = args[i + 1], i + 2
        elif arg.startswith("--context=regions="):
            value, i = arg[len("--context="):], i + 1
        else:
            rest.append(arg)
            i += 1
            continue
        regions += [r.strip() for r in value.split("=", 1)[1].split(",") if r.strip()]
    return regions, rest


def summarize(reports: dict[str, RegionReport]) -> int:
    failing = 0
    for region, report in reports.items():
        c = Counter(r.result for r in report.rows)
        guard_open = report.guard_open()
        print(f"{report.configuration or '-'} {region}: {c['pass']} pass, {c['fail']} fail, {c['acknowledged']} acknowledged "
              f"({len(report.discrepancies)} discrepancies, {len(report.unmatched_acknowledgments)} unmatched acks); "
              f"cfn-guard {len(guard_open)} open, {len(report.guard_findings) - len(guard_open)} skipped")
        for f, path in guard_open:
            print(f"  cfn-guard {f.rule_set} {f.rule} ({f.control}) open on {path}")
        failing += c["fail"] + len(report.discrepancies) + len(report.unmatched_acknowledgments) + len(guard_open)
    return failing


def run_matrix(names: list[str], out: Path, build: Path, cdk_args: list[str], synth: bool = True, draft: bool = False,
               stamp: dict | None = None) -> int:
    """Synthesizes every configuration, writes ``out/<configuration>/<region>.md|csv``, ``out/README.md`` and
    ``out/exceptions.md|csv``; non-zero if any configuration fails to synth or has any open finding, or a register
    record lacks a field. ``stamp`` (date/commit) overrides the stamp's values, for tests that regenerate."""
    extra_regions, rest = split_regions(cdk_args)
    entries, all_reports, failing = [], [], 0
    first = None
    for name in names:
        cfg = matrix.BY_NAME[name]
        if extra_regions and name == "default":
            cfg = matrix.Configuration(cfg.name, cfg.description, cfg.context, tuple(dict.fromkeys(cfg.regions + tuple(extra_regions))))
        outdir = build / name
        code = matrix.synth(cfg, outdir, rest) if synth else 0
        if not (outdir / "manifest.json").exists():
            print(f"{name}: synth failed ({code})", file=sys.stderr)
            failing += 1
            continue
        prov = matrix.provenance(cfg, draft=draft, **(stamp or {}))
        first = first or prov
        reports = build_reports(outdir, configuration=name)
        target = out / name
        for old in target.glob("*.*"):
            old.unlink()
        write_reports(reports, target, prov, cfg.description)
        failing += summarize(reports) + (1 if code else 0)
        for region, report in reports.items():
            entries.append({"report": report, "configuration": cfg, "link": f"{name}/{region}.md"})
            all_reports.append(report)
    if first:
        whole = matrix.provenance(None, draft=draft, **(stamp or {}))
        (out / "README.md").write_text(render_index(entries, matrix.NOT_IN_MATRIX, whole))
        rows = register_rows(all_reports)
        md, csv_text = render_register(rows, whole)
        (out / "exceptions.md").write_text(md)
        (out / "exceptions.csv").write_text(csv_text)
        missing = register.missing_fields(rows)
        for problem in missing:
            print(f"register: {problem} (compliance/approvals.yaml / assessments.yaml)", file=sys.stderr)
        failing += len(missing)
        if "default" in names:
            failing += write_guard_scp(out / "scp", matrix.BY_NAME["default"], matrix.provenance(matrix.BY_NAME["default"], draft=draft, **(stamp or {})))
    return 1 if failing else 0


def write_guard_scp(out: Path, configuration: "matrix.Configuration", provenance: dict) -> int:
    """The model-access guard as an SCP for ``configuration`` (``tools/guard_scp.py``): ``model-access-guard.json``,
    the document exactly as an organization attaches it, and a stamped README naming what produced it."""
    from aws_cdk import App

    from stacks.platform import build_app
    from tools import guard_scp
    from tools.nag.stamp import md_stamp
    from tools.preflight import config_from_args

    config = config_from_args(configuration.cdk_args(), "nag_report")
    if config is None:
        return 1
    path = guard_scp.write(out, config, build_app(App(), config))
    size = len(json.dumps(json.loads(path.read_text()), separators=(",", ":")))
    (out / "README.md").write_text(
        "# Model-access guard as a service control policy\n\n"
        "Generated by `make nag` (`tools/guard_scp.py`) for the configuration below; do not edit by hand.\n\n"
        + md_stamp(provenance)
        + f"[model-access-guard.json](model-access-guard.json) is an SCP document ({size} of the "
        f"{guard_scp.SCP_MAX_CHARACTERS} characters an SCP may hold) for the platform's accounts: it denies, to every "
        "principal but the proxy's role, the platform's SageMaker endpoints and gpt-oss on Bedrock without a guardrail, "
        "and on the proxy function direct invoke, function URLs, permissions for any principal but API Gateway and "
        "code or configuration changes outside a CloudFormation deploy, and changes to the proxy role's trust, "
        "policies, boundary and PassRole outside a deploy (README, \"Model access only through the "
        "platform\"). It uses ARN patterns, so it is written before any deploy; after the Guardrail stack is deployed, "
        "pin the guardrail version with `.venv/bin/python -m tools.guard_scp -c regions=... --guardrail-identifier "
        "<guardrail ARN>:<version>`. UNCONFIRMED(manual:scp-name-patterns) offline: the name patterns of the proxy's "
        "role and function.\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matrix", action="store_true", help="synthesize and report every configuration of the matrix")
    parser.add_argument("--configurations", default=",".join(matrix.BY_NAME), help="matrix configurations (comma-separated)")
    parser.add_argument("--no-synth", action="store_true", help="with --matrix: report the assemblies already in --build")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "nag", help="where the matrix assemblies go")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out", help="report this existing assembly (no --matrix)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default reports/nag, or reports/nag/adhoc)")
    parser.add_argument("--configuration", default="", help="configuration name to print in a single-assembly report")
    parser.add_argument("--draft", action="store_true",
                        help="allow a tree with uncommitted changes; every artifact is stamped 'DRAFT, not for sign-off'")
    parser.add_argument("cdk_args", nargs="*", help="extra cdk synth arguments (after --)")
    args = parser.parse_args(argv)
    if args.matrix:
        names = [n for n in args.configurations.split(",") if n]
        unknown = [n for n in names if n not in matrix.BY_NAME]
        if unknown:
            parser.error(f"unknown configuration(s) {', '.join(unknown)}; known: {', '.join(matrix.BY_NAME)}")
        commit, dirty = matrix.tree_state()
        if dirty and not args.draft:
            print(f"make nag: the working tree has uncommitted changes ({dirty}); the reports would name a commit "
                  "that does not hold their code. Commit first, or run `make nag NAG_DRAFT=1` for a local draft "
                  "(stamped 'DRAFT, not for sign-off').", file=sys.stderr)
            return 2
        return run_matrix(names, args.out or ROOT / "reports" / "nag", args.build, args.cdk_args, synth=not args.no_synth,
                          draft=args.draft)
    reports = build_reports(args.cdk_out, configuration=args.configuration)
    out = args.out or ROOT / "reports" / "nag" / "adhoc"
    for path in write_reports(reports, out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 1 if summarize(reports) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
