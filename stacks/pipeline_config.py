"""The deploy pipeline's configuration (``-c pipeline=<file>``): source, stages and approvals.

A YAML or JSON file, read once by ``app.py``; see README "Deploy pipeline" and ``examples/pipeline.yaml``.
Each stage reuses the platform's own configuration (``stacks.config.load_config``) with the stage's account and
regions, so a bad region or setting fails here with the same message ``cdk synth`` gives for the plain app.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from gptoss_constructs import catalog
from stacks.config import ConfigError, PlatformConfig, load_config

_ACCOUNT = re.compile(r"\d{12}")
# CodePipeline stage and action names: [A-Za-z0-9.@\-_]+, 1-100 characters (CodePipeline API reference,
# PutApprovalResult stageName/actionName). A stage name also prefixes its stacks' names, so keep it short.
_STAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,24}")
# CodeConnections / CodeStar Connections ARNs (both service prefixes are accepted by CodePipeline's
# CodeStarSourceConnection action, ConnectionArn).
_CONNECTION_ARN = re.compile(r"arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+")
_REPO = re.compile(r"[\w.-]+/[\w./-]+")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

SOURCE_TYPES = ("connection", "s3")


@dataclass(frozen=True)
class PipelineSource:
    """Where the pipeline reads the project from: a CodeConnections repository (GitHub, GitLab, Bitbucket) or
    an S3 object (a zip of the repository). CodeCommit is deliberately not offered as the default."""

    type: str
    connection_arn: str | None = None
    repository: str | None = None
    branch: str = "main"
    bucket: str | None = None
    object_key: str | None = None


@dataclass(frozen=True)
class PipelineStageConfig:
    """One deployment stage: an account, its regions, whether it is production, and who may approve it."""

    name: str
    account: str
    regions: tuple[str, ...]
    prod: bool
    approvers: tuple[str, ...]
    context: Mapping[str, Any]
    platform: PlatformConfig = field(compare=False, repr=False)


@dataclass(frozen=True)
class PipelineConfig:
    account: str
    region: str
    source: PipelineSource
    stages: tuple[PipelineStageConfig, ...]
    pipeline_name: str = "gpt-oss-platform"
    make_args: str = ""


def read_pipeline_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a pipeline file (YAML or JSON; JSON is YAML)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"context key 'pipeline': no pipeline file at {str(path)!r} (copy examples/pipeline.yaml and edit it)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"context key 'pipeline': {path} is not valid YAML/JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"context key 'pipeline': {path} must hold a mapping with pipeline, source and stages")
    return raw


def _require(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] in (None, "", []):
        raise ConfigError(f"pipeline file: {where}.{key} is required")
    return raw[key]


def _source(raw: Mapping[str, Any]) -> PipelineSource:
    kind = str(_require(raw, "type", "source"))
    if kind not in SOURCE_TYPES:
        raise ConfigError(f"pipeline file: source.type must be one of {', '.join(SOURCE_TYPES)}, got {kind!r} "
                          "(CodeCommit is not offered: use a CodeConnections repository or an S3 object)")
    if kind == "connection":
        arn = str(_require(raw, "connection_arn", "source"))
        if not _CONNECTION_ARN.fullmatch(arn):
            raise ConfigError(f"pipeline file: source.connection_arn must be a CodeConnections ARN "
                              f"(arn:aws:codeconnections:<region>:<account>:connection/<id>), got {arn!r}")
        repo = str(_require(raw, "repository", "source"))
        if not _REPO.fullmatch(repo):
            raise ConfigError(f"pipeline file: source.repository must be owner/name, got {repo!r}")
        return PipelineSource(type=kind, connection_arn=arn, repository=repo, branch=str(raw.get("branch") or "main"))
    bucket = str(_require(raw, "bucket", "source"))
    if not _BUCKET.fullmatch(bucket):
        raise ConfigError(f"pipeline file: source.bucket must be an S3 bucket name, got {bucket!r}")
    return PipelineSource(type=kind, bucket=bucket, object_key=str(_require(raw, "object_key", "source")))


def _stage(raw: Mapping[str, Any], index: int, pipeline_account: str, base_context: Callable[[str], Any]) -> PipelineStageConfig:
    where = f"stages[{index}]"
    name = str(_require(raw, "name", where))
    if not _STAGE_NAME.fullmatch(name):
        raise ConfigError(f"pipeline file: {where}.name must start with a letter and hold 1-25 letters, digits or "
                          f"hyphens (it names CodePipeline stages and prefixes stack names), got {name!r}")
    where = f"stage {name!r}"
    account = str(_require(raw, "account", where))
    if not _ACCOUNT.fullmatch(account):
        raise ConfigError(f"pipeline file: {where}: account must be a 12-digit AWS account id, got {account!r}")
    regions = raw.get("regions")
    if isinstance(regions, str):
        regions = [r.strip() for r in regions.split(",") if r.strip()]
    if not regions:
        raise ConfigError(f"pipeline file: {where}: regions is required (a list such as [us-east-1])")
    prod = bool(raw.get("prod", False))
    approvers = tuple(str(a) for a in (raw.get("approvers") or ()))
    if prod and not approvers:
        raise ConfigError(f"pipeline file: {where} is prod and names no approvers: list the IAM role ARNs (in the "
                          f"pipeline account {pipeline_account}) that may approve its deploys under approvers")
    for arn in approvers:
        m = _ROLE_ARN.fullmatch(arn)
        if not m or m.group(1) != pipeline_account:
            raise ConfigError(f"pipeline file: {where}: approver {arn!r} must be an IAM role ARN in the pipeline "
                              f"account {pipeline_account} (arn:aws:iam::{pipeline_account}:role/<name>)")
    overrides = dict(raw.get("context") or {})
    for reserved in ("account", "regions", "pipeline"):
        if reserved in overrides:
            raise ConfigError(f"pipeline file: {where}: context.{reserved} is set by the stage itself; remove it")
    overrides.update(account=account, regions=",".join(regions))

    def context(key: str) -> Any:
        return overrides[key] if key in overrides else base_context(key)

    try:
        platform = load_config(context)
    except ConfigError as err:
        raise ConfigError(f"pipeline file: {where}: {err}") from None
    return PipelineStageConfig(name=name, account=account, regions=tuple(platform.regions), prod=prod,
                               approvers=approvers, context=overrides, platform=platform)


def load_pipeline_config(raw: Mapping[str, Any], base_context: Callable[[str], Any]) -> PipelineConfig:
    """Validates a pipeline file's mapping; ``base_context`` is the app's context (cdk.json and ``-c``)."""
    pipe = raw.get("pipeline") or {}
    account = str(_require(pipe, "account", "pipeline"))
    if not _ACCOUNT.fullmatch(account):
        raise ConfigError(f"pipeline file: pipeline.account must be a 12-digit AWS account id, got {account!r}")
    region = str(_require(pipe, "region", "pipeline"))
    supported = catalog.supported_regions()
    if region not in supported:
        raise ConfigError(f"pipeline file: pipeline.region {region!r} is not a supported region; valid regions: {', '.join(supported)}")
    source = _source(_require(raw, "source", "pipeline file"))
    stages_raw = _require(raw, "stages", "pipeline file")
    if not isinstance(stages_raw, list):
        raise ConfigError("pipeline file: stages must be a list of {name, account, regions, prod, approvers}")
    stages = tuple(_stage(s, i, account, base_context) for i, s in enumerate(stages_raw))
    targets = [(s.account, r) for s in stages for r in s.regions]
    clash = sorted({f"{a}/{r}" for a, r in targets if targets.count((a, r)) > 1})
    if clash:
        raise ConfigError(f"pipeline file: two stages deploy to the same account and region ({', '.join(clash)}); the "
                          "platform's stack names are per region, so each (account, region) belongs to one stage")
    names = [s.name for s in stages]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"pipeline file: stage names must be unique, {', '.join(dupes)} repeats")
    name = str(pipe.get("name") or "gpt-oss-platform")
    if not re.fullmatch(r"[A-Za-z0-9.@_-]{1,100}", name):
        raise ConfigError(f"pipeline file: pipeline.name must match [A-Za-z0-9.@_-]{{1,100}}, got {name!r}")
    return PipelineConfig(account=account, region=region, source=source, stages=stages, pipeline_name=name,
                          make_args=str(pipe.get("make_args") or ""))


def dumps_stage_context(stage: PipelineStageConfig, region: str) -> str:
    """The ``-c`` arguments of one region of a stage, for the make targets that run in CodeBuild (preflight,
    verify): the stage's context overrides with ``regions`` narrowed to ``region``."""
    context = {**stage.context, "regions": region}
    return " ".join(f"-c {k}={v if isinstance(v, str) else json.dumps(v, separators=(',', ':'))}" for k, v in sorted(context.items()))
