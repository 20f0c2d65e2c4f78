"""The deploy pipeline (``-c pipeline=<file>``): one CDK Pipelines stack in the pipeline account whose stages are
the platform's own stacks, built by the same ``build_region`` as ``cdk deploy --all`` (one definition, no copy)."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Environment, Stack, Stage, pipelines
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gptoss_constructs.governance import apply_role_governance
from gptoss_constructs.pipeline import PlatformPipeline, StageGates, StageVerifyRole
from stacks.pipeline_config import PipelineConfig, PipelineStageConfig, dumps_stage_context
from stacks.platform import build_region, stack_name

PIPELINE_STACK = "GptOss-Pipeline"


class PlatformStage(Stage):
    """One (account, region) of a pipeline stage: the region's platform stacks plus the stage's verify role."""

    def __init__(self, scope: Construct, id: str, *, stage: PipelineStageConfig, region: str, pipeline_account: str, **kwargs: Any) -> None:
        super().__init__(scope, id, env=Environment(account=stage.account, region=region), **kwargs)
        self.stacks = build_region(self, stage.platform, region)
        verify = Stack(self, stack_name("VerifyAccess", region), stack_name=stack_name("VerifyAccess", region),
                       env=Environment(account=stage.account, region=region),
                       description=f"gpt-oss-platform {region}: the role the deploy pipeline's verify step assumes")
        self.verify_role = StageVerifyRole(verify, "VerifyRole", stage=stage.name, pipeline_account=pipeline_account,
                                           role_name_prefix=stage.platform.role_name_prefix or "")
        boundary = stage.platform.permissions_boundary
        if boundary:  # the boundary only: a name prefix would break the name the pipeline assumes
            from aws_cdk import aws_iam as iam

            apply_role_governance(verify, permissions_boundary=iam.ManagedPolicy.from_managed_policy_arn(verify, "PermissionsBoundary", boundary))


def _source(config: PipelineConfig, scope: Construct) -> pipelines.CodePipelineSource:
    src = config.source
    if src.type == "connection":
        return pipelines.CodePipelineSource.connection(src.repository, src.branch, connection_arn=src.connection_arn)
    bucket = s3.Bucket.from_bucket_name(scope, "SourceBucket", src.bucket)
    return pipelines.CodePipelineSource.s3(bucket, src.object_key)


class PipelineStack(Stack):
    """The pipeline account's stack: the PlatformPipeline and, nested in it, every configured stage."""

    def __init__(self, scope: Construct, id: str, *, config: PipelineConfig, pipeline_file: str, **kwargs: Any) -> None:
        super().__init__(scope, id, env=Environment(account=config.account, region=config.region), **kwargs)
        extra = f" {config.make_args}" if config.make_args else ""
        self.pipeline = PlatformPipeline(
            self, "Pipeline", source=_source(config, self), pipeline_name=config.pipeline_name,
            synth_commands=[f"make lint CDK_ARGS='-c pipeline={pipeline_file}{extra}'"],
        )
        self.stages: dict[tuple[str, str], PlatformStage] = {}
        for stage in config.stages:
            regional = []
            for region in stage.regions:
                st = PlatformStage(self, f"{stage.name}-{region}", stage=stage, region=region, pipeline_account=config.account)
                self.stages[(stage.name, region)] = st
                cdk_args = dumps_stage_context(stage, region)
                regional.append((st, StageGates(name=stage.name, account=stage.account, region=region, cdk_args=cdk_args)))
            self.pipeline.add_platform_stage(stage.name, regional, prod=stage.prod, approvers=stage.approvers)
        self.pipeline.finish()


def build_pipeline(app: App, config: PipelineConfig, pipeline_file: str) -> PipelineStack:
    return PipelineStack(app, PIPELINE_STACK, config=config, pipeline_file=pipeline_file,
                         description="gpt-oss-platform deploy pipeline: gated synth, preflight, approval, deploy, verify")
