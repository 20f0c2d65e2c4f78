"""The app as `cdk synth` runs it: one stack set per region, region-only env, clear config errors."""

from __future__ import annotations

import json

from tests.conftest import APP_REGIONS, run_app

NETWORK_STACKS = [f"GptOss-Network-{r}" for r in APP_REGIONS]


def test_one_stack_set_per_region(platform_app):
    assert set(NETWORK_STACKS) <= set(platform_app.stacks())
    for region in APP_REGIONS:
        assert platform_app.manifest_env(f"GptOss-Network-{region}") == f"aws://unknown-account/{region}"


def test_every_stack_is_tagged_with_the_project(platform_app):
    """``Tags.of(app)`` tags every taggable resource of every stack (those whose template carries ``Tags``; with
    ``@aws-cdk/core:explicitStackTags`` the stacks themselves are not tagged). Every such resource of every stack
    is checked, and each stack must have some, so the test fails if the tag is dropped anywhere."""
    assert len(platform_app.stacks()) >= 8
    for stack in platform_app.stacks():
        tagged = [(lid, r) for lid, r in platform_app.template(stack)["Resources"].items() if "Tags" in r.get("Properties", {})]
        assert tagged, f"{stack} has no tagged resource"
        for lid, r in tagged:
            tags = r["Properties"]["Tags"]
            values = tags.get("project") if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}.get("project")
            assert values == "gpt-oss-platform", (stack, lid, r["Type"])


def test_unknown_region_fails_at_once_with_the_key_and_the_valid_regions(tmp_path):
    result = run_app(tmp_path, regions="mars-1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: context key 'regions': 'mars-1' is not a supported region; "
        "valid regions: ap-northeast-1, ap-south-1, us-east-1, us-east-2, us-west-2"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "manifest.json").exists()


def test_explicit_account_synthesizes_without_credentials_or_lookups(tmp_path):
    result = run_app(
        tmp_path,
        env_overrides={"CDK_DEFAULT_ACCOUNT": "123456789012"},
        regions="ap-northeast-1",
        permissions_boundary="arn:aws:iam::123456789012:policy/platform-boundary",
        role_name_prefix="plat-",
        consumer_principals="arn:aws:iam::123456789012:role/app",
        operator_principals="123456789012",
        auditor_principals="123456789012",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stack = "GptOss-Network-ap-northeast-1"
    assert result.manifest_env(stack) == "aws://123456789012/ap-northeast-1"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "missing" not in manifest  # no context lookups were requested
    azs = sorted(
        r["Properties"]["AvailabilityZone"]
        for r in result.template(stack)["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    )
    assert azs == ["ap-northeast-1a", "ap-northeast-1c"]
    # governance from config reaches every role of every stack, including custom-resource provider roles
    roles = [
        (stack, r["Properties"])
        for stack in result.stacks()
        for r in result.template(stack)["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
    ]
    assert len(roles) >= 8
    for stack, props in roles:
        assert props["PermissionsBoundary"] == "arn:aws:iam::123456789012:policy/platform-boundary", stack
        assert props["RoleName"].startswith("plat-GptOss"), stack
    proxy = result.template("GptOss-Proxy-ap-northeast-1")
    assert {"ConsumerRoleArn", "OperatorRoleArn", "AuditorRoleArn"} <= set(proxy["Outputs"])
    assert result.validation_report()["pluginReports"] == [] or all(
        not p["violations"] for p in result.validation_report()["pluginReports"]
    )
