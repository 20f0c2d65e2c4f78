"""The reviewer reports (tools/nag_report.py + tools/nag/, `make nag`): totals recomputed independently from
the same cloud assembly, provenance, control mapping from the packs' own rule texts, the resources cdk-nag does
not evaluate, the exceptions register, and the zero-findings bar for every configuration of the matrix and
every supported region."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from stacks.compliance import NAG_PACK_CLASSES, NAG_PACKS
from tools import nag_report
from tools.nag import matrix
from tools.nag.assembly import scanner_skips
from tools.nag.packs import FRAMEWORKS, controls_of, packs
from tools.nag.render import NOT_ASSESSED, register_rows, render_register
from tools.nag.stamp import read_csv_rows, stamp_of

CONFIG = matrix.BY_NAME["default"]


@pytest.fixture(scope="module")
def platform_checks(platform_app):
    return nag_report.run_checks(platform_app.outdir)


@pytest.fixture(scope="module")
def platform_reports(platform_app, platform_checks, tmp_path_factory):
    reports = nag_report.build_reports(platform_app.outdir, platform_checks, configuration="default")
    out = tmp_path_factory.mktemp("reports")
    nag_report.write_reports(reports, out, matrix.provenance(CONFIG, date="2026-01-01 00:00 UTC"), CONFIG.description)
    return reports, out


def _expected_counts(app, checks, stacks):
    """pack -> Counter(pass, fail, acknowledged), computed without the report code."""
    counts = {pack: Counter() for pack in NAG_PACKS}
    for rec in checks["records"]:
        if rec["stack"] in stacks and rec["result"] == "compliant":
            counts[rec["pack"]]["pass"] += 1
    for plugin in app.validation_report()["pluginReports"]:
        if plugin["pluginName"] in counts:
            for v in plugin["violations"]:
                for c in v["violatingConstructs"]:
                    if c["constructPath"].split("/")[0] in stacks:
                        counts[plugin["pluginName"]]["fail"] += 1
    for stack in stacks:
        for acks in app.acknowledgments(stack).values():
            for finding in acks:
                pack_id = finding.split("::")[0]
                if pack_id in counts:
                    counts[pack_id]["acknowledged"] += 1
    return counts


def test_pack_ids_and_classes_come_from_the_packs():
    """Issue 15 item 6: no hand-written pack tables; ids are each pack's readPackName, classes its jsii name."""
    assert list(packs()) == list(NAG_PACKS) == [cls(verbose=True).read_pack_name for cls in NAG_PACK_CLASSES]
    assert list(packs().values()) == [cls.__name__ for cls in NAG_PACK_CLASSES]
    assert NAG_PACKS == ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless")


@pytest.mark.parametrize(
    ("info", "controls"),
    [
        ("The trail does not have CloudWatch logs enabled - (Control IDs: 164.308(a)(3)(ii)(A), 164.312(b)). Use CloudWatch.",
         ["164.308(a)(3)(ii)(A)", "164.312(b)"]),
        ("x - (Control IDs: AC-2(4), AU-2b, CM-5(1)(b)). y", ["AC-2(4)", "AU-2b", "CM-5(1)(b)"]),
        ("x - (Control IDs: 2.2, 10.1). y", ["2.2", "10.1"]),
        ("The CloudWatch alarm does not have ... enabled - (Control ID: 164.312(b)).", ["164.312(b)"]),
        ("The IAM user, role, or group uses AWS managed policies.", []),
    ],
)
def test_controls_are_read_from_the_rule_text(info, controls):
    assert controls_of(info) == controls


def test_every_compliance_acknowledgment_maps_to_its_packs_controls(platform_reports, platform_checks):
    """The HIPAA / NIST 800-53 / PCI DSS packs state each rule's controls in its info text ("(Control IDs: ...)",
    cdklabs/cdk-nag src/packs/hipaa-security.ts, nist-800-53-r5.ts, pci-dss-321.ts)."""
    reports, _ = platform_reports
    info = {p["pack"]: p["ruleInfo"] for p in platform_checks["packs"]}
    acked = [r for rep in reports.values() for r in rep.acknowledged()]
    assert acked
    for row in acked:
        expected = controls_of(info[row.pack][row.rule.split("[")[0]])
        assert row.controls.split("; ") == expected if expected else row.controls == "", row
        if row.pack in FRAMEWORKS:
            assert row.controls, f"{row.rule} on {row.resource_path} maps to no control"


def test_one_report_per_region_with_every_stack(platform_app, platform_reports):
    reports, out = platform_reports
    by_region = {}
    for stack in platform_app.stacks():
        by_region.setdefault(platform_app.manifest_env(stack).rsplit("/", 1)[-1], []).append(stack)
    assert {r: sorted(rep.stacks) for r, rep in reports.items()} == {r: sorted(s) for r, s in by_region.items()}
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{r}.{x}" for r in by_region for x in ("md", "csv"))


def test_report_totals_match_the_assembly(platform_app, platform_checks, platform_reports):
    reports, _ = platform_reports
    for region, report in reports.items():
        expected = _expected_counts(platform_app, platform_checks, set(report.stacks))
        got = report.counts_by_pack()
        assert {p: (c["pass"], c["fail"], c["acknowledged"]) for p, c in got.items()} == {
            p: (c["pass"], c["fail"], c["acknowledged"]) for p, c in expected.items()
        }, region
        assert sum(c["pass"] for c in got.values()) > 0


def test_report_states_provenance_and_scope(platform_reports):
    reports, out = platform_reports
    versions = matrix.tool_versions()
    for region in reports:
        md = (out / f"{region}.md").read_text()
        assert "| Date | 2026-01-01 00:00 UTC |" in md
        assert "| Commit | `" in md
        for tool in ("cdk-nag", "aws-cdk-lib", "CDK CLI (aws-cdk)"):
            assert f"| {tool} | {versions[tool]} |" in md
        assert versions["CDK CLI (aws-cdk)"] == json.loads((matrix.ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"].lstrip("^~")
        assert '| Context | `{"regions":"us-east-1,us-west-2"}` |' in md
        for tool in ("checkov", "cfn-lint", "cfn-guard", "@cdklabs/cdk-validator-cfnguard"):
            assert f"| {tool} | {versions[tool]} |" in md and versions[tool] != "not installed", tool
        csv_text = (out / f"{region}.csv").read_text()
        assert stamp_of(csv_text)["date"] == "2026-01-01 00:00 UTC" and "cfn-guard" in csv_text.splitlines()[2]
        assert f"| Scope | region {region}; stacks " in md


def test_markdown_summary_and_csv_agree_with_the_rows(platform_reports):
    reports, out = platform_reports
    for region, report in reports.items():
        rows = read_csv_rows((out / f"{region}.csv").read_text())
        assert len(rows) == len(report.rows)
        md = (out / f"{region}.md").read_text()
        for pack, c in report.counts_by_pack().items():
            csv_counts = Counter(r["result"] for r in rows if r["pack"] == pack)
            assert (csv_counts["pass"], csv_counts["fail"], csv_counts["acknowledged"]) == (c["pass"], c["fail"], c["acknowledged"])
            assert f"| {pack} | {len(report.rules_in_pack[pack])} |" in md
        for severity in nag_report.SEVERITIES:
            assert f"| {severity} |" in md
        for row in rows:
            if row["result"] == "acknowledged":
                assert row["acknowledged_at"] and len(row["reason"]) >= 60


def test_resources_nag_does_not_evaluate_are_listed_and_assessed(platform_app, platform_reports):
    """aws-cdk-lib's restrict_default_security_group provider is a plain CfnResource Lambda + role (tree.json fqn
    aws-cdk-lib.CfnResource): cdk-nag's rules check CfnFunction/CfnRole instances only, so the report lists it with
    a manual assessment."""
    reports, out = platform_reports
    listed = {(i.resource_type, i.resource_path) for rep in reports.values() for i in rep.unevaluated}
    assert ("AWS::Lambda::Function", "/GptOss-Network-us-east-1/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler") in listed
    assert ("AWS::IAM::Role", "/GptOss-Network-us-east-1/Custom::VpcRestrictDefaultSGCustomResourceProvider/Role") in listed
    md = (out / "us-east-1.md").read_text()
    assert "## Resources cdk-nag does not evaluate" in md and NOT_ASSESSED not in md
    assert "ec2:RevokeSecurityGroupIngress" in md  # the role's facts are read from the template


def test_exceptions_register_holds_every_acknowledgment_and_scanner_skip(platform_app, platform_reports):
    reports, _ = platform_reports
    rows = register_rows(reports.values())
    md, text = render_register(rows)
    nag_rows = [r for r in rows if r["kind"].startswith("cdk-nag acknowledgment")]
    # every acknowledged row of every report is represented by a register row (same rule name and reason)
    covered = {(r["rule"], r["reason"]) for r in nag_rows}
    for rep in reports.values():
        for row in rep.acknowledged():
            rule = row.rule[len(row.pack) + 1:] if row.rule.startswith(row.pack + "-") else row.rule
            assert (rule.replace(rep.region, "<region>"), row.reason) in covered
    skips = scanner_skips(platform_app.outdir)
    assert skips, "the app has checkov/cfn-lint skips in template metadata"
    for skip in skips:
        assert any(r["kind"].startswith(f"{skip.tool} skip") and r["rule"] == skip.check and r["reason"] == skip.reason for r in rows), skip
    assert all(r["reason"] for r in rows)
    assert len(read_csv_rows(text)) == len(rows)
    assert f"Total: {len(rows)} " in md
    hipaa = [r for r in nag_rows if "HIPAA.Security" in r["packs"]]
    assert hipaa and all(r["hipaa"] for r in hipaa)


def test_recheck_agrees_with_synth_and_every_acknowledgment_is_used(platform_reports):
    reports, _ = platform_reports
    assert {r: (rep.discrepancies, rep.unmatched_acknowledgments) for r, rep in reports.items()} == {r: ([], []) for r in reports}
    assert [row for rep in reports.values() for row in rep.failures()] == []


def test_no_open_finding_in_any_pack_in_any_supported_region(all_regions_app):
    """Errors and warnings alike, every stack, every region of the catalog (one session synth)."""
    from gptoss_constructs import catalog

    regions = {all_regions_app.manifest_env(s).rsplit("/", 1)[-1] for s in all_regions_app.stacks()}
    assert regions == set(catalog.supported_regions())
    open_findings = [
        f"{p['pluginName']} {v['ruleName']} ({v['severity']}) at {c['constructPath']}"
        for p in all_regions_app.validation_report()["pluginReports"]
        for v in p["violations"]
        for c in v["violatingConstructs"]
    ]
    assert open_findings == []


def test_all_regions_report_has_no_failure_or_discrepancy(all_regions_app):
    reports = nag_report.build_reports(all_regions_app.outdir)
    summary = {region: (len(rep.failures()), rep.discrepancies, rep.unmatched_acknowledgments) for region, rep in reports.items()}
    assert summary == {region: (0, [], []) for region in reports}


def test_matrix_names_every_shipped_configuration():
    assert list(matrix.BY_NAME) == ["default", "scale-to-zero", "existing-vpc", "roles-boundary", "audit-trail"]
    makefile = (matrix.ROOT / "Makefile").read_text()
    assert f"NAG_CONFIGS  ?= {','.join(matrix.BY_NAME)}" in makefile
    assert matrix.BY_NAME["roles-boundary"].cdk_args()[:2] == ["-c", "regions=us-east-1"]
    assert ["-c", "existing_vpc=" + json.dumps(matrix.EXAMPLE_EXISTING_VPC)] == matrix.BY_NAME["existing-vpc"].cdk_args()[2:]


@pytest.mark.parametrize(
    ("args", "regions", "rest"),
    [
        ([], [], []),
        (["-c", "regions=us-east-2", "-c", "max_azs=3"], ["us-east-2"], ["-c", "max_azs=3"]),
        (["--context", "regions=ap-south-1,us-east-2"], ["ap-south-1", "us-east-2"], []),
        (["--context=regions=us-east-2"], ["us-east-2"], []),
    ],
)
def test_split_regions_takes_regions_out_of_cdk_args(args, regions, rest):
    assert nag_report.split_regions(args) == (regions, rest)


def test_committed_reports_cover_the_matrix_and_are_clean():
    """reports/nag/ as `make nag` last wrote it: every configuration x region, no open finding, no unassessed
    resource, and the register (regenerate with `make nag` after changing acknowledgments)."""
    reports = matrix.ROOT / "reports" / "nag"
    index = (reports / "README.md").read_text()
    for cfg in matrix.CONFIGURATIONS:
        for region in cfg.regions:
            md = (reports / cfg.name / f"{region}.md").read_text()
            assert "**Open findings: 0**" in md and NOT_ASSESSED not in md, (cfg.name, region)
            assert f"[{cfg.name}/{region}.md]({cfg.name}/{region}.md)" in index
    assert (reports / "exceptions.md").exists() and (reports / "exceptions.csv").exists()
    assert not list(reports.glob("*.md")) or sorted(p.name for p in reports.glob("*.md")) == ["README.md", "exceptions.md"]


def test_matrix_run_writes_reports_index_and_register(platform_app, tmp_path):
    """`make nag` = run_matrix over every configuration; here over the session assembly as `default`, no synth."""
    build = tmp_path / "build"
    build.mkdir()
    (build / "default").symlink_to(platform_app.outdir)
    out = tmp_path / "reports"
    assert nag_report.run_matrix(["default"], out, build, [], synth=False) == 0
    assert sorted(p.name for p in (out / "default").iterdir()) == ["us-east-1.csv", "us-east-1.md", "us-west-2.csv", "us-west-2.md"]
    index = (out / "README.md").read_text()
    assert "| default | us-east-1 | 5 |" in index and "cfn-guard open" in index and "[exceptions.md](exceptions.md)" in index
    assert (out / "exceptions.md").read_text().startswith("# Exceptions register")


# ---- issue 22: provenance, the structured register, PCI DSS v4.0 --------------------------------------------

REPORTS = matrix.ROOT / "reports" / "nag"


def _artifacts():
    return sorted(p for p in REPORTS.rglob("*") if p.suffix in (".md", ".csv"))


def test_every_committed_artifact_names_a_real_clean_commit_that_precedes_it():
    """Issue 22 item 1: every report, CSV, the index and the register carry a stamp whose commit exists, is an
    ancestor of HEAD (the commit whose code produced them, committed before them) and is not a draft."""
    import subprocess

    commits = set()
    for path in _artifacts():
        stamp = stamp_of(path.read_text())
        assert stamp.get("date") and stamp.get("commit"), f"{path} has no stamp"
        assert "draft" not in stamp, f"{path} is a DRAFT"
        commits.add(stamp["commit"])
    assert len(commits) == 1, commits
    commit = commits.pop()
    assert len(commit) == 40 and all(c in "0123456789abcdef" for c in commit), commit
    git = ["git", "-C", str(matrix.ROOT)]
    assert subprocess.run([*git, "cat-file", "-e", f"{commit}^{{commit}}"]).returncode == 0, f"{commit} does not exist"
    assert subprocess.run([*git, "merge-base", "--is-ancestor", commit, "HEAD"]).returncode == 0, f"{commit} is not in HEAD's history"


def test_strip_stamp_leaves_everything_but_the_stamp():
    from tools.nag.stamp import csv_stamp, md_stamp, strip_stamp

    prov = {"date": "d", "commit": "c", "versions": {"cdk-nag": "1"}, "context": {"regions": "us-east-1"}}
    md = "# Title\n\n" + md_stamp(prov) + "| a | b |\n"
    assert strip_stamp(md) == "# Title\n\n\n| a | b |\n"
    assert strip_stamp(csv_stamp(prov) + "x,y\n1,2\n") == "x,y\n1,2\n"
    assert stamp_of(md) == {"date": "d", "commit": "c"} == stamp_of(csv_stamp(prov))
    assert read_csv_rows(csv_stamp(prov) + "x,y\n1,2\n") == [{"x": "1", "y": "2"}]


def test_fails_when_the_tree_is_dirty_unless_a_draft_is_asked_for(monkeypatch):
    """`make nag` refuses a dirty tree (exit 2, nothing written); `NAG_DRAFT=1` (--draft) goes on and stamps the
    artifacts DRAFT, not for sign-off."""
    from tools.nag.stamp import DRAFT, md_stamp

    calls = []
    monkeypatch.setattr(matrix, "tree_state", lambda: ("a" * 40, "constructs/x.py"))
    monkeypatch.setattr(nag_report, "run_matrix", lambda *a, **k: calls.append(k) or 0)
    assert nag_report.main(["--matrix", "--configurations", "default"]) == 2 and calls == []
    assert nag_report.main(["--matrix", "--configurations", "default", "--draft"]) == 0 and calls[0]["draft"] is True
    monkeypatch.setattr(matrix, "tool_versions", lambda: {"cdk-nag": "x"})
    prov = matrix.provenance(CONFIG, draft=True)
    assert prov["draft"] and prov["commit"] == "a" * 40 + " + uncommitted changes"
    assert DRAFT in md_stamp(prov)


def test_fails_when_a_register_field_is_missing():
    from tools.nag import register

    record = {"id": "EX-1", "kind": "checkov skip", "rule": "CKV_AWS_1", "resource_path": "/x",
              **{f: "v" for f in register.REQUIRED}, "risk_rating": "low"}
    assert register.missing_fields([record]) == []
    assert register.missing_fields([{**record, "approver": ""}]) == ["EX-1 (checkov skip CKV_AWS_1 on /x): approver missing"]
    assert register.missing_fields([{**record, "risk_rating": "severe"}])


def test_every_register_record_is_complete_and_flags_its_placeholders(platform_reports):
    """Issue 22 item 3: owner, approver, dates, risk, compensating control and v4.0/HIPAA/NIST ids on every
    record of every kind; the shipped approvals are placeholders, and every record says so."""
    from tools.nag import register

    rows = register_rows(platform_reports[0].values())
    assert register.missing_fields(rows) == []
    kinds = {r["kind"].split(" (")[0] for r in rows}
    assert kinds >= {"cdk-nag acknowledgment", "checkov skip", "cfn-lint skip", "cfn-guard skip"}
    assert all(r["placeholders"] == "owner, approver, approval_date, review_date" for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_mismapped_controls_are_remapped_and_marked(platform_reports):
    """Issue 22 item 4: LambdaConcurrency / LambdaDLQ are availability controls (the packs map them to audit
    controls 164.312(b)); the API cache row is not applicable."""
    rows = {(r["rule"], r["kind"]): r for r in register_rows(platform_reports[0].values())}
    for rule in ("LambdaConcurrency", "LambdaDLQ"):
        row = rows[(rule, "cdk-nag acknowledgment")]
        assert "164.312(b)" not in row["hipaa"] and row["hipaa"] == "164.308(a)(7)(i)"
        assert "remapped" in row["mapping"] and row["pci_dss_v40"].startswith("n/a")
    assert ("APIGWCacheEnabledAndEncrypted", "cdk-nag acknowledgment (not applicable)") in rows


def test_crosswalk_covers_every_pci_321_id_the_rule_sets_use(platform_checks):
    """Issue 22 item 2: every v3.2.1 id of cdk-nag's PCI pack, the Guard Rules Registry PCI rule set and the
    Control Tower metadata has a v4.0 row, and each row states its basis."""
    from tools.nag import crosswalk, guard

    ids = set()
    for pack in platform_checks["packs"]:
        if pack["pack"] == "PCI.DSS.321":
            for info in pack["ruleInfo"].values():
                ids.update(controls_of(info))
    ids.update(c for r in guard.all_rules() if r.rule_set == "PCI-DSS-3-2-1" for c in r.controls)
    ids.update(i for r in guard.control_tower_rules() for i in guard.controls_for(r.rule_set, r.name)["pci_321"])
    assert ids and crosswalk.unmapped(sorted(ids)) == []
    assert all(m["basis"] in ("judgement", "summary-of-changes") and m["v4"] for m in crosswalk.mappings().values())


def test_crosswalk_moves_mfa_and_audit_log_requirements():
    from tools.nag import crosswalk

    assert crosswalk.to_v4("8.3") == "8.4.1; 8.4.2; 8.4.3"
    assert crosswalk.to_v4("10.5.3; 2.2") == "2.2.1; 10.3.3"
    assert crosswalk.to_v4("9.9") == "?9.9"


def test_readme_cites_pci_dss_v4_not_retired_321_numbers():
    """PCI DSS requirements are cited by their v4.0 numbers (MFA: 8.4.x, not 3.2.1's 8.3)."""
    import re

    readme = (matrix.ROOT / "README.md").read_text()
    assert re.findall(r"PCI DSS (?:v?3\.2\.1 )?req\. 8\.3\b", readme) == []
    assert "PCI DSS v4.0 req. 8.4.1" in readme and "compliance/pci-dss-v3.2.1-to-v4.0.yaml" in readme
