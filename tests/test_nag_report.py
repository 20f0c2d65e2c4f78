"""The reviewer report (tools/nag_report.py, `make nag`) and the zero-findings bar for every supported region.

The report's totals are recomputed here independently from the same cloud assembly: failures from
validation-report.json, acknowledgments from <stack>.metadata.json, passes from the re-check's raw results.
"""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from stacks.compliance import NAG_PACKS
from tools import nag_report


@pytest.fixture(scope="module")
def platform_checks(platform_app):
    return nag_report.run_checks(platform_app.outdir)


@pytest.fixture(scope="module")
def platform_reports(platform_app, platform_checks, tmp_path_factory):
    reports = nag_report.build_reports(platform_app.outdir, platform_checks)
    out = tmp_path_factory.mktemp("reports")
    nag_report.write_reports(reports, out)
    return reports, out


def _expected_counts(app, checks, stacks):
    """pack -> Counter(pass, fail, acknowledged), computed without the report code."""
    counts = {pack: Counter() for pack in NAG_PACKS}
    by_id = {pack_id: name for name, (pack_id, _) in nag_report.PACKS.items()}
    for rec in checks["records"]:
        if rec["stack"] in stacks and rec["result"] == "compliant":
            counts[by_id[rec["pack"]]]["pass"] += 1
    for plugin in app.validation_report()["pluginReports"]:
        if plugin["pluginName"] in by_id:
            for v in plugin["violations"]:
                for c in v["violatingConstructs"]:
                    if c["constructPath"].split("/")[0] in stacks:
                        counts[by_id[plugin["pluginName"]]]["fail"] += 1
    for stack in stacks:
        for acks in app.acknowledgments(stack).values():
            for finding in acks:
                pack_id = finding.split("::")[0]
                if pack_id in by_id:
                    counts[by_id[pack_id]]["acknowledged"] += 1
    return counts


def test_packs_of_the_report_are_the_packs_of_the_app():
    assert list(nag_report.PACKS) == list(NAG_PACKS)


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


def test_markdown_summary_and_csv_agree_with_the_rows(platform_reports):
    reports, out = platform_reports
    for region, report in reports.items():
        rows = list(csv.DictReader((out / f"{region}.csv").open()))
        assert len(rows) == len(report.rows)
        md = (out / f"{region}.md").read_text()
        for pack, c in report.counts_by_pack().items():
            csv_counts = Counter(r["result"] for r in rows if r["pack"] == pack)
            assert (csv_counts["pass"], csv_counts["fail"], csv_counts["acknowledged"]) == (
                c["pass"], c["fail"], c["acknowledged"]
            )
            assert f"| {pack} | {len(report.rules_in_pack[pack])} |" in md
        for severity in nag_report.SEVERITIES:
            assert f"| {severity} |" in md
        for row in rows:
            if row["result"] == "acknowledged":
                assert row["acknowledged_at"] and len(row["reason"]) >= 60


def test_recheck_agrees_with_synth_and_every_acknowledgment_is_used(platform_reports):
    reports, _ = platform_reports
    assert {r: (rep.discrepancies, rep.unmatched_acknowledgments) for r, rep in reports.items()} == {
        r: ([], []) for r in reports
    }
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
    summary = {
        region: (len(rep.failures()), rep.discrepancies, rep.unmatched_acknowledgments)
        for region, rep in reports.items()
    }
    assert summary == {region: (0, [], []) for region in reports}


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
