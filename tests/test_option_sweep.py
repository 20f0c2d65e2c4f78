"""Every documented option synthesizes (issue 21 §2): each key of README's configuration table set to a realistic
non-default value, grouped into a few synths; every region the catalog lists with its own defaults. All five nag
packs (run by app.py) and cfn-lint must be clean, and every IAM statement passes tools/iam_check
(tests/test_iam_definitions.py holds the findings other branches are fixing).

The groups are synthesized in parallel subprocesses (app.py, exactly as `cdk synth` runs it) once per module. The
regions reuse the session's ``all_regions_app`` (one synth of every catalog region), shown below to be each region
with its defaults alone.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ROOT, SynthResult, project_context, run_app
from tests.test_iam_definitions import is_expected
from tools import iam_check

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()
EXISTING_VPC = {
    "vpc_id": "vpc-0a1b2c3d4e5f67890",
    "vpc_cidr": "10.30.0.0/16",
    "availability_zones": ["us-east-2a", "us-east-2b"],
    "isolated_subnet_ids": ["subnet-0a1b2c3d4e5f67890", "subnet-0a1b2c3d4e5f67891"],
    "route_table_ids": ["rtb-0a1b2c3d4e5f67890", "rtb-0a1b2c3d4e5f67891"],
}

#: group name -> context (values as the CLI passes them: strings, JSON for objects). Together they set every key of
#: README's table to a non-default value (checked below); keys that exclude each other sit in different groups.
GROUPS: dict[str, dict[str, str]] = {
    "models": {
        "regions": "us-east-1",
        "sagemaker_models": "gpt-oss-20b,gpt-oss-120b",
        "instance_types": json.dumps({"gpt-oss-20b": "ml.g6e.2xlarge", "gpt-oss-120b": "ml.g6e.12xlarge"}),
        "autoscaling_min_capacity": "0",
        "autoscaling_max_capacity": "3",
        "scale_to_zero": "true",
        "model_data_urls": json.dumps({m: f"s3://example-model-mirror/{m}/" for m in ("gpt-oss-20b", "gpt-oss-120b")}),
        "tiktoken_encodings_base": "/opt/ml/model",
        "s3_prefix_list_id": "pl-63a5400a",
        "routes": json.dumps({"gpt-oss-20b": {"max_tokens": 4096, "max_reasoning_effort": "medium", "handoff": "gpt-oss-120b", "budget_mode": "harmony", "max_reasoning_tokens": 2048}}),
        "handoff_daily_cap": "50",
        "handoff_on_high_effort": "true",
        "guardrail_policy": "strict",
        "guardrail_stream_mode": "fast",
        "guardrail_first_batch_chars": "0",
        "compliance": "pci,hipaa",
        "front_door": "private-api",
    },
    "bedrock": {
        "regions": "us-west-2,us-east-2",
        "region_overrides": json.dumps({"us-west-2": {"sagemaker_models": []}, "us-east-2": {"sagemaker_models": ["gpt-oss-20b"], "bedrock_models": ["gpt-oss-120b"],
                                                      "bedrock_inference_profiles": ["gpt-oss-120b"], "existing_vpc": EXISTING_VPC}}),
        "bedrock_models": "gpt-oss-20b,gpt-oss-120b",
        "interface_endpoints": "sagemaker.runtime,bedrock-runtime,execute-api,xray,sts,logs,monitoring,kms,sagemaker.api,bedrock",
        "api_client_cidrs": "10.99.0.0/16",
        "api_client_security_groups": "sg-0a1b2c3d4e5f67890",
        "streaming": "false",
        "timeout": "29",
        "memory_size": "2048",
        "reserved_concurrent_executions": "5",
        "throttling_rate_limit": "50",
        "throttling_burst_limit": "100",
        "max_body_bytes": "1048576",
        "escalate_principals": "arn:aws:iam::111122223333:role/escalation",
        "log_retention": "731",
        "api_consumers": json.dumps({"team-a": {"rate_limit": 10, "burst_limit": 20, "quota_per_day": 5000}}),
        "configure_account_logging_role": "false",
    },
    "governance": {
        "regions": "ap-northeast-1",
        "account": "111122223333",
        "availability_zones": "ap-northeast-1a,ap-northeast-1c,ap-northeast-1d",
        "vpc_cidr": "10.42.0.0/18",
        "max_azs": "3",
        "flow_log_retention": "90",
        "removal_policy": "destroy",
        "consumer_principals": "arn:aws:iam::111122223333:role/app",
        "operator_principals": "111122223333",
        "auditor_principals": "444455556666",
        "operator_require_mfa": "false",
        "principal_org_id": "o-abcdef1234",
        "principal_arns": "arn:aws:iam::111122223333:role/ops-*",
        "operator_principal_arns": "arn:aws:iam::111122223333:role/ops-*",
        "auditor_principal_arns": "arn:aws:iam::111122223333:role/audit-*",
        "auditor_require_mfa": "false",
        "audit_trail": "true",
        "alarm_emails": "ops@example.com",
        "permissions_boundary": "arn:aws:iam::111122223333:policy/platform-boundary",
        "role_name_prefix": "team-",
        "builtin_cloud_formation_validation": "true",
        "cost_requests_per_month": "250000",
        "cost_prompt_tokens": "2000",
        "cost_answer_tokens": "800",
        "cost_seconds_per_request": "30",
    },
}

#: nag findings other branches are fixing (issue 21 §1.6): (group, pack rule, construct path pattern) -> owner
EXPECTED_NAG: dict[tuple[str, str, str], str] = {
}
#: cfn-lint findings of documented options, (rule, template file pattern) -> owner
EXPECTED_LINT: dict[tuple[str, str], str] = {
    ("W3010", "GptOss-Network-*.template.json"): (
        "found by this sweep: availability_zones (a documented key) writes literal AZ names into the subnets and "
        "cfn-lint warns 'Avoid hardcoding availability zones'; the subnets need a cfn-lint skip with the reason "
        "(gptoss_constructs._compliance.skip_scanner_checks) when AZs are given; owner: hardening (constructs/network.py)"
    ),
}
#: regions whose defaults fail today (issue 21 §1.6), with the owning fix
EXPECTED_REGION_FAILURES = {
}


def readme_keys() -> set[str]:
    """The keys of README's configuration table (as tests/test_docs.py reads them)."""
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return {k for row in re.findall(r"^\| ([^|]+) \|", table, re.M) for k in re.findall(r"`([a-z0-9_]+)`", row)}


def test_the_groups_set_every_documented_key():
    keys = {k for group in GROUPS.values() for k in group}
    keys |= {k for g in GROUPS.values() for o in json.loads(g.get("region_overrides", "{}")).values() for k in o}
    assert readme_keys() - keys == set(), "a key of README's table has no value in the sweep"
    assert keys - readme_keys() == set()


@pytest.mark.parametrize("name", list(GROUPS))
def test_every_group_is_valid_config(name):
    """The context of each group passes the app's own validation (fast; the synths below need this)."""
    from stacks.config import load_config

    load_config(project_context(**GROUPS[name]).get)


def _catalog_regions() -> list[str]:
    from gptoss_constructs import catalog

    return list(catalog.supported_regions())


@pytest.mark.parametrize(
    "region",
    [pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=EXPECTED_REGION_FAILURES[r])) if r in EXPECTED_REGION_FAILURES else r for r in _catalog_regions()],
)
def test_every_catalog_region_is_valid_with_its_defaults_alone(region):
    """`-c regions=X` on top of cdk.json, nothing else: the per-region defaults must be a valid configuration."""
    from stacks.config import load_config

    load_config(project_context(regions=region).get)


def test_every_documented_vpc_cidr_prefix_builds_a_network():
    """README, vpc_cidr: 'a private range, /16 to /19' for two AZs. The longest documented prefix builds a two-AZ
    network (this sweep found that /24 did not: two /20 subnets need a /19)."""
    from aws_cdk import App, Environment, Stack

    from gptoss_constructs.network import PrivateNetwork

    stack = Stack(App(), "T", env=Environment(region="us-east-1"))
    PrivateNetwork(stack, "Net", vpc_cidr="10.42.0.0/19", max_azs=2)


def test_fails_when_the_vpc_cidr_cannot_hold_a_subnet_per_az():
    from stacks.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"context key 'vpc_cidr': vpc_cidr 10.42.0.0/22 cannot hold 2 isolated subnets of /20 \(one per AZ\); use a /19 or larger range"):
        load_config(project_context(vpc_cidr="10.42.0.0/22").get)
    with pytest.raises(ConfigError, match=r"cannot hold 3 isolated subnets of /20 \(one per AZ\); use a /18 or larger"):
        load_config(project_context(vpc_cidr="10.42.0.0/19", max_azs="3").get)


# ---- the synths ---------------------------------------------------------------------------------------------

_SYNTHS: dict[str, SynthResult] = {}


@pytest.mark.parametrize(
    "region",
    [pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=EXPECTED_REGION_FAILURES[r])) if r in EXPECTED_REGION_FAILURES else r for r in _catalog_regions()],
)
def test_the_session_all_regions_app_is_each_region_with_its_defaults_alone(region):
    """The session's ``all_regions_app`` (tests/conftest.py: every catalog region in one synth, each hosting what it
    can) has, region by region, exactly the configuration `-c regions=X` alone produces. So the nag and cfn-lint
    tests over that app (tests/test_nag_report.py, tests/test_lint.py) and the IAM check below cover every region
    with its defaults, without another synth per region."""
    from stacks.config import load_config
    from tests.conftest import all_regions_context

    alone = load_config(project_context(regions=region).get).for_region(region)
    assert load_config(project_context(**all_regions_context()).get).for_region(region) == alone


def test_every_iam_statement_of_every_region_matches_the_service_authorization_reference(all_regions_app):
    assert {f"GptOss-Proxy-{r}" for r in _catalog_regions()} <= set(all_regions_app.stacks())
    findings = iam_check.check(all_regions_app.outdir)
    assert [str(f) for f in findings if not f.acknowledged and not is_expected(f)] == []


_LINT: dict[str, tuple[list[Path], list[dict]]] = {}  # group -> (templates linted, cfn-lint findings)


def _synth_and_lint(name: str, outdir: Path) -> tuple[SynthResult, tuple[list[Path], list[dict]]]:
    """One group's synth, then cfn-lint over its templates in the same worker (overlapping the other synths)."""
    from tools import lint

    result = run_app(outdir, **GROUPS[name])
    files = lint.templates(outdir) if (outdir / "manifest.json").exists() else []
    return result, (files, lint.cfn_lint(files) if files else [])


@pytest.fixture(scope="module")
def synths(tmp_path_factory) -> dict[str, SynthResult]:
    if not _SYNTHS:
        with ThreadPoolExecutor(max_workers=len(GROUPS)) as pool:
            futures = {name: pool.submit(_synth_and_lint, name, tmp_path_factory.mktemp(f"cdk.out.sweep-{name}")) for name in GROUPS}
            for name, future in futures.items():
                _SYNTHS[name], _LINT[name] = future.result()
    return _SYNTHS


def _nag_findings(result: SynthResult) -> list[tuple[str, str]]:
    report = result.validation_report()
    return [(v["ruleName"], c["constructPath"]) for p in report["pluginReports"] for v in p["violations"] for c in v["violatingConstructs"]]


def _expected_nag(group: str, rule: str, path: str) -> bool:
    import fnmatch

    return any(g == group and rule.endswith(r) and fnmatch.fnmatchcase(path, p) for g, r, p in EXPECTED_NAG)


@pytest.mark.parametrize("name", list(GROUPS))
def test_synthesizes_with_every_nag_pack_clean(name, synths):
    result = synths[name]
    findings = _nag_findings(result)
    unexpected = [f for f in findings if not _expected_nag(name, *f)]
    assert unexpected == [], result.stderr[-3000:]
    if not findings:  # an expected nag error stops synth after the templates are written
        assert result.returncode == 0, result.stderr[-3000:]
    assert result.stacks()


def test_expected_nag_findings_are_still_present(synths):
    """When this fails, the fix of an EXPECTED_NAG entry has merged: delete the entry."""
    gone = [key for key in EXPECTED_NAG if not any(_expected_nag(key[0], *f) for f in _nag_findings(synths[key[0]]))]
    assert gone == []


def test_cfn_lint_is_clean_on_every_sweep_template(synths):
    import fnmatch

    from tools import lint

    assert {name: sorted(files) for name, (files, _) in _LINT.items()} == {name: lint.templates(r.outdir) for name, r in synths.items()}
    found = [(f["Rule"]["Id"], f["Level"], f["Message"], Path(f["Filename"]).name) for _, findings in _LINT.values() for f in findings]
    expected = lambda f: any(f[0] == rule and fnmatch.fnmatchcase(f[3], pattern) for rule, pattern in EXPECTED_LINT)  # noqa: E731
    assert [f for f in found if not expected(f)] == []
    gone = [key for key in EXPECTED_LINT if not any(f[0] == key[0] and fnmatch.fnmatchcase(f[3], key[1]) for f in found)]
    assert gone == [], "fixed: delete these EXPECTED_LINT entries"


@pytest.mark.parametrize("name", list(GROUPS))
def test_every_iam_statement_matches_the_service_authorization_reference(name, synths):
    findings = iam_check.check(synths[name].outdir)
    assert [str(f) for f in findings if not f.acknowledged and not is_expected(f)] == []
